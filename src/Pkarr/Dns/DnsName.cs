// A domain name as a sequence of labels (RFC 1035 §3.1). Labels are raw bytes, compared byte-wise and
// case-sensitively, because the pkarr reference never lower-cases names (shared spec §3.4.1, §11.7).
//
// Stored as one array in wire order without the terminating zero:
//
//   +-----+---------+-----+---------+
//   | len | label 0 | len | label 1 | ...      (each len 1..63; total + 1 terminator <= 255)
//   +-----+---------+-----+---------+
//
// so that every suffix at a label boundary is a slice: the encoder's compression table compares those
// slices, with no copying.

using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Pkarr.Dns;

/// <summary>A domain name: zero or more labels of 1–63 bytes, at most 255 bytes on the wire.</summary>
public sealed class DnsName : IEquatable<DnsName>
{
    /// <summary>Longest label in bytes (RFC 1035 §2.3.4).</summary>
    public const int MaxLabelLength = 63;

    /// <summary>Longest name on the wire in bytes, including length bytes and the terminating zero (RFC 1035 §2.3.4).</summary>
    public const int MaxWireLength = 255;

    // One array: the wire form (_wireLength bytes), then one byte per label, its offset in the wire form. One
    // allocation per name instead of two (a packet builder parses one name per record).
    private readonly byte[] _data;
    private readonly int _wireLength;

    private DnsName(ReadOnlySpan<byte> wire, ReadOnlySpan<byte> labelOffsets)
    {
        _data = new byte[wire.Length + labelOffsets.Length];
        wire.CopyTo(_data);
        labelOffsets.CopyTo(_data.AsSpan(wire.Length));
        _wireLength = wire.Length;
    }

    /// <summary>Takes <paramref name="data"/> (wire form, then label offsets) as it is.</summary>
    private DnsName(byte[] data, int wireLength)
    {
        _data = data;
        _wireLength = wireLength;
    }

    private ReadOnlySpan<byte> WireSpan => _data.AsSpan(0, _wireLength);

    private ReadOnlySpan<byte> Offsets => _data.AsSpan(_wireLength);

    /// <summary>The root name (no labels), written as a single zero byte.</summary>
    public static DnsName Root { get; } = new(ReadOnlySpan<byte>.Empty, ReadOnlySpan<byte>.Empty);

    /// <summary>Number of labels; 0 for the root.</summary>
    public int LabelCount => _data.Length - _wireLength;

    /// <summary>Whether this is the root name.</summary>
    public bool IsRoot => _data.Length == 0;

    /// <summary>Length on the wire when written uncompressed, including the terminating zero.</summary>
    public int WireLength => _wireLength + 1;

