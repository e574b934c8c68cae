// Writes DNS wire format into a caller's span, with the reference encoder's name compression
// (shared spec §3.4.3): a table from label-sequence suffix (byte-wise, case-sensitive) to the offset
// where it was first written; an entry is only added while the offset still fits a 14-bit pointer.
//
// The writer never fails half-way: when the span is too small it keeps counting without writing, so one
// pass tells the caller how many bytes a second pass needs (offsets, and hence compression, are identical).

using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Pkarr.Dns;

internal ref struct DnsWriter
{
    private const int MaxPointerOffset = 0x3FFF;

    private readonly Span<byte> _buffer;
    private readonly SuffixTable? _names;

    // One compression table per thread, reused from message to message: encoding then allocates nothing of its own.
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

    /// <summary>Writes the 12-byte message header (RFC 1035 §4.1.1): ID, flags and the four section counts.</summary>
    public void WriteHeader(ushort id, ushort flags, ushort questions, ushort answers, ushort authorities, ushort additionals)
    {
        if (Reserve(12, out var span))
        {
            BinaryPrimitives.WriteUInt16BigEndian(span, id);
            BinaryPrimitives.WriteUInt16BigEndian(span[2..], flags);
            BinaryPrimitives.WriteUInt16BigEndian(span[4..], questions);
            BinaryPrimitives.WriteUInt16BigEndian(span[6..], answers);
            BinaryPrimitives.WriteUInt16BigEndian(span[8..], authorities);
            BinaryPrimitives.WriteUInt16BigEndian(span[10..], additionals);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteByte(byte value)
    {
        if (Reserve(1, out var span))
        {
            span[0] = value;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
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
    /// Writes the wire-form labels in <paramref name="source"/> (<paramref name="length"/> bytes from
    /// <paramref name="start"/>, no terminating zero) followed by those of <paramref name="origin"/> as one name,
    /// exactly as if the two had been joined first (the caller checks the joined length).
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
        int tailSource = origin is null ? -1 : names.Source(origin.WireArray);
        int own = -1;
        int end = start + length;
        for (int at = start; at < end; at += 1 + source[at])
        {
            var head = source.AsSpan(at, end - at);
            int hash = SuffixTable.Hash(head, head.Length + tail.Length);
            if (names.TryFind(head, tail, tailSource, hash, out int offset))
            {
                WriteUInt16((ushort)(0xC000 | offset));
                return true;
            }

            if (Position <= MaxPointerOffset)
            {
                if (own < 0)
                {
                    own = names.Source(source);
                }

                names.Add(own, at, end - at, tailSource, tail.Length, hash, Position);
            }

            WriteBytes(head[..(1 + head[0])]);
        }

        return false;
    }

    /// <summary>
    /// Writes a record's fixed fields after its owner name (type, class, TTL) and reserves its 16-bit RDLENGTH in one
    /// step; returns the length field's position for <see cref="TryEndLength"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
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
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
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
    /// say where the bytes are (a slice of one of the message's name arrays, then the start of another), never a
    /// copy of them, and hold no references, so adding one is a plain store with no GC write barrier.
    /// </summary>
    private sealed class SuffixTable
    {
        private int[] _buckets = new int[64]; // entry index + 1; 0 = empty
        private Entry[] _entries = new Entry[32];
        private byte[]?[] _sources = new byte[]?[8];
        private int _count;
        private int _sourceCount;

        /// <summary>Hash of a suffix of <paramref name="length"/> bytes whose first label starts <paramref name="head"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Hash(ReadOnlySpan<byte> head, int length)
        {
            // The length and up to 8 bytes of the first label (its length byte and up to 7 of its bytes): only the
            // first label, which is whole in `head` however the suffix is split, so equal suffixes hash equally.
            // One unaligned read, masked to the label, when `head` has 8 bytes (nearly always: it holds the rest of
            // the name too).
            int n = Math.Min(8, 1 + head[0]);
            ulong first = head.Length >= 8
                ? BinaryPrimitives.ReadUInt64LittleEndian(head) & (ulong.MaxValue >> (64 - (8 * n)))
                : Pack(head[..n]);
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

        /// <summary>The index of <paramref name="array"/> among the arrays entries point into, added when new.</summary>
        public int Source(byte[] array)
        {
            // A builder's names come from one array and its origin from another: look at the last few first.
            for (int i = _sourceCount - 1; i >= Math.Max(0, _sourceCount - 4); i--)
            {
                if (ReferenceEquals(_sources[i], array))
                {
                    return i;
                }
            }

            if (_sourceCount == _sources.Length)
            {
                GrowSources();
            }

            _sources[_sourceCount] = array;
            return _sourceCount++;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private void GrowSources() => Array.Resize(ref _sources, _sources.Length * 2);

        /// <summary>
        /// Finds the suffix made of <paramref name="head"/> then <paramref name="rest"/>, which is the start of source
        /// <paramref name="restSource"/> (or -1 when it is not one of the sources).
        /// </summary>
        public bool TryFind(ReadOnlySpan<byte> head, ReadOnlySpan<byte> rest, int restSource, int hash, out int offset)
        {
            int mask = _buckets.Length - 1;
            for (int at = hash & mask; _buckets[at] != 0; at = (at + 1) & mask)
            {
                ref readonly var entry = ref _entries[_buckets[at] - 1];
                if (entry.Hash == hash && Matches(entry, head, rest, restSource))
                {
                    offset = entry.Offset;
                    return true;
                }
            }

            offset = 0;
            return false;
        }

        /// <summary>Adds a suffix that <see cref="TryFind"/> just did not find.</summary>
        public void Add(int source, int start, int length, int restSource, int restLength, int hash, int offset)
        {
            if ((_count + 1) * 2 > _buckets.Length)
            {
                Grow();
            }

            int bucket = Place(hash);
            _entries[_count] = new Entry(source, start, length, restSource, restLength, hash, offset, bucket);
            _buckets[bucket] = ++_count;
        }

        public void Clear()
        {
            for (int i = 0; i < _count; i++)
            {
                _buckets[_entries[i].Bucket] = 0;
            }

            Array.Clear(_sources, 0, _sourceCount);
            _count = 0;
            _sourceCount = 0;
        }

        /// <summary>Whether <paramref name="entry"/>'s suffix has the bytes of <paramref name="head"/> followed by <paramref name="rest"/>.</summary>
        private bool Matches(in Entry entry, ReadOnlySpan<byte> head, ReadOnlySpan<byte> rest, int restSource)
        {
            ReadOnlySpan<byte> mine = _sources[entry.Source].AsSpan(entry.Start, entry.Length);
            if (entry.RestSource == restSource && entry.RestLength == rest.Length)
            {
                // The same origin after both (owner names under the key): only the heads can differ.
                return mine.SequenceEqual(head);
            }

            ReadOnlySpan<byte> myRest = entry.RestSource < 0 ? default : _sources[entry.RestSource].AsSpan(0, entry.RestLength);
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

        /// <summary>Doubles the table (rare: 32 suffixes fit the first one); kept out of the inlined hot path.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private void Grow()
        {
            Array.Resize(ref _entries, _entries.Length * 2);
            int size = _buckets.Length * 2;
            _buckets = new int[size];
            for (int i = 0; i < _count; i++)
            {
                int bucket = Place(_entries[i].Hash);
                _entries[i] = _entries[i] with { Bucket = bucket };
                _buckets[bucket] = i + 1;
            }
        }

        /// <summary>
        /// <c>Length</c> bytes of labels at <c>Start</c> in source <c>Source</c>, then the first <c>RestLength</c> bytes
        /// of source <c>RestSource</c> (none when -1), written at <c>Offset</c>.
        /// </summary>
        private readonly record struct Entry(int Source, int Start, int Length, int RestSource, int RestLength, int Hash, int Offset, int Bucket);
    }
}
