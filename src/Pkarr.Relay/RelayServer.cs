// The relay (shared spec pkarr.md §6): an ASP.NET Core app on Kestrel in front of a pkarr client that owns nothing
// but logic; the relay owns the pieces and their order of shutdown.
//
//   HTTP ─▶ HTTP rate limit ─▶ CORS ─▶ routes: GET/HEAD/PUT /{key}, /, /healthz, /readyz, /metrics
//                                        │
//                                        ▼
//            PkarrClient (DHT only; its cache is the store) ─▶ Dht node (server mode, incoming-DHT rate limit)
//                                        │
//                              store: hot layer ─▶ SQLite file | Redis (fleet)
//
// Shutdown: stop accepting HTTP and let requests in flight finish, stop the republisher, stop the DHT node, then
// close the store (which makes every acknowledged write durable).

using System.Net;
using System.Net.Sockets;
using Mainline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Pkarr.Client;
using Pkarr.Client.Caching;
using Pkarr.Relay.Http;
using Pkarr.Relay.Metrics;
using Pkarr.Relay.RateLimiting;
using Pkarr.Relay.Republishing;
using Pkarr.Relay.Storage;

namespace Pkarr.Relay;

/// <summary>
/// A running pkarr relay: the HTTP API of spec §6 on Kestrel, its own DHT node in server mode, and a durable store.
/// Start one with <see cref="StartAsync"/>; <see cref="DisposeAsync"/> shuts it down gracefully.
/// </summary>
public sealed partial class RelayServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly RelayContext _context;
    private readonly Testnet? _testnet;
    private readonly Dht _dht;
    private readonly IAsyncDisposable _store;
    private readonly string? _ephemeralDirectory;
    private readonly ILogger _logger;
    private int _stopped;

    private RelayServer(WebApplication app, RelayContext context, Testnet? testnet, Dht dht, IAsyncDisposable store, string? ephemeralDirectory, ILogger logger)
    {
        _app = app;
        _context = context;
        _testnet = testnet;
        _dht = dht;
        _store = store;
        _ephemeralDirectory = ephemeralDirectory;
        _logger = logger;
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        Url = new Uri(addresses.First().Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal) + "/");
    }

    /// <summary>The base URL of the HTTP API (the bound address; 127.0.0.1 when bound to every interface).</summary>
    public Uri Url { get; }

    /// <summary>The relay's DHT node.</summary>
    public Dht Dht => _dht;

    /// <summary>The UDP endpoint of the relay's DHT node.</summary>
    public IPEndPoint DhtEndPoint => _dht.LocalEndPoint;

    /// <summary>The nodes of the in-process testnet (<see cref="RelayOptions.Testnet"/>), for clients to bootstrap
    /// from; empty otherwise.</summary>
    public IReadOnlyList<IPEndPoint> TestnetBootstrap => _testnet?.Bootstrap ?? [];

    /// <summary>The packet store; null when its size is 0.</summary>
    public IPkarrCache? Store => _context.Store;

    /// <summary>Where the store lives: the SQLite file, or the Redis server.</summary>
    public string StoreLocation => _context.StoreLocation;

    /// <summary>The settings the relay runs with.</summary>
    public RelayOptions Options => _context.Options;

    /// <summary>Starts a relay: the testnet if asked for, the DHT node, the store, then the HTTP listener.</summary>
    /// <exception cref="IOException">The HTTP port is taken.</exception>
    /// <exception cref="InvalidOperationException">The store cannot be opened.</exception>
    public static async Task<RelayServer> StartAsync(RelayOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var loggers = options.LoggerFactory ?? NullLoggerFactory.Instance;
        var logger = loggers.CreateLogger<RelayServer>();
        var time = options.TimeProvider;

        Testnet? testnet = null;
        Dht? dht = null;
        RelayStore? store = null;
        RelayRateLimits? limits = null;
        PkarrClient? client = null;
        RelayContext? context = null;
        WebApplication? app = null;
        string? ephemeral = null;
        try
        {
            if (options.Testnet)
            {
                testnet = await Mainline.Testnet.CreateAsync(10, seeded: true, time, cancellationToken).ConfigureAwait(false);
            }

            limits = new RelayRateLimits(options.RateLimiter, options.RateLimitClock ?? time);
            dht = await StartDhtAsync(options, testnet, limits, loggers, logger, cancellationToken).ConfigureAwait(false);

            if (options.Cache.Backend == StoreBackend.Sqlite && options.Cache.Path is null && options.Cache.Size > 0)
            {
                ephemeral = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "pkarr-relay-" + Pkarr.Packets.Timestamp.Now().Microseconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
                Directory.CreateDirectory(ephemeral);
                LogEphemeral(logger, ephemeral);
            }

            store = await RelayStore.OpenAsync(options.Cache, ephemeral, time, loggers, cancellationToken).ConfigureAwait(false);
            client = new PkarrClient(new PkarrClientOptions
            {
                UseDht = true,
                UseRelays = false,
                Dht = dht,
                Cache = store.Cache ?? new MemoryPkarrCache(0),
                MinimumTtl = options.Cache.MinimumTtl,
                MaximumTtl = options.Cache.MaximumTtl,
                TimeProvider = time,
                LoggerFactory = loggers,
            });

            var metrics = new RelayMetrics(time);
            limits.Metrics = metrics;
            context = new RelayContext(options, client, store.Cache, store.Location, dht, metrics, limits, time);
            context.Republisher = RelayRepublisher.Create(options, client, metrics, loggers);
            app = Build(context, loggers);
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            await (context.Republisher?.StartAsync(cancellationToken) ?? Task.CompletedTask).ConfigureAwait(false);
            var server = new RelayServer(app, context, testnet, dht, store, ephemeral, logger);
            LogStarted(logger, server.Url, server.DhtEndPoint, store.Location);
            return server;
        }
        catch
        {
            // Undone in the reverse order of StartAsync; the context owns the client, limits and republisher.
            if (app is not null)
            {
                await app.DisposeAsync().ConfigureAwait(false);
            }

            if (context is not null)
            {
                await context.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                if (client is not null)
                {
                    await client.DisposeAsync().ConfigureAwait(false);
                }

                limits?.Dispose();
            }

            if (store is not null)
            {
                await store.DisposeAsync().ConfigureAwait(false);
            }

            if (dht is not null)
            {
                await dht.DisposeAsync().ConfigureAwait(false);
            }

            if (testnet is not null)
            {
                await testnet.DisposeAsync().ConfigureAwait(false);
            }

            DeleteEphemeral(ephemeral, logger);
            throw;
        }
    }

    /// <summary>Completes when the host is asked to stop (Ctrl-C, SIGTERM) or <paramref name="cancellationToken"/> fires.</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    /// <summary>Shuts the relay down gracefully: requests in flight finish, then the DHT node stops and the store closes.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        LogStopping(_logger);
        await _app.StopAsync(cancellationToken).ConfigureAwait(false);
        await _context.DisposeAsync().ConfigureAwait(false);
        await _dht.DisposeAsync().ConfigureAwait(false);
        if (_testnet is not null)
        {
            await _testnet.DisposeAsync().ConfigureAwait(false);
        }

        await _store.DisposeAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        DeleteEphemeral(_ephemeralDirectory, _logger);
        LogStopped(_logger);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private static WebApplication Build(RelayContext context, ILoggerFactory loggers)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(RelayServer).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggers);
        builder.Services.AddSingleton(context);
        builder.Services.AddSingleton(context.Time);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = RelayApi.RequestBodyLimit;
            kestrel.Listen(context.Options.Http.BindAddress, context.Options.Http.Port);
        });
        builder.Services.AddRouting();
        RelayApi.AddWebServices(builder.Services, context);
        RelayMetrics.AddServices(builder.Services, context);
        context.Limits.AddServices(builder.Services);

        var app = builder.Build();
        RelayApi.UseWeb(app, context);
        context.Limits.UseHttpLimit(app);
        app.UseMiddleware<CorsMiddleware>();
        app.UseRouting();
        RelayApi.Map(app, context);
        RelayMetrics.Map(app);
        return app;
    }

    private static async Task<Dht> StartDhtAsync(RelayOptions options, Testnet? testnet, RelayRateLimits limits, ILoggerFactory loggers, ILogger logger, CancellationToken cancellationToken)
    {
        var settings = options.Mainline;
        var dhtOptions = new DhtOptions
        {
            Mode = DhtMode.Server,
            BindAddress = settings.BindAddress,
            Port = settings.Port,
            Bootstrap = testnet is not null ? [.. testnet.Bootstrap]
                : settings.Bootstrap is { } list ? [.. list.Select(Mainline.DhtEndPoint.Parse)]
                : null,
            RequestFilter = limits.DhtRequestFilter,
            TimeProvider = options.TimeProvider,
            LoggerFactory = loggers,
        };

        if (testnet is not null)
        {
            // Every node of the testnet, and every client on this host, is 127.0.0.1: per-IP and per-/24 limits made
            // for the internet would throttle the whole testnet as one peer.
            dhtOptions.RateLimitPerIp = 0;
            dhtOptions.RateLimitPerSubnet = 0;
            dhtOptions.ReplyBytesPerSecond = 0;
            dhtOptions.Server = new ServerSettings { MaxItemsPerIp = int.MaxValue, MaxPeersPerIp = int.MaxValue };
        }

        try
        {
            return await Dht.CreateAsync(dhtOptions, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse && settings.Port is > 0)
        {
            // A configured port that is taken falls back to one the OS chooses, as an unset port does: a relay that
            // serves HTTP without its well-known DHT port is more useful than one that does not start.
            LogDhtPortTaken(logger, settings.Port.Value);
            dhtOptions.Port = 0;
            return await Dht.CreateAsync(dhtOptions, cancellationToken).ConfigureAwait(false);
        }
    }

    private static void DeleteEphemeral(string? directory, ILogger logger)
    {
        if (directory is null)
        {
            return;
        }

        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException e)
        {
            LogEphemeralNotDeleted(logger, directory, e.Message);
        }
        catch (UnauthorizedAccessException e)
        {
            LogEphemeralNotDeleted(logger, directory, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Relay listening on {Url}; DHT node on UDP {Dht}; store at {Store}")]
    private static partial void LogStarted(ILogger logger, Uri url, IPEndPoint dht, string store);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No cache path is configured: the store is ephemeral, in {Directory}, and is deleted at shutdown. Set [cache] path to keep packets across restarts.")]
    private static partial void LogEphemeral(ILogger logger, string directory);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not delete the ephemeral store {Directory}: {Reason}")]
    private static partial void LogEphemeralNotDeleted(ILogger logger, string directory, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "UDP port {Port} is taken: the DHT node uses a port the OS chooses instead")]
    private static partial void LogDhtPortTaken(ILogger logger, int port);

    [LoggerMessage(Level = LogLevel.Information, Message = "Relay stopping: finishing requests in flight, then closing the DHT node and the store")]
    private static partial void LogStopping(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Relay stopped")]
    private static partial void LogStopped(ILogger logger);
}
