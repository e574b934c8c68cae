// Where the query logic sends names that are not Pkarr names (and CNAME targets that leave Pkarr): the upstream
// resolvers, through a response cache. Production: UpstreamForwarder; tests use fakes.

using System.Net;
using Pkarr.Dns;

namespace Pkarr.DnsServer.Forwarding;

/// <summary>Client flags that change an upstream answer, so they are part of the question sent and of the cache key.</summary>
[Flags]
internal enum ForwardFlags
{
    /// <summary>None.</summary>
    None = 0,

    /// <summary>CD (checking disabled, RFC 4035 §3.2.2).</summary>
    CheckingDisabled = 1,

    /// <summary>EDNS DO (DNSSEC OK, RFC 3225): the client wants DNSSEC records.</summary>
    DnssecOk = 2,
}

/// <summary>The outcome of a forwarded question.</summary>
internal enum ForwardStatus
{
    /// <summary>An upstream answered (any RCODE); <see cref="ForwardResult.Response"/> is set.</summary>
    Answered,

    /// <summary>No upstream answered in time: SERVFAIL, not cached.</summary>
    Timeout,

    /// <summary>No upstream is configured, or every one failed (unreachable, unusable reply): SERVFAIL (REFUSED when
    /// none is configured is the query logic's choice).</summary>
    Failed,
}

/// <summary>An upstream answer.</summary>
/// <param name="Status">What happened.</param>
/// <param name="Response">With <see cref="ForwardStatus.Answered"/>: the upstream response. Its flags carry the
/// upstream RCODE, AD and RA; its ID is meaningless; it holds no OPT record; TTLs are already reduced by the time it
/// spent in the cache; it is never truncated (TC replies were retried over TCP).</param>
internal sealed record ForwardResult(ForwardStatus Status, DnsMessage? Response)
{
    public static ForwardResult Timeout { get; } = new(ForwardStatus.Timeout, null);

    public static ForwardResult Failed { get; } = new(ForwardStatus.Failed, null);
}

/// <summary>Resolves questions through the upstream resolvers.</summary>
internal interface IDnsForwarder
{
    /// <summary>Whether any upstream is configured.</summary>
    bool HasUpstreams { get; }

    /// <summary>Answers <paramref name="question"/> (always asked with RD = 1) from the cache or an upstream. Never
    /// throws but <see cref="OperationCanceledException"/>.</summary>
    ValueTask<ForwardResult> ForwardAsync(DnsQuestion question, ForwardFlags flags, CancellationToken cancellationToken);

    /// <summary>
    /// Asks <paramref name="server"/>, an authoritative server a delegation names, <paramref name="question"/> once with
    /// RD = 0 (key delegation, spec §9.6): a random id, a fresh socket on a random port, the question checked on the
    /// reply, TC retried over TCP, the configured timeout. Any RCODE is <see cref="ForwardStatus.Answered"/> (the
    /// caller decides what a referral, SERVFAIL or REFUSED means). Works without upstreams. Never throws but
    /// <see cref="OperationCanceledException"/>.
    /// </summary>
    ValueTask<ForwardResult> AskServerAsync(IPEndPoint server, DnsQuestion question, ForwardFlags flags, CancellationToken cancellationToken);
}
