// HttpClient integration (shared spec §7, last point): a SocketsHttpHandler whose connect step resolves hosts that
// are pkarr names through their HTTPS endpoints, and leaves every other host to the system resolver. Only the TCP
// connection changes: the request keeps its URI, so the Host header (and a TLS server name) stay the pkarr name.
//
//   http://<key>/  or  http://sub.<key>/
//     → HTTPS endpoints of the host, in order (EndpointResolver)
//     → target "."   : the packet's apex A/AAAA addresses, with the record's port or else the request's port
//       ICANN target : the target name with the record's port or else the request's port, via the system resolver
//     → the first address that accepts the connection
//
// TLS to a key host needs raw public keys (spec §8), which SslStream does not offer: for https://<key>/ the
// connection is made, and SslStream then expects a WebPKI certificate for the key's name unless the caller sets
// SslOptions.RemoteCertificateValidationCallback on the handler.

using System.Net;
using System.Net.Sockets;
using Pkarr.Client.Endpoints;
using Pkarr.Keys;

namespace Pkarr.Client.Http;

/// <summary>
/// Creates HTTP handlers that reach pkarr hosts (<c>http://&lt;key&gt;/</c>, <c>http://sub.&lt;key&gt;/</c>) through
/// their HTTPS endpoints, and every other host as usual.
/// </summary>
public static class PkarrHttpHandler
{
    /// <summary>
    /// A handler whose connections to pkarr hosts follow the hosts' HTTPS endpoints, resolved by
    /// <paramref name="client"/> (<see cref="PkarrClient.ResolveHttpsEndpointsAsync"/>): the first endpoint address
    /// that accepts a TCP connection is used, in endpoint order. Other hosts use the system resolver and the default
    /// proxy; pkarr hosts never go through a proxy, which could not resolve them.
    /// </summary>
    /// <param name="client">The client that resolves the packets; it must outlive the handler.</param>
    /// <returns>A new handler; set its other properties (timeouts, TLS options) before the first request.</returns>
    /// <remarks>Connection attempts are sequential (no happy eyeballs); <see cref="SocketsHttpHandler.ConnectTimeout"/>
    /// bounds the resolution and all attempts together.</remarks>
    public static SocketsHttpHandler Create(PkarrClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        return Create(client.ResolveHttpsEndpointsAsync);
    }

    /// <summary>The handler of <see cref="Create(PkarrClient)"/> over any source of endpoints.</summary>
    /// <param name="httpsEndpoints">The HTTPS endpoints of a host name, in order of preference.</param>
    /// <returns>A new handler; set its other properties (timeouts, TLS options) before the first request.</returns>
    internal static SocketsHttpHandler Create(Func<string, CancellationToken, IAsyncEnumerable<Endpoint>> httpsEndpoints)
    {
        ArgumentNullException.ThrowIfNull(httpsEndpoints);
        return new SocketsHttpHandler
        {
            ConnectCallback = (context, cancellationToken) => ConnectAsync(context.DnsEndPoint, httpsEndpoints, cancellationToken),
            Proxy = new PkarrHostsBypassProxy(HttpClient.DefaultProxy),
        };
    }

    /// <summary>Whether <paramref name="host"/> (a request URI's host) is a pkarr name: a key, or a name whose last
    /// label is a key (the lenient rules of <see cref="PublicKey.TryParse(string, out PublicKey)"/>).</summary>
    internal static bool IsPkarrHost(string host) => PublicKey.TryParse(host, out _);

    private static async ValueTask<Stream> ConnectAsync(
        DnsEndPoint target,
        Func<string, CancellationToken, IAsyncEnumerable<Endpoint>> httpsEndpoints,
        CancellationToken cancellationToken)
    {
        if (!IsPkarrHost(target.Host))
        {
            return await ConnectAsync(target, cancellationToken).ConfigureAwait(false);
        }

        List<SocketException>? failures = null;
        var endpoints = httpsEndpoints(target.Host, cancellationToken).ConfigureAwait(false).WithCancellation(cancellationToken);
        await foreach (var endpoint in endpoints)
        {
            foreach (var address in endpoint.ToEndPoints(target.Port))
            {
                try
                {
                    return await ConnectAsync(address, cancellationToken).ConfigureAwait(false);
                }
                catch (SocketException e)
                {
                    (failures ??= []).Add(e);
                }
            }
        }

        throw failures is null ? Error.NoEndpoint(target.Host) : Error.NoEndpointReachable(target.Host, failures);
    }

    /// <summary>A TCP connection to one address, or to a name through the system resolver (all its addresses).</summary>
    private static async Task<Stream> ConnectAsync(EndPoint address, CancellationToken cancellationToken)
    {
        var socket = address is IPEndPoint ip
            ? new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
            : new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.NoDelay = true;
            await socket.ConnectAsync(address, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The default proxy for every host but pkarr hosts, which are connected to directly.</summary>
    private sealed class PkarrHostsBypassProxy(IWebProxy inner) : IWebProxy
    {
        public ICredentials? Credentials
        {
            get => inner.Credentials;
            set => inner.Credentials = value;
        }

        public Uri? GetProxy(Uri destination) => IsPkarrHost(destination.IdnHost) ? null : inner.GetProxy(destination);

        public bool IsBypassed(Uri host) => IsPkarrHost(host.IdnHost) || inner.IsBypassed(host);
    }
}
