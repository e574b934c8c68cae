// The pkarr client (shared spec pkarr.md §5): resolves keys to signed packets and publishes packets, over the
// Mainline DHT, HTTP relays, or both raced, with a cache that never goes back to an older packet.
//
//   ResolveAsync ─▶ cache ─(miss/stale)─▶ one shared network query per (key, policy) ─▶ backend ─▶ cache update
//   PublishAsync ─▶ cache check (never older, CAS) ─▶ DHT put ∥ every relay PUT ─▶ merge ─▶ cache update

using System.Collections.Concurrent;
using Mainline;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Pkarr.Client.Backends;
using Pkarr.Client.Caching;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client;

/// <summary>
/// Resolves and publishes Pkarr signed packets. Thread-safe; one instance per application (it owns a DHT node and
/// a cache). Create it with <see cref="CreateAsync"/>, or register it with <c>services.AddPkarrClient()</c>.
/// </summary>
public sealed partial class PkarrClient : IAsyncDisposable, IDisposable
{
    private readonly IPkarrBackend _backend;
    private readonly IPkarrCache? _cache;
    private readonly DhtNodeHolder? _dht;
    private readonly HttpClient? _ownedHttp;
    private readonly SqlitePkarrCache? _ownedCache;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<(PublicKey Key, ResolvePolicy Policy), Lazy<Task<ResolveResult>>> _inFlight = new();
    private readonly KeyLocks _updateLocks = new();

    /// <summary>Builds a client from <paramref name="options"/>. The DHT node, if any, starts on first use or with
    /// <see cref="StartAsync"/>; <see cref="CreateAsync"/> does both.</summary>
    /// <exception cref="InvalidOperationException">Neither the DHT nor any relay is enabled, or relays are enabled with an empty list.</exception>
    /// <exception cref="ArgumentException">A relay URL is not an absolute http or https URL, or a bootstrap node is not <c>host:port</c>.</exception>
    public PkarrClient(PkarrClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        TimeProvider = options.TimeProvider;
        var loggers = options.LoggerFactory ?? NullLoggerFactory.Instance;
        _logger = loggers.CreateLogger<PkarrClient>();
        Clock = new TimestampClock(TimeProvider);

        var relays = RelayList(options);
        if (!options.UseDht && relays.Count == 0)
        {
            throw Error.NoNetwork();
        }

        IPkarrBackend? dhtBackend = null;
        if (options.UseDht)
        {
            _dht = new DhtNodeHolder(options, loggers);
            dhtBackend = new DhtBackend(_dht.GetAsync, TimeProvider, loggers.CreateLogger<DhtBackend>())
            {
                // A CacheFirst lookup that answered early runs on and stores the newest packet it finds (spec §6.2).
                LaterPacket = entry => _cache?.PutIfNewerAsync(entry, CancellationToken.None).AsTask() ?? Task.CompletedTask,
            };
        }

        IPkarrBackend? relayBackend = null;
        if (relays.Count > 0)
        {
            var http = options.HttpClient ?? (_ownedHttp = CreateHttpClient());
            relayBackend = new Relays.RelaysBackend(relays, http, options.RequestTimeout, TimeProvider, loggers.CreateLogger<Relays.RelaysBackend>());
        }

        _backend = (dhtBackend, relayBackend) switch
        {
            ({ } d, { } r) => new CombinedBackend(d, r),
            ({ } d, null) => d,
            (null, { } r) => r,
            _ => throw Error.NoNetwork(),
        };
        RelayUrls = relays;
        _cache = CreateCache(options, loggers, out _ownedCache);
    }

    /// <summary>For tests: a client over given backends.</summary>
    internal PkarrClient(PkarrClientOptions options, IPkarrBackend backend)
    {
        Options = options;
        TimeProvider = options.TimeProvider;
        _logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<PkarrClient>();
        Clock = new TimestampClock(TimeProvider);
        _backend = backend;
        RelayUrls = [];
        _cache = CreateCache(options, options.LoggerFactory ?? NullLoggerFactory.Instance, out _ownedCache);
    }

    /// <summary>The settings the client was built with.</summary>
    public PkarrClientOptions Options { get; }

    /// <summary>The client's clock.</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>The strictly increasing timestamp clock the client signs updates with.</summary>
    public TimestampClock Clock { get; }

    /// <summary>The cache; null when caching is disabled.</summary>
    public IPkarrCache? Cache => _cache;

    /// <summary>The relays in use, in order; empty when relays are disabled.</summary>
    public IReadOnlyList<Uri> RelayUrls { get; }

