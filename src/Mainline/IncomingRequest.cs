using System.Net;

namespace Mainline;

/// <summary>A query that reached a server-mode node, as shown to <see cref="DhtOptions.RequestFilter"/>.</summary>
/// <param name="Method">The KRPC method (<c>ping</c>, <c>get</c>, …).</param>
/// <param name="SenderId">The id the sender claims.</param>
/// <param name="Source">The datagram's source endpoint.</param>
public sealed record IncomingRequest(string Method, NodeId SenderId, IPEndPoint Source);
