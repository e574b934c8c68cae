using Pkarr.Dns;

namespace Pkarr.DnsServer.Answering;

/// <summary>DNS RCODE values the answering code produces (RFC 1035 §4.1.1).</summary>
internal enum ResponseCode : byte
{
    /// <summary>No error (also NODATA, referrals, and CNAMEs leading out of the packet).</summary>
    NoError = 0,

    /// <summary>The server failed: a CNAME loop, a too-long chain, or the work bound reached.</summary>
    ServerFailure = 2,

    /// <summary>The name does not exist.</summary>
    NameError = 3,

    /// <summary>The query type is not supported (meta types other than ANY).</summary>
    NotImplemented = 4,

    /// <summary>Refused (zone transfers, classes other than IN).</summary>
    Refused = 5,
}

/// <summary>The answer to one question from one packet; every name already carries the query's suffix.</summary>
internal sealed class AnswerResult
{
    /// <summary>The RCODE.</summary>
    public required ResponseCode ResponseCode { get; init; }

    /// <summary>Whether AA is set: the answer comes from the key's own data (not a referral).</summary>
    public required bool Authoritative { get; init; }

    /// <summary>The answer section.</summary>
    public IReadOnlyList<ResourceRecord> Answers { get; init; } = [];

    /// <summary>The authority section: NS records of a referral, or the SOA of a negative answer.</summary>
    public IReadOnlyList<ResourceRecord> Authorities { get; init; } = [];

    /// <summary>The additional section: glue of a referral.</summary>
    public IReadOnlyList<ResourceRecord> Additionals { get; init; } = [];

    /// <summary>Whether this is a referral to a delegated name (authority NS, AA off).</summary>
    public bool IsReferral { get; init; }

    /// <summary>
    /// Where the last CNAME of <see cref="Answers"/> leads when that is outside this packet (another key, or an ICANN
    /// name), so the server continues there; null otherwise.
    /// </summary>
    public DnsName? ExternalTarget { get; init; }
}
