// One SvcParam of an SVCB/HTTPS record (RFC 9460 §2.2): a 16-bit key and an opaque value.
// Values are kept as the exact wire bytes so that received records re-encode byte-identically;
// SvcbData offers typed views of the keys it knows.

namespace Pkarr.Dns;

/// <summary>The SvcParamKeys registered by RFC 9460 §14.3.2 (other values are legal and kept opaque).</summary>
public enum SvcParamKey : ushort
{
    /// <summary>Keys the client must understand (list of u16).</summary>
    Mandatory = 0,

    /// <summary>Additional supported ALPN protocol ids (character-strings).</summary>
    Alpn = 1,

    /// <summary>The default ALPN protocol is not supported (empty value).</summary>
    NoDefaultAlpn = 2,

    /// <summary>TCP or UDP port of the alternative endpoint (u16).</summary>
    Port = 3,

    /// <summary>IPv4 address hints (4 bytes each).</summary>
    Ipv4Hint = 4,

    /// <summary>Encrypted ClientHello configuration (an ECHConfigList, u16 length prefix included).</summary>
    Ech = 5,

    /// <summary>IPv6 address hints (16 bytes each).</summary>
    Ipv6Hint = 6,
}

/// <summary>One SVCB/HTTPS parameter as it appears on the wire.</summary>
public sealed class SvcParam
{
    internal SvcParam(ushort key, ReadOnlyMemory<byte> value)
    {
        Key = key;
        Value = value;
    }

    /// <summary>The SvcParamKey (see <see cref="SvcParamKey"/> for the registered ones).</summary>
    public ushort Key { get; }

    /// <summary>The value bytes exactly as on the wire (without key and length).</summary>
    public ReadOnlyMemory<byte> Value { get; }

    /// <summary>The presentation form (RFC 9460 §2.1) as in a zone file: <c>alpn=h2,h3</c>, <c>port=443</c>, or
    /// <c>keyNNNNN="…"</c> for a value the named syntax cannot reproduce.</summary>
    public override string ToString()
    {
        var builder = new System.Text.StringBuilder();
        SvcParamPresentation.Append(builder, Key, Value.Span);
        return builder.ToString();
    }
}
