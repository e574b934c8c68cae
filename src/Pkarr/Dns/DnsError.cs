// Why a DNS message was refused by the parser (shared spec §3.5). A value type so that validation on the hot
// path of signed-packet decoding allocates nothing; the human text is only built when someone asks for it.

using System.Globalization;

namespace Pkarr.Dns;

/// <summary>The rule a DNS message broke.</summary>
public enum DnsErrorKind
{
    /// <summary>No error.</summary>
    None = 0,

    /// <summary>The message ends before a field, or an rdata is shorter than its type requires or runs past the end.</summary>
    Truncated,

    /// <summary>The reserved Z bit (0x0040) of the header flags is set.</summary>
    ReservedFlagSet,

    /// <summary>A label length byte is above 63 (this includes the reserved label types 0x40 and 0x80).</summary>
    LabelTooLong,

    /// <summary>A name's expanded wire length would exceed 255 bytes.</summary>
    NameTooLong,

    /// <summary>A compression pointer does not point strictly backwards, or a name follows more than 128 pointers.</summary>
    InvalidCompressionPointer,

    /// <summary>A resource record class, once the cache-flush bit is masked, is not 1, 2, 3, 4 or 254 (255 also allowed in questions).</summary>
    InvalidClass,

    /// <summary>A character-string (TXT, CAA tag, SVCB alpn) runs past the end of its rdata or parameter.</summary>
    InvalidCharacterString,

    /// <summary>SVCB/HTTPS parameters are not in strictly ascending key order.</summary>
    SvcParamsNotAscending,

    /// <summary>An SVCB/HTTPS parameter value has the wrong shape for its key.</summary>
    InvalidSvcParam,

    /// <summary>An OPT record has a non-root owner name or an option running past its rdata.</summary>
    InvalidOptRecord,
}

/// <summary>A parse failure: which rule was broken and at which byte offset of the message.</summary>
/// <param name="Kind">The rule that was broken.</param>
/// <param name="Offset">Offset from the first header byte where the problem was found.</param>
public readonly record struct DnsError(DnsErrorKind Kind, int Offset)
{
    /// <summary>The absence of an error.</summary>
    public static DnsError None => default;

    /// <summary>A human-readable description, e.g. "compression pointer at offset 40 does not point backwards".</summary>
    public string Message => Kind switch
    {
        DnsErrorKind.None => "no error",
        DnsErrorKind.Truncated => Format("message is truncated at offset {0}"),
        DnsErrorKind.ReservedFlagSet => Format("reserved header flag Z (0x0040) is set (offset {0})"),
        DnsErrorKind.LabelTooLong => Format("label length byte at offset {0} is above 63 or a reserved label type"),
        DnsErrorKind.NameTooLong => Format("name at offset {0} is longer than 255 bytes"),
        DnsErrorKind.InvalidCompressionPointer => Format("compression pointer at offset {0} does not point backwards"),
        DnsErrorKind.InvalidClass => Format("record class at offset {0} is not IN, CS, CH, HS or NONE"),
        DnsErrorKind.InvalidCharacterString => Format("character-string at offset {0} runs past its rdata"),
        DnsErrorKind.SvcParamsNotAscending => Format("SVCB parameter at offset {0} is not in ascending key order"),
        DnsErrorKind.InvalidSvcParam => Format("SVCB parameter at offset {0} has an invalid value"),
        DnsErrorKind.InvalidOptRecord => Format("OPT record at offset {0} is malformed"),
        _ => Format("invalid DNS message at offset {0}"),
    };

    /// <inheritdoc/>
    public override string ToString() => Message;

    private string Format(string template) => string.Format(CultureInfo.InvariantCulture, template, Offset);
}
