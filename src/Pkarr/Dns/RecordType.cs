// DNS resource-record TYPE codes (RFC 1035 §3.2.2, RFC 3596, RFC 2782, RFC 6891, RFC 9460, RFC 8659).
// Any other 16-bit value is a legal, unknown type: the codec keeps its rdata opaque (RFC 3597).

namespace Pkarr.Dns;

/// <summary>The TYPE field of a resource record. Values not listed here are legal and kept as opaque data.</summary>
public enum RecordType : ushort
{
    /// <summary>IPv4 host address (RFC 1035).</summary>
    A = 1,

    /// <summary>Authoritative name server (RFC 1035).</summary>
    NS = 2,

    /// <summary>Canonical name for an alias (RFC 1035).</summary>
    CNAME = 5,

    /// <summary>Start of a zone of authority (RFC 1035).</summary>
    SOA = 6,

    /// <summary>Domain name pointer (RFC 1035).</summary>
    PTR = 12,

    /// <summary>Mail exchange (RFC 1035).</summary>
    MX = 15,

    /// <summary>Text strings (RFC 1035).</summary>
    TXT = 16,

    /// <summary>IPv6 host address (RFC 3596).</summary>
    AAAA = 28,

    /// <summary>Service location (RFC 2782).</summary>
    SRV = 33,

    /// <summary>EDNS(0) pseudo-record (RFC 6891).</summary>
    OPT = 41,

    /// <summary>General service binding (RFC 9460).</summary>
    SVCB = 64,

    /// <summary>Service binding for HTTPS origins (RFC 9460).</summary>
    HTTPS = 65,

    /// <summary>Certification authority authorization (RFC 8659).</summary>
    CAA = 257,
}
