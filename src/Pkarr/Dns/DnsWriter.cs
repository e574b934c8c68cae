// Writes DNS wire format into a caller's span, with the reference encoder's name compression
// (shared spec §3.4.3): a table from label-sequence suffix (byte-wise, case-sensitive) to the offset
// where it was first written; an entry is only added while the offset still fits a 14-bit pointer.
//
// The writer never fails half-way: when the span is too small it keeps counting without writing, so one
// pass tells the caller how many bytes a second pass needs (offsets, and hence compression, are identical).

using System.Buffers.Binary;

namespace Pkarr.Dns;

internal ref struct DnsWriter
{
    private const int MaxPointerOffset = 0x3FFF;

    private readonly Span<byte> _buffer;
    private readonly SuffixTable? _names;

    // One compression table per thread, reused: a new one per message was most of an encode's allocations.
    [ThreadStatic]
    private static SuffixTable? t_spareNames;

    public DnsWriter(Span<byte> buffer, bool compress)
    {
        _buffer = buffer;
        _names = compress ? RentNames() : null;
    }

    /// <summary>Gives the compression table back for the next message on this thread.</summary>
    public readonly void Dispose()
    {
        if (_names is not null)
        {
            _names.Clear();
            t_spareNames = _names;
        }
    }

    private static SuffixTable RentNames()
    {
        var names = t_spareNames;
        t_spareNames = null;
        return names ?? new SuffixTable();
    }

    /// <summary>Bytes written so far (or that would have been, once <see cref="Overflow"/> is set).</summary>
    public int Position { get; private set; }

    /// <summary>Whether the span was too small for everything written.</summary>
    public readonly bool Overflow => Position > _buffer.Length;

    public void WriteByte(byte value)
    {
        if (Reserve(1, out var span))
        {
            span[0] = value;
        }
    }

    public void WriteUInt16(ushort value)
    {
        if (Reserve(2, out var span))
        {
            BinaryPrimitives.WriteUInt16BigEndian(span, value);
        }
    }

    public void WriteUInt32(uint value)
    {
        if (Reserve(4, out var span))
        {
            BinaryPrimitives.WriteUInt32BigEndian(span, value);
        }
    }

    public void WriteBytes(scoped ReadOnlySpan<byte> value)
    {
        if (Reserve(value.Length, out var span))
        {
            value.CopyTo(span);
        }
    }

    /// <summary>Writes one character-string: a length byte and up to 255 bytes.</summary>
    public void WriteCharacterString(scoped ReadOnlySpan<byte> value)
    {
        WriteByte((byte)value.Length);
        WriteBytes(value);
    }

    /// <summary>Writes a name; with <paramref name="compressible"/> it may become (or end in) a pointer and is remembered.</summary>
    public void WriteName(DnsName name, bool compressible)
    {
        var names = compressible ? _names : null;
        for (int i = 0; i < name.LabelCount; i++)
        {
            if (names is not null)
            {
                var suffix = name.SuffixWire(i);
                int hash = SuffixTable.Hash(suffix);
                if (names.TryFind(suffix, hash, out int offset))
                {
                    WriteUInt16((ushort)(0xC000 | offset));
                    return;
                }

                if (Position <= MaxPointerOffset)
                {
                    names.Add(name, i, hash, Position);
                }
            }

            var label = name.Label(i);
            WriteByte((byte)label.Length);
            WriteBytes(label);
        }

        WriteByte(0);
    }

    /// <summary>Reserves a 16-bit length field; returns its position for <see cref="TryEndLength"/>.</summary>
    public int BeginLength()
    {
        int at = Position;
        WriteUInt16(0);
        return at;
    }

    /// <summary>Fills the length field reserved at <paramref name="at"/> with the number of bytes written since.</summary>
    /// <returns>False when that count does not fit 16 bits.</returns>
    public readonly bool TryEndLength(int at)
    {
        int length = Position - at - 2;
        if (length > ushort.MaxValue)
        {
            return false;
        }

        if (at + 2 <= _buffer.Length)
        {
            BinaryPrimitives.WriteUInt16BigEndian(_buffer.Slice(at), (ushort)length);
        }

        return true;
    }

    private bool Reserve(int count, out Span<byte> span)
    {
        int start = Position;
        Position += count;
        if (Position > _buffer.Length)
        {
            span = default;
            return false;
        }

        span = _buffer.Slice(start, count);
        return true;
    }

    /// <summary>
    /// Suffixes written so far and where: open addressing on a hash of the suffix's length and first label (every
    /// owner-name suffix ends in the same 53-byte key label, so hashing all its bytes would read that label again
    /// for each one), confirmed byte-wise. Entries keep the name and label index, never a copy of the bytes.
    /// </summary>
    private sealed class SuffixTable
    {
        private int[] _buckets = new int[64]; // entry index + 1; 0 = empty
        private Entry[] _entries = new Entry[32];
        private int _count;

        public static int Hash(ReadOnlySpan<byte> suffix)
        {
            uint hash = (uint)suffix.Length * 0x9E3779B1u;
            foreach (byte b in suffix[..(1 + suffix[0])])
            {
                hash = (hash ^ b) * 16777619u;
            }

            return (int)(hash ^ (hash >> 15));
        }

        public bool TryFind(ReadOnlySpan<byte> suffix, int hash, out int offset)
        {
            int mask = _buckets.Length - 1;
            for (int at = hash & mask; _buckets[at] != 0; at = (at + 1) & mask)
            {
                ref readonly var entry = ref _entries[_buckets[at] - 1];
                if (entry.Hash == hash && entry.Name.SuffixWire(entry.Label).SequenceEqual(suffix))
                {
                    offset = entry.Offset;
                    return true;
                }
            }

            offset = 0;
            return false;
        }

        /// <summary>Adds a suffix that <see cref="TryFind"/> just did not find.</summary>
        public void Add(DnsName name, int label, int hash, int offset)
        {
            if (_count == _entries.Length)
            {
                Array.Resize(ref _entries, _count * 2);
            }

            if ((_count + 1) * 2 > _buckets.Length)
            {
                Rehash(_buckets.Length * 2);
            }

            int bucket = Place(hash);
            _entries[_count] = new Entry(name, label, hash, offset, bucket);
            _buckets[bucket] = ++_count;
        }

        public void Clear()
        {
            for (int i = 0; i < _count; i++)
            {
                _buckets[_entries[i].Bucket] = 0;
                _entries[i] = default;
            }

            _count = 0;
        }

        private int Place(int hash)
        {
            int mask = _buckets.Length - 1;
            int at = hash & mask;
            while (_buckets[at] != 0)
            {
                at = (at + 1) & mask;
            }

            return at;
        }

        private void Rehash(int size)
        {
            _buckets = new int[size];
            for (int i = 0; i < _count; i++)
            {
                int bucket = Place(_entries[i].Hash);
                _entries[i] = _entries[i] with { Bucket = bucket };
                _buckets[bucket] = i + 1;
            }
        }

        private readonly record struct Entry(DnsName Name, int Label, int Hash, int Offset, int Bucket);
    }
}