    /// <summary>The bytes of label <paramref name="index"/> (0 is the leftmost).</summary>
    /// <param name="index">Label index, 0 ≤ index &lt; <see cref="LabelCount"/>.</param>
    /// <returns>The label bytes, without the length byte.</returns>
    public ReadOnlySpan<byte> Label(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, LabelCount);
        int offset = _data[_wireLength + index];
        return _data.AsSpan(offset + 1, _data[offset]);
    }

    /// <summary>Parses a textual name leniently, as the reference does.</summary>
    /// <param name="text">Labels separated by '.'; empty labels collapse, "" and "." are the root, a trailing dot is allowed.</param>
    /// <returns>The name.</returns>
    /// <exception cref="FormatException">A label is longer than 63 bytes or the name longer than 255.</exception>
    public static DnsName Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out var name) ? name : throw Error.InvalidName(text);
    }

    /// <summary>Parses a textual name leniently: any character but '.' may appear in a label (including '*', '@', '_').</summary>
    /// <param name="text">Labels separated by '.'; empty labels collapse ("a..b" = "a.b"), "" and "." are the root.</param>
    /// <param name="name">The name, or <see cref="Root"/> on failure.</param>
    /// <returns>False when a label's UTF-8 form exceeds 63 bytes or the name exceeds 255 bytes on the wire.</returns>
    public static bool TryParse([NotNullWhen(true)] string? text, out DnsName name)
    {
        name = Root;
        Span<byte> wire = stackalloc byte[MaxWireLength - 1];
        if (text is null || !TryWriteWire(text, wire, out int length, out _))
        {
            return false;
        }

        name = FromWire(wire[..length]);
        return true;
    }

    /// <summary>
    /// Writes the labels of a textual name (the lenient rules of <see cref="TryParse"/>) in wire form without the
    /// terminating zero into <paramref name="destination"/>, which holds the longest name (254 bytes) or at least
    /// three bytes per character of <paramref name="text"/> plus one.
    /// </summary>
    /// <param name="text">The name.</param>
    /// <param name="destination">Where the labels go.</param>
    /// <param name="length">Bytes written.</param>
    /// <param name="lastLabel">Where the last label's length byte is (0 for the root).</param>
    /// <returns>False when a label's UTF-8 form exceeds 63 bytes or the name exceeds 255 bytes on the wire.</returns>
    internal static bool TryWriteWire(ReadOnlySpan<char> text, Span<byte> destination, out int length, out int lastLabel)
    {
        // The common case, all ASCII (one byte per character), in one pass: each label's length byte is reserved
        // at `at` and filled in when the label ends. Names are short: a plain loop beats vectorised searches.
        length = 0;
        lastLabel = 0;
        int at = 0;
        int next = 1;
        foreach (char c in text)
        {
            if (c != '.')
            {
                if (c >= 0x80)
                {
                    return TryWriteWireUtf8(text, destination, out length, out lastLabel);
                }

                if (next >= MaxWireLength - 1)
                {
                    return false;
                }

                destination[next++] = (byte)c;
                continue;
            }

            if (next > at + 1)
            {
                if (!EndLabel(destination, at, next))
                {
                    return false;
                }

                lastLabel = at;
                at = next++;
            }
        }

        if (next == at + 1)
        {
            length = at; // no label after the last dot (or none at all)
            return true;
        }

        length = next;
        lastLabel = at;
        return EndLabel(destination, at, next);

        static bool EndLabel(Span<byte> destination, int at, int next)
        {
            int count = next - at - 1;
            destination[at] = (byte)count;
            return count <= MaxLabelLength;
        }
    }

    private static bool TryWriteWireUtf8(ReadOnlySpan<char> text, Span<byte> destination, out int length, out int lastLabel)
    {
        length = 0;
        lastLabel = 0;
        while (!text.IsEmpty)
        {
            int dot = text.IndexOf('.');
            var label = dot < 0 ? text : text[..dot];
            text = dot < 0 ? default : text[(dot + 1)..];
            if (label.IsEmpty)
            {
                continue;
            }

            int byteCount = Encoding.UTF8.GetByteCount(label);
            if (byteCount > MaxLabelLength || length + 1 + byteCount + 1 > MaxWireLength)
            {
                return false;
            }

            lastLabel = length;
            destination[length] = (byte)byteCount;
            Encoding.UTF8.GetBytes(label, destination[(length + 1)..]);
            length += 1 + byteCount;
        }

        return true;
    }

    /// <summary>Builds a name from raw labels.</summary>
    /// <param name="labels">Labels, leftmost first; each 1–63 bytes.</param>
    /// <returns>The name.</returns>
    /// <exception cref="ArgumentException">A label is empty or too long, or the name is too long.</exception>
    public static DnsName FromLabels(IEnumerable<byte[]> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        Span<byte> wire = stackalloc byte[MaxWireLength];
        int length = 0;
        foreach (var label in labels)
        {
            ArgumentNullException.ThrowIfNull(label, nameof(labels));
            if (label.Length is 0 or > MaxLabelLength)
            {
                throw Error.InvalidLabel(label.Length);
            }

            if (length + 1 + label.Length + 1 > MaxWireLength)
            {
                throw Error.NameTooLong();
            }

            wire[length] = (byte)label.Length;
            label.CopyTo(wire.Slice(length + 1));
            length += 1 + label.Length;
        }

        return FromWire(wire[..length]);
    }

    /// <summary>This name followed by the labels of <paramref name="suffix"/> (e.g. a relative name under an origin).</summary>
    /// <param name="suffix">The name to append.</param>
    /// <returns>The concatenation.</returns>
    /// <exception cref="ArgumentException">The result would exceed 255 bytes.</exception>
    public DnsName Append(DnsName suffix)
        => TryAppend(suffix, out var result) ? result : throw Error.NameTooLong();

    /// <summary>This name followed by the labels of <paramref name="suffix"/>.</summary>
    /// <param name="suffix">The name to append.</param>
    /// <param name="result">The concatenation, or <see cref="Root"/> on failure.</param>
    /// <returns>False when the result would exceed 255 bytes.</returns>
    public bool TryAppend(DnsName suffix, out DnsName result)
    {
        ArgumentNullException.ThrowIfNull(suffix);
        result = Root;
        if (_wireLength + suffix._wireLength + 1 > MaxWireLength)
        {
            return false;
        }

        if (suffix.IsRoot)
        {
            result = this;
        }
        else if (IsRoot)
        {
            result = suffix;
        }
        else
        {
            // Both parts are valid names, so the label offsets are known: no scan of the joined bytes.
            Span<byte> wire = stackalloc byte[MaxWireLength];
            Span<byte> offsets = stackalloc byte[MaxWireLength / 2];
            WireSpan.CopyTo(wire);
            suffix.WireSpan.CopyTo(wire[_wireLength..]);
            Offsets.CopyTo(offsets);
            var theirs = suffix.Offsets;
            for (int i = 0; i < theirs.Length; i++)
            {
                offsets[LabelCount + i] = (byte)(_wireLength + theirs[i]);
            }

            result = new DnsName(wire[..(_wireLength + suffix._wireLength)], offsets[..(LabelCount + theirs.Length)]);
        }

        return true;
    }

    /// <summary>Whether the last labels of this name equal all labels of <paramref name="suffix"/> (byte-wise).</summary>
    /// <param name="suffix">The candidate suffix; the root is a suffix of every name.</param>
    /// <returns>True when this name is <paramref name="suffix"/> or below it.</returns>
    public bool EndsWith(DnsName suffix)
    {
        ArgumentNullException.ThrowIfNull(suffix);
        int skip = LabelCount - suffix.LabelCount;
        if (skip < 0)
        {
            return false;
        }

        return SuffixWire(skip).SequenceEqual(suffix.WireSpan);
    }

    /// <summary>
    /// The zone-file (presentation) form, which <see cref="ZoneFile"/> reads back: labels escaped (RFC 1035 §5.1),
    /// absolute with a trailing dot; with an <paramref name="origin"/>, written as under <c>$ORIGIN</c>: <c>@</c> for
    /// the origin itself, the labels before it without a trailing dot for a name under it (byte-exact comparison),
    /// and the absolute form for any other name.
    /// </summary>
    /// <param name="origin">The origin that names are relative to, or null for the absolute form.</param>
    /// <returns>The presentation text.</returns>
    public string ToPresentation(DnsName? origin = null)
        => origin is null ? Presentation.FormatName(this) : Presentation.FormatName(this, origin);

    /// <summary>Labels joined with '.', no trailing dot; the root is the empty string. Labels are decoded as UTF-8.</summary>
    /// <returns>The text form.</returns>
    public override string ToString()
    {
        var builder = new StringBuilder(_wireLength);
        for (int i = 0; i < LabelCount; i++)
        {
            if (i > 0)
            {
                builder.Append('.');
            }

            builder.Append(Encoding.UTF8.GetString(Label(i)));
        }

        return builder.ToString();
    }

    /// <inheritdoc/>
    public bool Equals(DnsName? other) => other is not null && WireSpan.SequenceEqual(other.WireSpan);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as DnsName);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = default(HashCode);
        hash.AddBytes(WireSpan);
        return hash.ToHashCode();
    }

    /// <summary>Byte-wise equality.</summary>
    /// <param name="left">A name.</param>
    /// <param name="right">A name.</param>
    /// <returns>True when both are null or equal.</returns>
    public static bool operator ==(DnsName? left, DnsName? right) => left is null ? right is null : left.Equals(right);

    /// <summary>Byte-wise inequality.</summary>
    /// <param name="left">A name.</param>
    /// <param name="right">A name.</param>
    /// <returns>True when the names differ.</returns>
    public static bool operator !=(DnsName? left, DnsName? right) => !(left == right);

    /// <summary>The wire form of the labels from <paramref name="labelIndex"/> on, without the terminating zero.</summary>
    internal ReadOnlySpan<byte> SuffixWire(int labelIndex)
        => labelIndex == LabelCount ? [] : _data.AsSpan(_data[_wireLength + labelIndex], _wireLength - _data[_wireLength + labelIndex]);

    /// <summary>The whole wire form without the terminating zero.</summary>
    internal ReadOnlySpan<byte> Wire => WireSpan;

    /// <summary>Where the last label's length byte is in <see cref="Wire"/> (0 for the root).</summary>
    internal int LastLabelOffset => LabelCount == 0 ? 0 : _data[^1];

    /// <summary>The array whose first <see cref="WireLength"/> - 1 bytes are <see cref="Wire"/> (never to be written).</summary>
    internal byte[] WireArray => _data;

    /// <summary>Creates a name from already-validated wire labels (no terminator).</summary>
    internal static DnsName FromWire(ReadOnlySpan<byte> wire)
    {
        if (wire.IsEmpty)
        {
            return Root;
        }

        Span<byte> offsets = stackalloc byte[MaxWireLength / 2];
        int count = 0;
        for (int i = 0; i < wire.Length; i += 1 + wire[i])
        {
            offsets[count++] = (byte)i;
        }

        return new DnsName(wire, offsets[..count]);
    }
}
