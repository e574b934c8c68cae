// Opens the relay's store as its settings say. Placeholder: the SQLite file only.

using Microsoft.Extensions.Logging;
using Pkarr.Client.Caching;

namespace Pkarr.Relay.Storage;

internal sealed class RelayStore : IAsyncDisposable
{
    private readonly SqlitePkarrCache? _sqlite;

    private RelayStore(IPkarrCache? cache, string location, SqlitePkarrCache? sqlite)
    {
        Cache = cache;
        Location = location;
        _sqlite = sqlite;
    }

    public IPkarrCache? Cache { get; }

    public string Location { get; }

    public static Task<RelayStore> OpenAsync(CacheSettings settings, string? ephemeralDirectory, TimeProvider time, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        _ = cancellationToken;
        if (settings.Size == 0)
        {
            return Task.FromResult(new RelayStore(null, "(none: cache size 0)", null));
        }

        string directory = System.IO.Path.Combine(settings.Path ?? ephemeralDirectory!, "pkarr-cache");
        string file = System.IO.Path.Combine(directory, "packets.db");
        var sqlite = SqlitePkarrCache.Open(file, settings.Size, time, loggers.CreateLogger<SqlitePkarrCache>());
        return Task.FromResult(new RelayStore(sqlite, file, sqlite));
    }

    public ValueTask DisposeAsync() => _sqlite?.DisposeAsync() ?? ValueTask.CompletedTask;
}
