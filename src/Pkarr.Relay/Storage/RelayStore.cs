// Opens the relay's store as its settings say (issue 11, spec §6.6):
//
//   sqlite  <path>/pkarr-cache/packets.db (SqlitePkarrCache), behind a HotPacketCache of hot_size packets unless 0
//   redis   a RedisPkarrCache shared by a fleet of relays (no memory layer: other relays write it)
//   size 0  no store at all
//
// Closing flushes the hot layer's queued uses into the file, then closes the file or the connection. Every write
// was durable before it returned, so closing loses nothing acknowledged; it only keeps the LRU order current.

using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Pkarr.Client.Caching;

namespace Pkarr.Relay.Storage;

internal sealed class RelayStore : IAsyncDisposable
{
    private readonly IAsyncDisposable[] _owned;
    private int _disposed;

    private RelayStore(IPkarrCache? cache, string location, params IAsyncDisposable[] owned)
    {
        Cache = cache;
        Location = location;
        _owned = owned;
    }

    /// <summary>The store the relay's client reads and writes; null when the size is 0.</summary>
    public IPkarrCache? Cache { get; }

    /// <summary>The SQLite file, or the Redis server without credentials.</summary>
    public string Location { get; }

    /// <summary>Opens the store of <paramref name="settings"/>.</summary>
    /// <param name="settings">The <c>[cache]</c> section.</param>
    /// <param name="ephemeralDirectory">Where the SQLite store goes when <see cref="CacheSettings.Path"/> is null.</param>
    /// <param name="time">The clock of last-seen and last-use times.</param>
    /// <param name="loggers">Where the stores log.</param>
    /// <param name="cancellationToken">Cancels connecting to Redis.</param>
    /// <exception cref="InvalidOperationException">The store cannot be opened; the message names the setting.</exception>
    public static async Task<RelayStore> OpenAsync(CacheSettings settings, string? ephemeralDirectory, TimeProvider time, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Size == 0)
        {
            return new RelayStore(null, "(none: cache size 0)");
        }

        if (settings.Backend == StoreBackend.Redis)
        {
            if (string.IsNullOrWhiteSpace(settings.RedisUrl))
            {
                throw Error.RedisUrlMissing();
            }

            var redis = await RedisPkarrCache.OpenAsync(settings.RedisUrl, settings.RedisPrefix, settings.Size, time, loggers, cancellationToken).ConfigureAwait(false);
            return new RelayStore(redis, redis.Location, redis);
        }

        string root = settings.Path ?? ephemeralDirectory ?? throw Error.ArgumentNull(nameof(ephemeralDirectory));
        string file = System.IO.Path.GetFullPath(System.IO.Path.Combine(root, "pkarr-cache", "packets.db"));
        SqlitePkarrCache sqlite;
        try
        {
            sqlite = SqlitePkarrCache.Open(file, settings.Size, time, loggers.CreateLogger<SqlitePkarrCache>());
        }
        catch (Exception e) when (e is SqliteException or IOException or UnauthorizedAccessException)
        {
            throw Error.SqliteUnopenable(file, e);
        }

        if (settings.HotSize <= 0)
        {
            return new RelayStore(sqlite, file, sqlite);
        }

        // Memory never holds more than the file: a hot layer larger than the store would serve evicted packets.
        var hot = new HotPacketCache(sqlite, Math.Min(settings.HotSize, settings.Size), sqlite.RecordUsesAsync, time, loggers.CreateLogger<HotPacketCache>());

        // The hot layer first: its last flush writes into the file.
        return new RelayStore(hot, file, hot, sqlite);
    }

    /// <summary>Flushes the hot layer, then closes the file or the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var owned in _owned)
        {
            await owned.DisposeAsync().ConfigureAwait(false);
        }
    }
}
