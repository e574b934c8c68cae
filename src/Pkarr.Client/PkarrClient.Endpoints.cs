// Endpoint resolution on the client (shared spec §7): HTTPS and SVCB records followed from key to key, every packet
// resolved CacheFirst through this client, so a resolution that just happened (a connection, a TLS check) is
// answered from the cache.

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Pkarr.Client.Endpoints;
using Pkarr.Packets;

namespace Pkarr.Client;

public sealed partial class PkarrClient
{
    /// <summary>
    /// The HTTPS endpoints of <paramref name="name"/> in order of preference (spec §7): priority ascending, random
    /// within one priority; aliases to other keys followed, at most <see cref="PkarrClientOptions.MaxRecursionDepth"/>
    /// packets per alias chain. Empty when <paramref name="name"/> does not end in a key or nothing usable is found.
    /// </summary>
    /// <param name="name">A key, <c>sub.&lt;key&gt;</c>, a wildcard query <c>*.&lt;key&gt;</c>, a <c>pk:</c> URI or a URL
    /// such as <c>https://&lt;key&gt;/path</c> (its host counts).</param>
    /// <param name="cancellationToken">Cancels the resolution.</param>
    /// <returns>The endpoints, streamed as they are found.</returns>
    /// <remarks>
    /// Unlike the reference, an alias that cannot be followed (its packet is missing, the chain is too deep, or it
    /// loops back) is skipped and the next record is tried, instead of ending the stream; the depth limit applies to
    /// each alias chain, with at most 4 × <see cref="PkarrClientOptions.MaxRecursionDepth"/> distinct keys resolved
    /// per call, and each name is expanded once.
    /// </remarks>
    public IAsyncEnumerable<Endpoint> ResolveHttpsEndpointsAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return EndpointResolver.ResolveAsync(name, https: true, cancellationToken);
    }

    /// <summary>
    /// The endpoints of <paramref name="name"/> for the URI scheme <paramref name="scheme"/>, in order of preference:
    /// for <c>https</c> and <c>http</c> the HTTPS records at the name (as <see cref="ResolveHttpsEndpointsAsync"/>),
    /// for any other scheme <c>foo</c> the SVCB records at <c>_foo.&lt;name&gt;</c> (RFC 9460 §2.3; the scheme is
    /// lower-cased, no port prefix). Aliases are followed as by <see cref="ResolveHttpsEndpointsAsync"/>, at their
    /// target names as given.
    /// </summary>
    /// <param name="name">A key, <c>sub.&lt;key&gt;</c>, a <c>pk:</c> URI or a URL (its host counts).</param>
    /// <param name="scheme">The URI scheme: a letter, then letters, digits, <c>+</c> or <c>-</c>.</param>
    /// <param name="cancellationToken">Cancels the resolution.</param>
    /// <returns>The endpoints, streamed as they are found.</returns>
    /// <remarks>The reference reads SVCB records at the name itself, without the <c>_scheme</c> label.</remarks>
    /// <exception cref="ArgumentException"><paramref name="scheme"/> is not a URI scheme that fits one DNS label.</exception>
    public IAsyncEnumerable<Endpoint> ResolveSvcbEndpointsAsync(string name, string scheme, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        string? serviceName = EndpointResolver.ServiceName(name, scheme, out bool https);
        return serviceName is null
            ? AsyncEnumerable.Empty<Endpoint>()
            : EndpointResolver.ResolveAsync(serviceName, https, cancellationToken);
    }

    /// <summary>A resolver over this client (it holds no state of its own, so one per stream costs nothing);
    /// <see cref="Random.Shared"/> because streams run concurrently.</summary>
    private EndpointResolver EndpointResolver => new(
        ResolveForEndpointsAsync,
        Options.MaxRecursionDepth,
        Random.Shared,
        (Options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<EndpointResolver>());

    private async Task<SignedPacket?> ResolveForEndpointsAsync(Keys.PublicKey key, CancellationToken cancellationToken) =>
        (await ResolveAsync(key, ResolvePolicy.CacheFirst, cancellationToken).ConfigureAwait(false)).Packet;
}
