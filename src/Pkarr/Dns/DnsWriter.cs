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

    /// <summary>Writes the 4 or 16 bytes of an IPv4 or IPv6 address.</summary>
    public void WriteAddress(System.Net.IPAddress address)
    {
        if (Reserve(address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 4 : 16, out var span))
        {
            address.TryWriteBytes(span, out _);
        }
    }

    /// <summary>Writes one character-string holding the UTF-8 form of <paramref name="text"/>, encoded straight
    /// into the output; the caller knows its length (<paramref name="utf8Length"/>, at most 255).</summary>
    public void WriteCharacterString(string text, int utf8Length)
    {
        WriteByte((byte)utf8Length);
        if (Reserve(utf8Length, out var span))
        {
            System.Text.Encoding.UTF8.GetBytes(text, span);
        }
    }


    /// <summary>Writes one character-string: a length byte and up to 255 bytes.</summary>
    public void WriteCharacterString(scoped ReadOnlySpan<byte> value)
    {
        WriteByte((byte)value.Length);
        WriteBytes(value);
    }

    /// <summary>Writes a name; with <paramref name="compressible"/> it may become (or end in) a pointer and is remembered.</summary>
    public void WriteName(DnsName name, bool compressible) => WriteName(name.WireArray, 0, name.WireLength - 1, null, compressible);

    /// <summary>
    /// Writes the labels of <paramref name="name"/> followed by those of <paramref name="origin"/> (when not null) as
    /// one name, exactly as if the two had been joined first. The caller checks the joined length.
    /// </summary>
    public void WriteName(DnsName name, DnsName? origin, bool compressible) =>
        WriteName(name.WireArray, 0, name.WireLength - 1, origin, compressible);

    /// <summary>
    /// Writes the wire-form labels in <paramref name="source"/> (<paramref name="length"/> bytes from
    /// <paramref name="start"/>, no terminating zero) followed by those of <paramref name="origin"/> as one name.
    /// The compression table keeps a reference to <paramref name="source"/>: its bytes must not change while this
    /// writer is in use. The signing path writes owner names under the key this way, without joining them.
    /// </summary>
    public void WriteName(byte[] source, int start, int length, DnsName? origin, bool compressible)
    {
        var names = compressible ? _names : null;
        if (names is null)
        {
            // Uncompressed: the wire forms are the bytes to write, then the terminating zero.
            WriteBytes(source.AsSpan(start, length));
            if (origin is not null)
            {
                WriteBytes(origin.Wire);
            }

            WriteByte(0);
            return;
        }

        bool pointer = WriteLabels(names, source, start, length, origin)
            || (origin is not null && WriteLabels(names, origin.WireArray, 0, origin.WireLength - 1, null));
        if (!pointer)
        {
            WriteByte(0);
        }
    }

    /// <summary>
    /// Writes labels, each suffix (the rest of them, then all of <paramref name="origin"/>) either found in the
    /// table, which ends the name with a pointer (returns true), or remembered and written as one label.
    /// </summary>
    private bool WriteLabels(SuffixTable names, byte[] source, int start, int length, DnsName? origin)
    {
        var tail = origin is null ? default : origin.Wire;
        int end = start + length;
        for (int at = start; at < end; at += 1 + source[at])
        {
            var head = source.AsSpan(at, end - at);
            int hash = SuffixTable.Hash(head, head.Length + tail.Length);
            if (names.TryFind(head, tail, hash, out int offset))
            {
                WriteUInt16((ushort)(0xC000 | offset));
                return true;
            }

            if (Position <= MaxPointerOffset)
            {
                names.Add(source, at, end - at, origin, hash, Position);
            }

            WriteBytes(head[..(1 + head[0])]);
        }

        return false;
    }

    /// <summary>
    /// Writes a record's fixed fields after its owner name (type, class, TTL) and reserves its 16-bit RDLENGTH in one
    /// step; returns the length field's position for <see cref="TryEndLength"/>.
    /// </summary>
    public int BeginRecord(ushort type, ushort @class, uint ttl)
    {
        int at = Position + 8;
        if (Reserve(10, out var span))
        {
            BinaryPrimitives.WriteUInt16BigEndian(span, type);
            BinaryPrimitives.WriteUInt16BigEndian(span[2..], @class);
            BinaryPrimitives.WriteUInt32BigEndian(span[4..], ttl);
            span[8] = 0;
            span[9] = 0;
        }

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
    /// for each one; 8 bytes of the first label tell suffixes apart well enough), confirmed byte-wise. Entries
    /// keep where the bytes are (an array slice and an origin), never a copy of them.
    /// </summary>
    private sealed class SuffixTable
    {
        private int[] _buckets = new int[64]; // entry index + 1; 0 = empty
        private Entry[] _entries = new Entry[32];
        private int _count;

        /// <summary>Hash of a suffix of <paramref name="length"/> bytes whose first label starts <paramref name="head"/>.</summary>
        public static int Hash(ReadOnlySpan<byte> head, int length)
        {
            // The length and up to 8 bytes of the first label (its length byte and up to 7 of its bytes): only the
            // first label, which is whole in `head` however the suffix is split, so equal suffixes hash equally.
            int n = Math.Min(8, 1 + head[0]);
            ulong first = n == 8 ? BinaryPrimitives.ReadUInt64LittleEndian(head) : Pack(head[..n]);
            ulong hash = ((ulong)length * 0x9E3779B97F4A7C15UL) ^ (first * 0xC2B2AE3D27D4EB4FUL);
            return (int)(hash ^ (hash >> 29) ^ (hash >> 47));
        }

        private static ulong Pack(ReadOnlySpan<byte> bytes)
        {
            ulong value = 0;
            for (int i = bytes.Length - 1; i >= 0; i--)
            {
                value = (value << 8) | bytes[i];
            }

            return value;
        }

        public bool TryFind(ReadOnlySpan<byte> head, ReadOnlySpan<byte> rest, int hash, out int offset)
        {
            int mask = _buckets.Length - 1;
            for (int at = hash & mask; _buckets[at] != 0; at = (at + 1) & mask)
            {
                ref readonly var entry = ref _entries[_buckets[at] - 1];
                if (entry.Hash == hash && entry.Matches(head, rest))
                {
                    offset = entry.Offset;
                    return true;
                }
            }

            offset = 0;
            return false;
        }

        /// <summary>Adds a suffix that <see cref="TryFind"/> just did not find.</summary>
        public void Add(byte[] source, int start, int length, DnsName? origin, int hash, int offset)
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
            _entries[_count] = new Entry(source, start, length, origin, hash, offset, bucket);
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

        /// <summary><c>Length</c> bytes of labels in <c>Source</c> from <c>Start</c>, then all of <c>Origin</c>, written at <c>Offset</c>.</summary>
        private readonly record struct Entry(byte[] Source, int Start, int Length, DnsName? Origin, int Hash, int Offset, int Bucket)
        {
            /// <summary>Whether this suffix has the bytes of <paramref name="head"/> followed by <paramref name="rest"/>.</summary>
            public bool Matches(ReadOnlySpan<byte> head, ReadOnlySpan<byte> rest)
            {
                ReadOnlySpan<byte> mine = Source.AsSpan(Start, Length);
                var myRest = Origin is null ? default : Origin.Wire;
                if (mine.Length + myRest.Length != head.Length + rest.Length)
                {
                    return false;
                }

                // Both sides are two slices of equal total length: compare them piece by piece.
                while (!head.IsEmpty || !rest.IsEmpty)
                {
                    if (mine.IsEmpty)
                    {
                        mine = myRest;
                        myRest = default;
                    }

                    if (head.IsEmpty)
                    {
                        head = rest;
                        rest = default;
                    }

                    int n = Math.Min(mine.Length, head.Length);
                    if (!mine[..n].SequenceEqual(head[..n]))
                    {
                        return false;
                    }

                    mine = mine[n..];
                    head = head[n..];
                }

                return true;
            }
        }
    }
}
