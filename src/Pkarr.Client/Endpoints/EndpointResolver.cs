// Endpoint resolution (shared spec §7; RFC 9460 §2.3, §2.4, §9.5): the design algorithm, streamed.
//
//   1. Take the host of the query (a bare name, `pk:<key>` or a URL) and the pkarr key that is its last label.
//   2. Resolve that key's packet (CacheFirst) and take its HTTPS records at the host, or its SVCB records at
//      `_<scheme>.<host>` for another scheme; wildcard queries allowed (spec §3.9).
//   3. Order them by priority ascending, randomly within one priority.
//   4. For each in order: target "." → yield the packet's own endpoint; target an ICANN name → yield it for
//      ordinary DNS; target a key or `sub.<key>` → resolve that key and expand its records at the target, in
//      place (depth first), then carry on with the next record.
//
// Where this differs from the reference's stream (spec §7 "known quirks"):
//   * A failed alias (resolution fails, depth limit reached, cycle) skips that record and the next one is tried;
//     the reference ends the whole stream.
//   * Depth is the number of packets on the alias chain that led to a record (the queried packet is 1), not the
//     number of packets resolved by the stream so far: a chain of exactly MaxRecursionDepth packets works, and a
//     fallback record gets the same depth as the first. The work stays bounded by a stream-wide budget of
//     distinct keys (4 × MaxRecursionDepth) and by expanding each (key, name) at most once, which also ends
//     cycles (A → B → A) and drops the duplicates of diamonds (A → B → D, A → C → D).
//   * Each key is resolved at most once per stream, so every record comes from one snapshot of its packet.
//   * A scheme other than http(s) looks at SVCB records at `_<scheme>.<host>` (RFC 9460 §2.3); the reference
//     looks at the host itself.

using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Endpoints;

