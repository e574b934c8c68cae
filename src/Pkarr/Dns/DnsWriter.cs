// Writes DNS wire format into a caller's span, with the reference encoder's name compression
// (shared spec §3.4.3): a dictionary from label-sequence suffix (byte-wise, case-sensitive) to the offset
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
    private readonly Dictionary<ReadOnlyMemory<byte>, int>? _names;

    // One compression dictionary per thread, reused: a new one per message was most of an encode's allocations.
    [ThreadStatic]
    private static Dictionary<ReadOnlyMemory<byte>, int>? t_spareNames;

    public DnsWriter(Span<byte> buffer, bool compress)
    {
        _buffer = buffer;
        _names = compress ? RentNames() : null;
    }

    /// <summary>Gives the compression dictionary back for the next message on this thread.</summary>
    public readonly void Dispose()
    {
        if (_names is not null)
        {
            _names.Clear();
            t_spareNames = _names;
        }
    }

    private static Dictionary<ReadOnlyMemory<byte>, int> RentNames()
    {
        var names = t_spareNames;
        t_spareNames = null;
        return names ?? new Dictionary<ReadOnlyMemory<byte>, int>(NameSuffixComparer.Instance);
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
                var suffix = name.SuffixWireMemory(i);
                if (names.TryGetValue(suffix, out int offset))
                {
                    WriteUInt16((ushort)(0xC000 | offset));
                    return;
                }

                if (Position <= MaxPointerOffset)
                {
                    names.Add(suffix, Position);
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

    private sealed class NameSuffixComparer : IEqualityComparer<ReadOnlyMemory<byte>>
    {
        public static readonly NameSuffixComparer Instance = new();

        public bool Equals(ReadOnlyMemory<byte> x, ReadOnlyMemory<byte> y) => x.Span.SequenceEqual(y.Span);

        // Every suffix of an owner name ends in the same 53-byte key label, so hashing whole suffixes reads that
        // label again for each one. The length and the first label tell suffixes apart just as well; Equals
        // still compares every byte.
        public int GetHashCode(ReadOnlyMemory<byte> obj)
        {
            var span = obj.Span;
            var hash = default(HashCode);
            hash.Add(span.Length);
            hash.AddBytes(span[..Math.Min(span.Length, span.IsEmpty ? 0 : 1 + span[0])]);
            return hash.ToHashCode();
        }
    }
}