    /// <summary>Builds a client and starts its DHT node (binding its UDP socket), so that a port already taken or
    /// a bad bootstrap list fails here rather than on the first resolve.</summary>
    public static async Task<PkarrClient> CreateAsync(PkarrClientOptions options, CancellationToken cancellationToken = default)
    {
        var client = new PkarrClient(options);
        try
        {
            await client.StartAsync(cancellationToken).ConfigureAwait(false);
            return client;
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Starts the DHT node if the client uses one and it is not running yet.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_dht is not null)
        {
            await _dht.GetAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The DHT node, started if needed; null when the client does not use the DHT.</summary>
    public async Task<Dht?> GetDhtAsync(CancellationToken cancellationToken = default) =>
        _dht is null ? null : await _dht.GetAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Resolves <paramref name="key"/> to its most recent signed packet as <paramref name="policy"/> says (spec §5.3).
    /// Concurrent resolves of one key with one policy share one network query. Never throws for network trouble: a
    /// missing packet, an invalid one and unreachable backends are <see cref="ResolveResult.Error"/>s.
    /// </summary>
    public async Task<ResolveResult> ResolveAsync(PublicKey key, ResolvePolicy policy = ResolvePolicy.CacheFirst, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
        CachedPacket? cached = null;
        if (policy != ResolvePolicy.NetworkOnly && _cache is not null)
        {
            cached = await _cache.GetAsync(key, cancellationToken).ConfigureAwait(false);
            if (cached is not null && (policy == ResolvePolicy.CacheOnly
                || (Options.MaximumTtl > 0 && !cached.IsExpired(Options.MinimumTtl, Options.MaximumTtl, TimeProvider))))
            {
                return ResolveResult.Of(cached);
            }
        }

        var query = _inFlight.GetOrAdd((key, policy), static (id, state) => state.Client.NewQuery(id, state.Cached), (Client: this, Cached: cached));
        return await query.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The packet of <paramref name="key"/> (<see cref="ResolveAsync"/>), or null when nobody has one.</summary>
    /// <exception cref="ResolveException">The resolve failed for another reason than "not found" (an invalid packet, no responses…).</exception>
    public async Task<SignedPacket?> ResolvePacketAsync(PublicKey key, ResolvePolicy policy = ResolvePolicy.CacheFirst, CancellationToken cancellationToken = default)
    {
        var result = await ResolveAsync(key, policy, cancellationToken).ConfigureAwait(false);
        return result.Found ? result.Packet
            : result.Error.Kind == ResolveErrorKind.NotFound ? null
            : throw Error.ResolveFailed(key, result.Error);
    }

    /// <summary>
    /// Publishes <paramref name="packet"/> to the DHT and every relay at once and waits for all (spec §5.6). Refused
    /// without network traffic when the cache holds a more recent packet for the key, or, with
    /// <paramref name="expected"/> (compare-and-swap: the timestamp of the packet this one replaces, 0 for none), when the cache
    /// holds a packet newer than <paramref name="expected"/>. <paramref name="expected"/> also goes to DHT nodes as
    /// BEP 44 <c>cas</c> (they refuse the put when they hold another seq) and to relays as the legacy
    /// <c>If-Match</c>. The result says what each backend did.
    /// </summary>
    public async Task<PublishResult> PublishAsync(SignedPacket packet, Timestamp? expected = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(packet);
        ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
        if (_cache is not null && await _cache.PeekAsync(packet.PublicKey, cancellationToken).ConfigureAwait(false) is { } cached)
        {
            // A newer packet than the one the caller built on is known: fail before any network traffic.
            bool older = cached.Packet.MoreRecentThan(packet);
            bool casFails = expected is { } e && cached.Packet.Timestamp > e && !cached.Packet.IsSameAs(packet);
            if (older || casFails)
            {
                LogRefused(_logger, packet.PublicKey, cached.Packet.Timestamp, packet.Timestamp);
                return new PublishResult { PublicKey = packet.PublicKey, Packet = packet, Error = PublishError.NotMostRecent };
            }
        }

        var result = await _backend.PublishAsync(packet, expected, cancellationToken).ConfigureAwait(false);
        if (result.Succeeded && _cache is not null)
        {
            await _cache.PutIfNewerAsync(CachedPacket.Seen(packet, TimeProvider), CancellationToken.None).ConfigureAwait(false);
        }

        return result with { Packet = packet };
    }

    /// <summary>Stops the client synchronously, for hosts that dispose their services so (a plain
    /// <c>using var provider</c>); prefer <see cref="DisposeAsync"/>.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Stops the DHT node the client started and cancels queries in flight.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_dht is not null)
        {
            await _dht.DisposeAsync().ConfigureAwait(false);
        }

        _ownedHttp?.Dispose();
        _ownedCache?.Dispose();
        _stopping.Dispose();
    }

    /// <summary>
    /// One network query, shared by every caller of its key and policy until it completes. It starts when the first
    /// caller reads <see cref="Lazy{T}.Value"/>, which is after the entry is in <see cref="_inFlight"/>, so its removal
    /// on completion can never run before the entry exists. It runs on the client's lifetime, not on one caller's
    /// cancellation token, since other callers may be waiting for it.
    /// </summary>
    private Lazy<Task<ResolveResult>> NewQuery((PublicKey Key, ResolvePolicy Policy) id, CachedPacket? cached)
    {
        Lazy<Task<ResolveResult>>? query = null;
        query = new Lazy<Task<ResolveResult>>(() =>
        {
            var task = Task.Run(() => QueryAsync(id.Key, id.Policy, cached, _stopping.Token));
            _ = task.ContinueWith(
                _ => _inFlight.TryRemove(new KeyValuePair<(PublicKey, ResolvePolicy), Lazy<Task<ResolveResult>>>(id, query!)),
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
            return task;
        });
        return query;
    }

    private async Task<ResolveResult> QueryAsync(PublicKey key, ResolvePolicy policy, CachedPacket? cached, CancellationToken cancellationToken)
    {
        var context = policy == ResolvePolicy.CacheFirst
            ? new CacheContext(cached, Options.MinimumTtl, Options.MaximumTtl, TimeProvider)
            : null;
        var result = await _backend.ResolveAsync(key, policy, context, cancellationToken).ConfigureAwait(false);
        if (!result.Found)
        {
            LogNotFound(_logger, key, policy, result.Error);
            return result;
        }

        if (_cache is not null)
        {
            await _cache.PutIfNewerAsync(result.Entry, CancellationToken.None).ConfigureAwait(false);
        }

        // CacheFirst never returns an expired packet: a newer but expired answer only updates the cache (§5.3).
        return context is null || context.Acceptable(result.Entry) ? result : ResolveResult.NotFound;
    }

    private static List<Uri> RelayList(PkarrClientOptions options)
    {
        if (!options.UseRelays)
        {
            return [];
        }

        var relays = new List<Uri>();
        foreach (var relay in ((IEnumerable<Uri>?)options.Relays ?? PkarrClientOptions.DefaultRelays).Concat(options.ExtraRelays))
        {
            ArgumentNullException.ThrowIfNull(relay);
            if (Relays.RelayClient.Problem(relay) is { } problem)
            {
                throw Error.InvalidRelayUrl(relay.OriginalString, problem);
            }

            if (!relays.Contains(relay))
            {
                relays.Add(relay);
            }
        }

        return relays.Count > 0 ? relays : throw Error.EmptyListOfRelays();
    }

    /// <summary>The cache the options ask for: the given one, else a SQLite file (owned by the client) or memory;
    /// none when its capacity is 0 (spec §5.1: a zero-capacity cache disables caching).</summary>
    private static IPkarrCache? CreateCache(PkarrClientOptions options, ILoggerFactory loggers, out SqlitePkarrCache? owned)
    {
        owned = null;
        var cache = options.Cache;
        if (cache is null && options.CacheSize > 0)
        {
            cache = options.CachePath is { } path
                ? (owned = SqlitePkarrCache.Open(path, options.CacheSize, options.TimeProvider, loggers.CreateLogger<SqlitePkarrCache>()))
                : new MemoryPkarrCache(options.CacheSize);
        }

        return cache is { Capacity: 0 } ? null : cache;
    }

    private static HttpClient CreateHttpClient() =>
        new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), AutomaticDecompression = System.Net.DecompressionMethods.None })
        {
            // Each relay request has its own timeout (Options.RequestTimeout), measured on the client's clock.
            Timeout = Timeout.InfiniteTimeSpan,
        };

    [LoggerMessage(Level = LogLevel.Information, Message = "Publish of {Key} refused: the cache holds {Cached}, the packet is {Timestamp}")]
    private static partial void LogRefused(ILogger logger, PublicKey key, Timestamp cached, Timestamp timestamp);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Resolve of {Key} ({Policy}) found no packet: {Error}")]
    private static partial void LogNotFound(ILogger logger, PublicKey key, ResolvePolicy policy, ResolveError error);
}
