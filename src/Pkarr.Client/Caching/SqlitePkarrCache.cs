// A persistent client cache (shared spec pkarr.md §5.2) in one SQLite file, shared safely by the threads of a process
// and by several processes. Each row is one key's most recent packet in its storage form (spec §3.1) and the time it
// was last used, by which the least recently used rows are evicted above the capacity.
//
//   packets      (key BLOB PRIMARY KEY,   the raw 32-byte public key
//                 packet BLOB,            CachedPacket.Serialize(): last_seen (8, BE µs) || canonical bytes
//                 last_used INTEGER)      µs since the Unix epoch, from the TimeProvider
//   packet_count (n INTEGER)              the number of rows of packets, kept by triggers
//
// The spec keys caches by SHA1(key). The raw key is as unique, needs no hashing, and lets a read check that the row
// holds a packet of the key it is filed under. SQLite counts rows by scanning them, so the count that eviction
// compares with the capacity is kept by triggers in its own row, in the same transaction as each insert and delete.

using System.Collections.Concurrent;
using System.Data;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Caching;

/// <summary>
/// A least-recently-used cache of the most recent packet per key in a SQLite file, which survives restarts and may be
/// shared by several processes. Writes are atomic across processes, so no interleaving of writers replaces a packet
/// with an older one; a row that does not hold a valid packet reads as absent and is removed. Safe for concurrent use.
/// </summary>
/// <remarks>
/// SQLite calls are synchronous: an operation may block its caller while another process holds the write lock, up to
/// the busy timeout of 10 s. Writers of one process queue without blocking a thread.
/// </remarks>
public sealed partial class SqlitePkarrCache : IPkarrCache, IDisposable, IAsyncDisposable
{
    // How long an operation waits for another connection's write lock before it fails. Writes hold the lock for a
    // read and a write of one row, so anything near this long means a stuck process, not contention.
    private const int BusyTimeoutMilliseconds = 10_000;

