// Limits of the UDP and TCP listeners. TCP connections cost a socket and buffers each, so they are bounded in total
// and per client (RFC 7766 §6.2.2: servers protect themselves from clients that hold many connections idle); queries
// being answered are bounded so that a flood of slow (network-bound) queries cannot grow memory without end.

namespace Pkarr.DnsServer.Listeners;

internal sealed class ListenerOptions
{
    /// <summary>TCP connections open at once; beyond, new ones are closed at once. Default 1000: far above what
    /// resolvers that fall back to TCP after a truncated answer hold open.</summary>
    public int MaxTcpConnections { get; init; } = 1000;

    /// <summary>TCP connections one client (an IPv4 address or an IPv6 /64, as the rate limits key clients) holds at
    /// once. Default 32: a stub resolver or a forwarder pool needs a few; a scanner gets no more.</summary>
    public int MaxTcpConnectionsPerIp { get; init; } = 32;

    /// <summary>How long a TCP connection with no query in flight waits for the next query, and how long one response
    /// write may take, before the connection is closed. Default 10 s (RFC 7766 §6.2.3 suggests seconds, not minutes:
    /// BIND and Unbound use a few seconds to tens of seconds).</summary>
    public TimeSpan TcpIdleTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>UDP and TCP queries being answered at once; beyond, queries are dropped (counted as "overload"). A UDP
    /// query answered on the spot (a cached answer) does not count: it holds nothing once sent. Default 4096: a slow
    /// network lookup takes seconds, so this is what a busy server has waiting at once.</summary>
    public int MaxQueriesInFlight { get; init; } = 4096;

    /// <summary>Queries of one TCP connection being answered at once (pipelining, RFC 7766 §6.2.1.1); beyond, the
    /// connection is not read until one is answered. Default 32.</summary>
    public int MaxQueriesPerTcpConnection { get; init; } = 32;

    /// <summary>UDP receive loops, each answering what is ready at once on its own. Default: one per core, at most 8
    /// (beyond, the kernel's socket work, not the loops, is the limit).</summary>
    public int UdpReceiveLoops { get; init; } = Math.Clamp(Environment.ProcessorCount, 1, 8);

    /// <summary>The clock of the idle timeouts.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}
