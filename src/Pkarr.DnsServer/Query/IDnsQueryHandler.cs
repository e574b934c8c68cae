// The seam between the transports (UDP, TCP, DoH) and the query logic: a transport hands over one query message as
// received and sends back whatever bytes come out, unchanged.

using System.Net;

namespace Pkarr.DnsServer.Query;

/// <summary>How a query arrived; it decides the largest response (UDP: EDNS-advertised size, capped) and whether the
/// source address is verified (TCP and HTTPS completed a handshake, UDP did not).</summary>
internal enum DnsTransport
{
    /// <summary>A UDP datagram: the source address is unverified.</summary>
    Udp,

    /// <summary>A TCP connection (RFC 7766 framing).</summary>
    Tcp,

    /// <summary>DNS-over-HTTPS (RFC 8484).</summary>
    Https,
}

/// <summary>Who asked and how.</summary>
/// <param name="Client">The client address the rate limits key on (the peer, or the proxy-reported address for DoH
/// behind a trusted proxy).</param>
/// <param name="Transport">The transport the query came on.</param>
internal readonly record struct QueryContext(IPAddress Client, DnsTransport Transport);

/// <summary>Answers one DNS query message.</summary>
internal interface IDnsQueryHandler
{
    /// <summary>
    /// Answers <paramref name="query"/>. Never throws on any input (only <see cref="OperationCanceledException"/> when
    /// <paramref name="cancellationToken"/> fires). Returns the complete response message to send as is (already
    /// sized for the transport: TC set and truncated for UDP when needed), or null when nothing must be sent (the bytes
    /// are not a query worth answering: shorter than a header, or a response).
    /// </summary>
    ValueTask<byte[]?> HandleAsync(ReadOnlyMemory<byte> query, QueryContext context, CancellationToken cancellationToken);

    /// <summary>
    /// Answers <paramref name="query"/> as <see cref="HandleAsync(ReadOnlyMemory{byte}, QueryContext, CancellationToken)"/>
    /// does, returning the response's bytes (empty: nothing to send). A response ready at once may be written into
    /// <paramref name="buffer"/> (the caller's, reused for its next query) and returned as a slice of it; that happens
    /// only before this call returns, so a result that completes later never points into the buffer. A UDP receive
    /// loop passes its send buffer, so a cached answer costs no allocation. <paramref name="query"/> too is read only
    /// before this call returns (what goes on waiting works on a copy), so a receive loop hands over its receive buffer.
    /// </summary>
    async ValueTask<ReadOnlyMemory<byte>> HandleAsync(ReadOnlyMemory<byte> query, QueryContext context, Memory<byte> buffer,
        CancellationToken cancellationToken)
        => await HandleAsync(query.ToArray(), context, cancellationToken).ConfigureAwait(false) ?? ReadOnlyMemory<byte>.Empty;
}
