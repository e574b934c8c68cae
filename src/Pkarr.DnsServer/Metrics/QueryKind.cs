namespace Pkarr.DnsServer.Metrics;

/// <summary>What a query got, the <c>kind</c> tag of the query metrics.</summary>
internal enum QueryKind : byte
{
    /// <summary>A Pkarr name, answered from its packet (or SERVFAIL, REFUSED when no packet could be had).</summary>
    Pkarr,

    /// <summary>Any other name, answered through the forwarder.</summary>
    Forwarded,

    /// <summary>A name whose last label looks like a key but is not one: NXDOMAIN, never forwarded.</summary>
    Invalid,

    /// <summary>Refused by policy or a rate limit, or with no upstream to forward to.</summary>
    Refused,

    /// <summary>A query that does not parse (FORMERR), or with an unknown EDNS version (BADVERS).</summary>
    Formerr,

    /// <summary>An opcode or meta type not implemented (NOTIMP).</summary>
    Notimp,

    /// <summary>A bug inside the server (SERVFAIL, logged).</summary>
    Error,
}
