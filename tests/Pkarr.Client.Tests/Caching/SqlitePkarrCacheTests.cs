using Microsoft.Data.Sqlite;
using Pkarr.Client.Caching;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Tests.Caching;

public sealed class SqlitePkarrCacheTests : PkarrCacheTests
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "pkarr-sqlite-cache-tests", Guid.NewGuid().ToString("N"));
    private readonly List<SqlitePkarrCache> _caches = [];

    // A file in a directory that does not exist yet: opening creates it.
    private string FilePath => Path.Combine(_directory, "nested", "cache.db");

    protected override IPkarrCache Create(int capacity) => Open(capacity);

    private SqlitePkarrCache Open(int capacity)
    {
        var cache = SqlitePkarrCache.Open(FilePath, capacity, Time);
        _caches.Add(cache);
        return cache;
    }

    public override void Dispose()
    {
        foreach (var cache in _caches)
        {
            cache.Dispose();
        }

        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }

        base.Dispose();
    }

    private SqliteConnection Raw()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = FilePath, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    private object? RawScalar(string sql, params (string Name, object Value)[] parameters) =>
        Raw(sql, parameters, command => command.ExecuteScalar());

    private int RawExecute(string sql, params (string Name, object Value)[] parameters) =>
        Raw(sql, parameters, command => command.ExecuteNonQuery());

    private T Raw<T>(string sql, (string Name, object Value)[] parameters, Func<SqliteCommand, T> run)
    {
        using var connection = Raw();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return run(command);
    }

    private static (string, object) Key(PublicKey key) => ("$key", key.Bytes.ToArray());

    [Fact]
    public void The_file_is_in_wal_mode_and_its_directory_is_created()
    {
        Assert.False(Directory.Exists(Path.GetDirectoryName(FilePath)));
        var cache = Open(4);
        Assert.True(File.Exists(FilePath));
        Assert.Equal(Path.GetFullPath(FilePath), cache.Path);
        Assert.Equal("wal", RawScalar("PRAGMA journal_mode"));
    }

    [Fact]
    public async Task Packets_and_their_last_seen_survive_a_reopen()
    {
        var keypair = NewKeypair();
        var entry = SeenNow(Packet(keypair, 1234));
        await using (var cache = SqlitePkarrCache.Open(FilePath, 4, Time))
        {
            Assert.True(await cache.PutIfNewerAsync(entry));
        }

        await using (var reopened = SqlitePkarrCache.Open(FilePath, 4, Time))
        {
            var held = await reopened.GetAsync(keypair.PublicKey);
            Assert.Equal(entry, held);
            Assert.Equal(1, await reopened.CountAsync());

            // The reopened file still refuses what is older.
            Assert.False(await reopened.PutIfNewerAsync(SeenNow(Packet(keypair, 1000))));
            Assert.True(await reopened.PutIfNewerAsync(SeenNow(Packet(keypair, 2000))));
        }
    }

    [Fact]
    public async Task Reopening_with_a_smaller_capacity_keeps_the_most_recently_used()
    {
        var keypairs = Enumerable.Range(0, 4).Select(_ => NewKeypair()).ToArray();
        await using (var cache = SqlitePkarrCache.Open(FilePath, 4, Time))
        {
            foreach (var keypair in keypairs)
            {
                Assert.True(await cache.PutIfNewerAsync(SeenNow(Packet(keypair, 1))));
                Time.Advance(UseStep);
            }
        }

        await using var smaller = SqlitePkarrCache.Open(FilePath, 2, Time);
        Assert.Equal(2, await smaller.CountAsync());
        Assert.Null(await smaller.PeekAsync(keypairs[0].PublicKey));
        Assert.Null(await smaller.PeekAsync(keypairs[1].PublicKey));
        Assert.NotNull(await smaller.PeekAsync(keypairs[2].PublicKey));
        Assert.NotNull(await smaller.PeekAsync(keypairs[3].PublicKey));
    }

    [Fact]
    public async Task A_get_records_its_use_only_when_the_stored_one_is_older_than_the_interval()
    {
        var cache = Open(4);
        var keypair = NewKeypair();
        Assert.True(await cache.PutIfNewerAsync(SeenNow(Packet(keypair, 1))));
        long written = (long)RawScalar("SELECT last_used FROM packets WHERE key = $key", Key(keypair.PublicKey))!;

        Time.Advance(TimeSpan.FromMicroseconds(SqlitePkarrCache.TouchIntervalMicroseconds / 2));
        Assert.NotNull(await cache.GetAsync(keypair.PublicKey));
        Assert.Equal(written, (long)RawScalar("SELECT last_used FROM packets WHERE key = $key", Key(keypair.PublicKey))!);

        Time.Advance(TimeSpan.FromMicroseconds(SqlitePkarrCache.TouchIntervalMicroseconds / 2));
        Assert.NotNull(await cache.PeekAsync(keypair.PublicKey));
        Assert.Equal(written, (long)RawScalar("SELECT last_used FROM packets WHERE key = $key", Key(keypair.PublicKey))!);

        Assert.NotNull(await cache.GetAsync(keypair.PublicKey));
        Assert.Equal(
            (long)Timestamp.WallClock(Time).Microseconds,
            (long)RawScalar("SELECT last_used FROM packets WHERE key = $key", Key(keypair.PublicKey))!);
    }

    public static TheoryData<string> CorruptValues() => new() { "garbage", "truncated", "other key", "text" };

    [Theory]
    [MemberData(nameof(CorruptValues))]
    public async Task A_corrupt_row_reads_as_absent_is_removed_and_is_overwritten_by_any_packet(string kind)
    {
        var cache = Open(4);
        var keypair = NewKeypair();
        var stored = SeenNow(Packet(keypair, 500));
        Assert.True(await cache.PutIfNewerAsync(stored));

        object corrupt = kind switch
        {
            "garbage" => new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 },
            "truncated" => stored.Serialize()[..^3],
            "other key" => SeenNow(Packet(NewKeypair(), 900)).Serialize(),
            _ => "not a blob",
        };
        Assert.Equal(1, RawExecute("UPDATE packets SET packet = $packet WHERE key = $key", ("$packet", corrupt), Key(keypair.PublicKey)));

        Assert.Null(await cache.GetAsync(keypair.PublicKey));
        Assert.Equal(0L, RawScalar("SELECT COUNT(*) FROM packets"));
        Assert.Equal(0, await cache.CountAsync());

        // Any packet is stored where the corrupt row was, even one older than the packet it replaced.
        Assert.True(await cache.PutIfNewerAsync(SeenNow(Packet(keypair, 100))));
        Assert.Equal(100UL, (await cache.GetAsync(keypair.PublicKey))!.Packet.Timestamp.Microseconds);
        Assert.False(await cache.PutIfNewerAsync(SeenNow(Packet(keypair, 99))));
    }

    [Fact]
    public async Task A_write_over_a_corrupt_row_that_was_never_read_succeeds()
    {
        var cache = Open(4);
        var keypair = NewKeypair();
        Assert.True(await cache.PutIfNewerAsync(SeenNow(Packet(keypair, 500))));
        RawExecute("UPDATE packets SET packet = zeroblob(200) WHERE key = $key", Key(keypair.PublicKey));

        Assert.True(await cache.PutIfNewerAsync(SeenNow(Packet(keypair, 7))));
        Assert.Equal(1, await cache.CountAsync());
        Assert.Equal(7UL, (await cache.PeekAsync(keypair.PublicKey))!.Packet.Timestamp.Microseconds);
    }

    [Fact]
    public async Task A_peek_at_a_corrupt_row_reads_as_absent()
    {
        var cache = Open(4);
        var keypair = NewKeypair();
        Assert.True(await cache.PutIfNewerAsync(SeenNow(Packet(keypair, 500))));
        RawExecute("UPDATE packets SET packet = x'00' WHERE key = $key", Key(keypair.PublicKey));

        Assert.Null(await cache.PeekAsync(keypair.PublicKey));
        Assert.Null(await cache.GetAsync(keypair.PublicKey));
    }

    [Fact]
    public async Task Two_caches_on_one_file_end_with_the_newest_packet_of_each_key()
    {
        // Two instances have separate connections and separate in-process write queues, as two processes do.
        var first = Open(8);
        var second = Open(8);
        Keypair[] keypairs = [NewKeypair(), NewKeypair()];
        const int PerKey = 48;
        var writes = keypairs
            .SelectMany(keypair => Enumerable.Range(1, PerKey).Select(t => Packet(keypair, (ulong)t)))
            .Select((packet, i) => (Packet: packet, Cache: i % 2 == 0 ? first : second))
            .ToArray();
        Random.Shared.Shuffle(writes);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await Parallel.ForEachAsync(
            writes,
            new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = timeout.Token },
            async (write, token) =>
            {
                await write.Cache.PutIfNewerAsync(SeenNow(write.Packet), token);
                var held = await write.Cache.PeekAsync(write.Packet.PublicKey, token);
                Assert.True(held!.Packet.Timestamp >= write.Packet.Timestamp);
            });

        foreach (var keypair in keypairs)
        {
            Assert.Equal((ulong)PerKey, (await first.GetAsync(keypair.PublicKey))!.Packet.Timestamp.Microseconds);
            Assert.Equal((ulong)PerKey, (await second.GetAsync(keypair.PublicKey))!.Packet.Timestamp.Microseconds);
        }

        Assert.Equal(keypairs.Length, await first.CountAsync());
        Assert.Equal("ok", RawScalar("PRAGMA integrity_check"));
    }

    [Fact]
    public async Task The_row_count_follows_inserts_updates_and_evictions()
    {
        var cache = Open(3);
        var keypairs = Enumerable.Range(0, 5).Select(_ => NewKeypair()).ToArray();
        for (int i = 0; i < keypairs.Length; i++)
        {
            Assert.True(await cache.PutIfNewerAsync(SeenNow(Packet(keypairs[i], 1))));
            Assert.True(await cache.PutIfNewerAsync(SeenNow(Packet(keypairs[i], 2))));
            Time.Advance(UseStep);
            Assert.Equal(Math.Min(i + 1, 3), await cache.CountAsync());
            Assert.Equal((long)Math.Min(i + 1, 3), RawScalar("SELECT COUNT(*) FROM packets"));
        }
    }

    [Fact]
    public async Task A_disposed_cache_refuses_operations()
    {
        var cache = Open(2);
        var keypair = NewKeypair();
        await cache.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await cache.GetAsync(keypair.PublicKey));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await cache.PutIfNewerAsync(SeenNow(Packet(keypair, 1))));
    }
}