/// <summary>
/// Resolves a name to its service endpoints through pkarr packets, following aliases from key to key.
/// </summary>
/// <remarks>
/// Differences from the reference: a failed alias is skipped instead of ending the stream; depth is the length of
/// the alias chain (at most <c>maxRecursionDepth</c> packets), with a stream-wide budget of
/// 4 × <c>maxRecursionDepth</c> distinct keys; each (key, name) is expanded once, which ends cycles; a scheme
/// <c>foo</c> other than http(s) looks at <c>_foo.&lt;name&gt;</c>.
/// </remarks>
/// <param name="resolve">Resolves a key's packet (CacheFirst), null on any failure.</param>
/// <param name="maxRecursionDepth">The most packets on one alias chain, the queried packet included; at least 1.</param>
/// <param name="random">Orders records of equal priority; shared by concurrent streams, so it must be safe for
/// concurrent use (<see cref="Random.Shared"/>) unless the resolver serves one stream at a time.</param>
/// <param name="logger">Where skipped aliases are logged (debug); null for nowhere.</param>
internal sealed partial class EndpointResolver(
    Func<PublicKey, CancellationToken, Task<SignedPacket?>> resolve,
    int maxRecursionDepth,
    Random random,
    ILogger? logger = null)
{
    /// <summary>How many distinct keys one stream may resolve, per unit of depth.</summary>
    internal const int KeysPerDepth = 4;

    private readonly Func<PublicKey, CancellationToken, Task<SignedPacket?>> _resolve =
        resolve ?? throw Error.ArgumentNull(nameof(resolve));

    private readonly int _maxDepth = maxRecursionDepth >= 1
        ? maxRecursionDepth
        : throw Error.Invariant(nameof(maxRecursionDepth), maxRecursionDepth, $"The recursion depth must be at least 1.");

    private readonly Random _random = random ?? throw Error.ArgumentNull(nameof(random));

    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    /// <summary>
    /// The name at which a scheme's service binding records live, and which record type they are:
    /// <c>https</c> and <c>http</c> (any case) use HTTPS records at the host itself (RFC 9460 §9.5); any other
    /// scheme <c>foo</c> uses SVCB records at <c>_foo.&lt;host&gt;</c> (RFC 9460 §2.3, lower-cased). No port prefix
    /// (<c>_8080._foo</c>) is added, as pkarr has none.
    /// </summary>
    /// <param name="qname">A host name, <c>pk:</c> URI or URL (see <see cref="TryHost"/>).</param>
    /// <param name="scheme">A URI scheme (RFC 3986 §3.1) without <c>.</c>, which cannot be part of one label.</param>
    /// <param name="https">True for HTTPS records, false for SVCB records.</param>
    /// <returns>The name to query; null when <paramref name="qname"/> has no host.</returns>
    /// <exception cref="ArgumentException"><paramref name="scheme"/> is not a scheme.</exception>
    internal static string? ServiceName(string qname, string scheme, out bool https)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        if (scheme.Length == 0 || !char.IsAsciiLetter(scheme[0])
            || !scheme.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-'))
        {
            throw Error.InvalidScheme(scheme);
        }

        https = scheme.Equals("https", StringComparison.OrdinalIgnoreCase)
            || scheme.Equals("http", StringComparison.OrdinalIgnoreCase);
        if (!TryHost(qname, out string? host))
        {
            return null;
        }

        return https ? host : string.Concat("_", scheme.ToLowerInvariant(), ".", host);
    }

    /// <summary>
    /// The host name in <paramref name="qname"/>, without a trailing dot: the text after <c>pk:</c>, the host of
    /// an absolute URL (<c>scheme://…</c>), or the text itself.
    /// </summary>
    internal static bool TryHost(string qname, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? host)
    {
        ArgumentNullException.ThrowIfNull(qname);
        if (qname.StartsWith("pk:", StringComparison.OrdinalIgnoreCase))
        {
            host = qname[3..];
        }
        else if (qname.Contains("://", StringComparison.Ordinal))
        {
            host = Uri.TryCreate(qname, UriKind.Absolute, out var uri) ? uri.IdnHost : null;
        }
        else
        {
            host = qname;
        }

        if (host is not null && host.EndsWith('.'))
        {
            host = host[..^1];
        }

        return !string.IsNullOrEmpty(host);
    }

    /// <summary>
    /// The endpoints of <paramref name="qname"/> in order of preference. Empty when its last label is not a key or
    /// its packet cannot be resolved.
    /// </summary>
    /// <param name="qname">A bare key, <c>sub.&lt;key&gt;</c> (or a wildcard query <c>*.sub.&lt;key&gt;</c>), a
    /// <c>pk:</c> URI or a URL; the key is found with the lenient rules of <see cref="PublicKey.TryParse(string, out PublicKey)"/>.
    /// For SVCB records the name already carries its <c>_scheme</c> label (see <see cref="ServiceName"/>).</param>
    /// <param name="https">True for HTTPS records, false for SVCB records.</param>
    /// <param name="cancellationToken">Cancels the resolution.</param>
    public async IAsyncEnumerable<Endpoint> ResolveAsync(
        string qname,
        bool https,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (!TryHost(qname, out string? host) || !PublicKey.TryParse(host, out var key))
        {
            yield break;
        }

        var packets = new Dictionary<PublicKey, SignedPacket?>();
        if (await ResolveOnceAsync(key, packets, cancellationToken).ConfigureAwait(false) is not { } first)
        {
            yield break;
        }

        var expanded = new HashSet<(PublicKey Key, string Name)> { (key, host) };
        var pending = new Stack<(Endpoint Endpoint, int Depth)>();
        Push(pending, first, host, https, depth: 1);

        while (pending.TryPop(out var item))
        {
            var (endpoint, depth) = item;
            if (endpoint.Target == "." || !PublicKey.TryParse(endpoint.Target, out var next))
            {
                yield return endpoint;
                continue;
            }

            if (depth >= _maxDepth)
            {
                LogDepthLimit(_logger, endpoint.Target, _maxDepth);
                continue;
            }

            if (!expanded.Add((next, endpoint.Target)))
            {
                LogAlreadyExpanded(_logger, endpoint.Target);
                continue;
            }

            if (await ResolveOnceAsync(next, packets, cancellationToken).ConfigureAwait(false) is not { } packet)
            {
                LogAliasUnresolved(_logger, endpoint.Target);
                continue;
            }

            Push(pending, packet, endpoint.Target, https, depth + 1);
        }
    }

    /// <summary>The packet of <paramref name="key"/>, resolved once per stream and within the stream's key budget.</summary>
    private async Task<SignedPacket?> ResolveOnceAsync(
        PublicKey key,
        Dictionary<PublicKey, SignedPacket?> packets,
        CancellationToken cancellationToken)
    {
        if (packets.TryGetValue(key, out var known))
        {
            return known;
        }

        if (packets.Count >= KeysPerDepth * _maxDepth)
        {
            LogKeyBudget(_logger, key, packets.Count);
            return null;
        }

        var packet = await _resolve(key, cancellationToken).ConfigureAwait(false);
        packets[key] = packet;
        return packet;
    }

    /// <summary>Pushes the packet's endpoints at <paramref name="name"/> so that the preferred one pops first.</summary>
    private void Push(Stack<(Endpoint, int)> pending, SignedPacket packet, string name, bool https, int depth)
    {
        var endpoints = Endpoint.FromPacket(packet, name, https, _random);
        for (int i = endpoints.Count - 1; i >= 0; i--)
        {
            pending.Push((endpoints[i], depth));
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Endpoint alias {Target} skipped: the chain already has {MaxDepth} packets")]
    private static partial void LogDepthLimit(ILogger logger, string target, int maxDepth);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Endpoint alias {Target} skipped: already expanded in this resolution (a cycle or a repeat)")]
    private static partial void LogAlreadyExpanded(ILogger logger, string target);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Endpoint alias {Target} skipped: its packet could not be resolved")]
    private static partial void LogAliasUnresolved(ILogger logger, string target);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Key {Key} not resolved: this resolution already used its {Count} keys")]
    private static partial void LogKeyBudget(ILogger logger, PublicKey key, int count);
}