    // A read moves a row's last use forward only when the stored one is older than this. Recording every hit would
    // turn each read into a write transaction, taking the file's single write lock from writers in this and other
    // processes; at this resolution a key read steadily costs one small write a minute, and eviction still tells keys
    // read in the last minute from keys not read for hours, which is what an LRU of thousands of entries needs.
    internal const long TouchIntervalMicroseconds = 60_000_000;

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS packets (
            key BLOB PRIMARY KEY NOT NULL,
            packet BLOB NOT NULL,
            last_used INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS packets_by_last_used ON packets (last_used);
        CREATE TABLE IF NOT EXISTS packet_count (id INTEGER PRIMARY KEY CHECK (id = 0), n INTEGER NOT NULL);
        INSERT OR IGNORE INTO packet_count (id, n) VALUES (0, 0);
        CREATE TRIGGER IF NOT EXISTS packets_inserted AFTER INSERT ON packets BEGIN UPDATE packet_count SET n = n + 1; END;
        CREATE TRIGGER IF NOT EXISTS packets_deleted AFTER DELETE ON packets BEGIN UPDATE packet_count SET n = n - 1; END;
        """;

    private readonly string _connectionString;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    // Open connections ready for use: each keeps its per-connection settings, so an operation costs no open and no
    // pragma. Idle connections above the limit are closed.
    private readonly ConcurrentBag<SqliteConnection> _idle = [];
    private readonly int _maxIdle = Math.Clamp(Environment.ProcessorCount, 2, 8);

    // Writers of this process take turns here, awaiting without a thread; only writers of other processes wait in
    // SQLite's busy handler, which polls with sleeps.
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private volatile bool _disposed;

    private SqlitePkarrCache(string path, int capacity, TimeProvider time, ILogger logger)
    {
        Path = path;
        Capacity = capacity;
        _time = time;
        _logger = logger;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        }.ToString();
    }

    /// <summary>The full path of the database file.</summary>
    public string Path { get; }

    /// <inheritdoc />
    public int Capacity { get; }

    /// <summary>
    /// Opens the cache at <paramref name="path"/>, creating the directory, the file and its tables as needed, and
    /// evicts the least recently used rows above <paramref name="capacity"/> (all of them when it is 0).
    /// </summary>
    /// <param name="path">The database file; relative to the current directory unless absolute.</param>
    /// <param name="capacity">The number of packets held at most; 0 holds nothing.</param>
    /// <param name="time">The clock of last-seen and last-used times; the system's by default.</param>
    /// <param name="logger">Where rows that are not packets are reported; nowhere by default.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is negative.</exception>
    /// <exception cref="SqliteException">The file cannot be opened or is not a SQLite database.</exception>
    public static SqlitePkarrCache Open(string path, int capacity, TimeProvider? time = null, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        string fullPath = System.IO.Path.GetFullPath(path);
        string? directory = System.IO.Path.GetDirectoryName(fullPath);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        var cache = new SqlitePkarrCache(fullPath, capacity, time ?? TimeProvider.System, logger ?? NullLogger.Instance);
        try
        {
            cache.CreateSchema();
            return cache;
        }
        catch
        {
            cache.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public ValueTask<int> CountAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var connection = Rent();
        try
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT n FROM packet_count";
            return ValueTask.FromResult((int)Math.Clamp((long)(command.ExecuteScalar() ?? 0L), 0, int.MaxValue));
        }
        finally
        {
            Return(connection);
        }
    }

    /// <inheritdoc />
    public ValueTask<CachedPacket?> GetAsync(PublicKey key, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Read(key, touch: true));
    }

    /// <inheritdoc />
    public ValueTask<CachedPacket?> PeekAsync(PublicKey key, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Read(key, touch: false));
    }

    /// <inheritdoc />
    public async ValueTask<bool> PutIfNewerAsync(CachedPacket entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Capacity == 0)
        {
            return false;
        }

        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return Put(entry);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>
    /// Records uses made outside this cache (a memory layer in front of it that serves hits itself): each key's
    /// last use moves forward to the given time (µs since the Unix epoch, the clock of this cache), never back.
    /// Keys that are not held are skipped. Writes in transactions of <see cref="UseBatchLength"/> keys, taking
    /// turns with this process's writers between them.
    /// </summary>
    internal async ValueTask RecordUsesAsync(IReadOnlyCollection<KeyValuePair<PublicKey, long>> uses, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(uses);
        ObjectDisposedException.ThrowIf(_disposed, this);
        foreach (var batch in uses.Chunk(UseBatchLength))
        {
            await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                RecordUses(batch);
            }
            finally
            {
                _writeGate.Release();
            }
        }
    }

    // A batch is small enough that a writer waiting behind it waits for one short transaction, not for all the uses
    // a memory layer has gathered.
    internal const int UseBatchLength = 512;

    /// <summary>Closes the cache's connections; operations still running finish first on their own connection.</summary>
    public void Dispose()
    {
        _disposed = true;
        while (_idle.TryTake(out var connection))
        {
            connection.Dispose();
        }
    }

    /// <inheritdoc cref="Dispose" />
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    private CachedPacket? Read(PublicKey key, bool touch)
    {
        var connection = Rent();
        try
        {
            object raw;
            long lastUsed;
            using (var select = connection.CreateCommand())
            {
                select.CommandText = "SELECT packet, last_used FROM packets WHERE key = $key";
                select.Parameters.AddWithValue("$key", key.Bytes.ToArray());
                using var reader = select.ExecuteReader();
                if (!reader.Read())
                {
                    return null;
                }

                raw = reader.GetValue(0);
                lastUsed = reader.GetInt64(1);
            }

            if (!TryReadRow(key, raw, out var entry))
            {
                DeleteCorrupt(connection, key, raw);
                return null;
            }

            long now = Now();
            if (touch && now - lastUsed >= TouchIntervalMicroseconds && _writeGate.Wait(0))
            {
                // A read never waits for a writer of this process: when one is busy, this use goes unrecorded.
                try
                {
                    using var update = connection.CreateCommand();
                    update.CommandText = "UPDATE packets SET last_used = $now WHERE key = $key AND last_used < $now";
                    update.Parameters.AddWithValue("$now", now);
                    update.Parameters.AddWithValue("$key", key.Bytes.ToArray());
                    update.ExecuteNonQuery();
                }
                finally
                {
                    _writeGate.Release();
                }
            }

            return entry;
        }
        finally
        {
            Return(connection);
        }
    }

    private void RecordUses(KeyValuePair<PublicKey, long>[] batch)
    {
        var connection = Rent();
        try
        {
            using var transaction = connection.BeginTransaction(IsolationLevel.Serializable, deferred: false);
            using var update = connection.CreateCommand();
            update.CommandText = "UPDATE packets SET last_used = $used WHERE key = $key AND last_used < $used";
            var used = update.Parameters.Add("$used", SqliteType.Integer);
            var key = update.Parameters.Add("$key", SqliteType.Blob);
            foreach (var (publicKey, time) in batch)
            {
                used.Value = time;
                key.Value = publicKey.Bytes.ToArray();
                update.ExecuteNonQuery();
            }

            transaction.Commit();
        }
        finally
        {
            Return(connection);
        }
    }

    // The spec's UpdateCacheIfNeeded as one IMMEDIATE transaction: it takes the file's write lock before the read, so
    // no other connection or process writes the row between the comparison and the write.
    private bool Put(CachedPacket entry)
    {
        var key = entry.Packet.PublicKey;
        byte[] keyBytes = key.Bytes.ToArray();
        var connection = Rent();
        try
        {
            using var transaction = connection.BeginTransaction(IsolationLevel.Serializable, deferred: false);
            CachedPacket? current = null;
            bool exists;
            using (var select = connection.CreateCommand())
            {
                select.CommandText = "SELECT packet FROM packets WHERE key = $key";
                select.Parameters.AddWithValue("$key", keyBytes);
                object? raw = select.ExecuteScalar();
                exists = raw is not null;
                if (exists && !TryReadRow(key, raw!, out current))
                {
                    // Overwritten below, in this transaction.
                    current = null;
                }
            }

            if (!entry.Supersedes(current))
            {
                return false;
            }

            using (var write = connection.CreateCommand())
            {
                write.CommandText = exists
                    ? "UPDATE packets SET packet = $packet, last_used = $now WHERE key = $key"
                    : "INSERT INTO packets (key, packet, last_used) VALUES ($key, $packet, $now)";
                write.Parameters.AddWithValue("$key", keyBytes);
                write.Parameters.AddWithValue("$packet", entry.Serialize());
                write.Parameters.AddWithValue("$now", Now());
                write.ExecuteNonQuery();
            }

            if (!exists)
            {
                EvictAboveCapacity(connection, keyBytes);
            }

            transaction.Commit();
            return true;
        }
        finally
        {
            Return(connection);
        }
    }

    // Deletes the least recently used rows until at most Capacity remain, sparing the row just written. Runs inside
    // the caller's transaction.
    private void EvictAboveCapacity(SqliteConnection connection, byte[]? spare)
    {
        long excess;
        using (var count = connection.CreateCommand())
        {
            count.CommandText = "SELECT n FROM packet_count";
            excess = (long)(count.ExecuteScalar() ?? 0L) - Capacity;
        }

        if (excess <= 0)
        {
            return;
        }

        using var evict = connection.CreateCommand();
        evict.CommandText = """
            DELETE FROM packets WHERE key IN (
                SELECT key FROM packets WHERE key IS NOT $spare ORDER BY last_used LIMIT $excess)
            """;
        evict.Parameters.AddWithValue("$spare", (object?)spare ?? DBNull.Value);
        evict.Parameters.AddWithValue("$excess", excess);
        evict.ExecuteNonQuery();
    }

    // A row is a packet when it is a blob in the storage form whose packet belongs to the key it is filed under.
    private bool TryReadRow(PublicKey key, object raw, out CachedPacket? entry)
    {
        entry = null;
        if (raw is not byte[] stored)
        {
            Log.CorruptRow(_logger, key, Path, "not a blob");
            return false;
        }

        if (!CachedPacket.TryDeserialize(stored, out var read, out var error, _time))
        {
            Log.CorruptRow(_logger, key, Path, error.Message);
            return false;
        }

        if (read.Packet.PublicKey != key)
        {
            Log.CorruptRow(_logger, key, Path, "a packet of another key");
            return false;
        }

        entry = read;
        return true;
    }

    // Removes a row that is not a packet, unless a writer has replaced it since it was read. Best effort: when this
    // process's writers are busy the row stays, reads as absent, and the next write of the key overwrites it.
    private void DeleteCorrupt(SqliteConnection connection, PublicKey key, object raw)
    {
        if (!_writeGate.Wait(0))
        {
            return;
        }

        try
        {
            using var delete = connection.CreateCommand();
            delete.CommandText = "DELETE FROM packets WHERE key = $key AND packet IS $raw";
            delete.Parameters.AddWithValue("$key", key.Bytes.ToArray());
            delete.Parameters.AddWithValue("$raw", raw);
            delete.ExecuteNonQuery();
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private void CreateSchema()
    {
        var connection = Rent();
        try
        {
            using (var wal = connection.CreateCommand())
            {
                // WAL lets readers go on while one connection writes, in this process or another, and a commit
                // appends to the log instead of rewriting pages in place. The mode is stored in the file.
                wal.CommandText = "PRAGMA journal_mode = WAL";
                wal.ExecuteNonQuery();
            }

            using var transaction = connection.BeginTransaction(IsolationLevel.Serializable, deferred: false);
            using (var schema = connection.CreateCommand())
            {
                schema.CommandText = Schema;
                schema.ExecuteNonQuery();
            }

            // A smaller capacity than the file was last used with takes effect now, not one eviction per insert.
            EvictAboveCapacity(connection, spare: null);
            transaction.Commit();
        }
        finally
        {
            Return(connection);
        }
    }

    private SqliteConnection Rent()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_idle.TryTake(out var idle))
        {
            return idle;
        }

        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            using var settings = connection.CreateCommand();

            // synchronous = NORMAL in WAL mode: a commit has written its pages to the log (the operating system's
            // file cache) before it returns, so a process killed at any point loses no committed write and leaves no
            // torn one (the log's checksums drop a partial tail). Only a power cut or an operating-system crash can
            // lose the last commits, never consistency; for a cache that means asking the network again, which is
            // cheaper than the fsync per write that FULL costs.
            settings.CommandText = $"PRAGMA busy_timeout = {BusyTimeoutMilliseconds}; PRAGMA synchronous = NORMAL;";
            settings.ExecuteNonQuery();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private void Return(SqliteConnection connection)
    {
        if (_disposed || _idle.Count >= _maxIdle)
        {
            connection.Dispose();
            return;
        }

        _idle.Add(connection);

        // Dispose may have drained the bag between the check and the add.
        while (_disposed && _idle.TryTake(out var late))
        {
            late.Dispose();
        }
    }

    private long Now() => (long)Math.Min(Timestamp.WallClock(_time).Microseconds, long.MaxValue);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "The cached row of {Key} in {Path} is not a packet ({Reason}); it reads as absent and is removed")]
        public static partial void CorruptRow(ILogger logger, PublicKey key, string path, string reason);
    }
}
