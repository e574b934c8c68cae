// CAA record (RFC 8659 §4.1). The tag is a length-prefixed byte string, the value is the rest of the rdata.
//
//   | FLAGS (1) | TAG LENGTH (1) | TAG | VALUE ... |

using System.Globalization;
using System.Text;

namespace Pkarr.Dns;

/// <summary>The data of a CAA record: which certification authorities may issue for a name.</summary>
public sealed class CaaData : RecordData
{
    private readonly byte[] _tag;
    private readonly byte[] _value;

    /// <summary>Creates CAA data.</summary>
    /// <param name="flags">Flags; 128 is "issuer critical".</param>
    /// <param name="tag">The property tag, e.g. "issue", "issuewild", "iodef" (1–255 chars, U+0000..U+00FF).</param>
    /// <param name="value">The property value bytes.</param>
    /// <exception cref="ArgumentException">The tag is empty, too long or not single-byte; or the value is too long.</exception>
    public CaaData(byte flags, string tag, ReadOnlySpan<byte> value)
    {
        ArgumentNullException.ThrowIfNull(tag);
        if (tag.Length is 0 or > 255 || tag.Any(c => c > 0xFF))
        {
            throw Error.InvalidCaaTag(nameof(tag));
        }

        if (2 + tag.Length + value.Length > ushort.MaxValue)
        {
            throw Error.RDataTooLong(RecordType.CAA);
        }

        Flags = flags;
        _tag = Encoding.Latin1.GetBytes(tag);
        _value = value.ToArray();
    }

    private CaaData(byte flags, byte[] tag, byte[] value)
    {
        Flags = flags;
        _tag = tag;
        _value = value;
    }

    /// <summary>Flags; 128 is "issuer critical".</summary>
    public byte Flags { get; }

    /// <summary>The property tag (its bytes read as Latin-1, so any byte value survives).</summary>
    public string Tag => Encoding.Latin1.GetString(_tag);

    /// <summary>The property value bytes.</summary>
    public ReadOnlyMemory<byte> Value => _value;

    /// <inheritdoc/>
    public override RecordType Type => RecordType.CAA;

    /// <inheritdoc/>
    public override string ToString()
    {
        bool simpleTag = _tag.Length > 0 && Array.TrueForAll(_tag, b => char.IsAsciiLetterOrDigit((char)b));
        if (!simpleTag)
        {
            return Presentation.FormatGeneric(UncompressedWire());
        }

        return string.Create(
            CultureInfo.InvariantCulture,
            $"{Flags} {Encoding.ASCII.GetString(_tag)} {Presentation.FormatCharacterString(_value)}");
    }

    /// <summary>Creates CAA data from bytes the parser has already checked (the tag may be empty there).</summary>
    internal static CaaData FromValidated(byte flags, ReadOnlySpan<byte> tag, ReadOnlySpan<byte> value)
        => new(flags, tag.ToArray(), value.ToArray());

    internal override void WriteTo(ref DnsWriter writer)
    {
        writer.WriteByte(Flags);
        writer.WriteCharacterString(_tag);
        writer.WriteBytes(_value);
    }
}
