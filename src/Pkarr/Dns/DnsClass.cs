// DNS CLASS codes (RFC 1035 §3.2.4, RFC 2136 §1.3 for NONE).
// Received resource records must carry 1, 2, 3, 4 or 254 once the mDNS cache-flush bit (0x8000) is masked
// off (shared spec §3.5); questions may also ask for 255 (ANY). OPT records reuse the field as the UDP payload
// size, so any value can appear there.

namespace Pkarr.Dns;

/// <summary>The CLASS field of a resource record or question.</summary>
public enum DnsClass : ushort
{
    /// <summary>The Internet (the only class pkarr builders produce).</summary>
    IN = 1,

    /// <summary>CSNET (obsolete).</summary>
    CS = 2,

    /// <summary>CHAOS.</summary>
    CH = 3,

    /// <summary>Hesiod.</summary>
    HS = 4,

    /// <summary>NONE (RFC 2136 dynamic updates).</summary>
    NONE = 254,

    /// <summary>Any class; legal in questions only.</summary>
    ANY = 255,
}
