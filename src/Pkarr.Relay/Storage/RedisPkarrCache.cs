// The fleet store (issue 11, spec §5.2, §6.6): one Redis server shared by several relays behind a load balancer, so a
// packet PUT on any of them is served by all. Two keys under the configured prefix:
//
//   <prefix>packets  HASH  field: the z-base32 public key → CachedPacket.Serialize(): last_seen (8, BE µs) || canonical
//   <prefix>lru      ZSET  member: the z-base32 public key, score: last use (µs since the epoch)
//
// The write is the spec's UpdateCacheIfNeeded as one Lua script, run atomically by Redis in one round trip: it
// compares the held entry with the new one exactly as CachedPacket.Supersedes does, writes only then, and evicts the
// least recently used above the capacity, so no interleaving of relays ever replaces a packet with an older one.
// Fields are the text form of the key, as in URLs, so an operator can look one up with redis-cli; both keys are named
// in KEYS, so a Redis Cluster runs the scripts when the prefix carries a hash tag (e.g. "{pkarr}:").
//
// There is no memory layer in front of this store: the other relays write it, and a packet held in this process's
// memory would go on being served after another relay stored a newer one. A hit is one round trip to Redis.
//
// Last-use times come from each relay's clock (relays keep NTP time; the LRU needs seconds, not microseconds), and a
// read moves a key's time only forward (ZADD GT, Redis 6.2 or newer), so a relay whose clock lags does not age a key.

using System.Buffers.Binary;
using System.Net;
using Microsoft.Extensions.Logging;
using Pkarr.Client.Caching;
using Pkarr.Keys;
using Pkarr.Packets;
using StackExchange.Redis;

namespace Pkarr.Relay.Storage;

/// <summary>
/// An LRU store of the most recent packet per key in a Redis server that several relays share. Writes are atomic
/// compare-and-set scripts: no interleaving of writers, in this process or another relay, replaces a packet with an
/// older one. A value that is not a packet of its key reads as absent. Safe for concurrent use.
/// </summary>
internal sealed partial class RedisPkarrCache : IPkarrCache, IAsyncDisposable
{
    /// <summary>The most keys one script evicts. A write adds one key, so this keeps any write's script short (Redis
    /// runs nothing else meanwhile) and still shrinks a store opened with a smaller capacity in a few writes.</summary>
    internal const int EvictionBudget = 64;

    // Evicts the least recently used keys while the hash holds more than `capacity`, sparing `spare`, at most `budget`
    // of them; returns how many are still above the capacity. A member of the sorted set without a field counts for
    // nothing and is dropped.
    private const string EvictFunction = """
        local function evict(capacity, budget, spare)
          local excess = redis.call('HLEN', KEYS[1]) - capacity
          while excess > 0 and budget > 0 do
            local oldest = redis.call('ZRANGE', KEYS[2], 0, math.min(excess, budget))
            local progressed = false
            for _, member in ipairs(oldest) do
              if member ~= spare and excess > 0 and budget > 0 then
                redis.call('ZREM', KEYS[2], member)
                excess = excess - redis.call('HDEL', KEYS[1], member)
                budget = budget - 1
                progressed = true
              end
            end
            if not progressed then break end
          end
          return excess
        end
        """;

    // CachedPacket.Supersedes on the storage form (1-based): last_seen 1..8, key 9..40, signature 41..104,
    // timestamp 105..112 (big-endian, so bytes compare as numbers), DNS message 113.. (spec §3.1, §3.7).
    //
    // KEYS[1] packets, KEYS[2] lru; ARGV[1] field, ARGV[2] the new entry, ARGV[3] the raw key, ARGV[4] now (µs),
    // ARGV[5] capacity, ARGV[6] the latest believable last_seen (8 bytes BE), ARGV[7] a held value to treat as absent
    // ("" for none), ARGV[8] the eviction budget. Returns 1 when stored, else the held value.
    //
    // Bytes are compared one by one: Lua's string `<` follows the server's locale (strcoll), not byte order. A held
    // value that is not even shaped like an entry of this key reads as absent; one that is shaped like one but is
    // not a packet (the DNS message does not parse) is returned, and the caller runs the script again naming it in
    // ARGV[7], so it is replaced only if no writer has replaced it meanwhile.
    private const string PutScript = EvictFunction + "\n" + """
        local function compare(a, b, first, last)
          for i = first, last do
            local x, y = string.byte(a, i), string.byte(b, i)
            if x ~= y then
              if x == nil then return -1 end
              if y == nil then return 1 end
              if x < y then return -1 end
              return 1
            end
          end
          return 0
        end

        local entry = ARGV[2]
        local held = redis.call('HGET', KEYS[1], ARGV[1])
        if held and held ~= ARGV[7] and #held >= 112 and #held <= 1112 and string.sub(held, 9, 40) == ARGV[3] then
          local newer = compare(entry, held, 105, 112)
          if newer == 0 then
            local a, b = string.sub(entry, 113), string.sub(held, 113)
            if a ~= b then
              newer = compare(a, b, 1, math.max(#a, #b))
            elseif string.sub(entry, 9) == string.sub(held, 9) then
              local seen = string.sub(held, 1, 8)
              if compare(seen, ARGV[6], 1, 8) > 0 then seen = string.rep('\0', 8) end
              newer = compare(entry, seen, 1, 8)
            end
          end
          if newer <= 0 then return held end
        end

        redis.call('HSET', KEYS[1], ARGV[1], entry)
        redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
        evict(tonumber(ARGV[5]), tonumber(ARGV[8]), ARGV[1])
        return 1
        """;

    // KEYS as above; ARGV[1] capacity, ARGV[2] budget. Returns how many keys are still above the capacity.
    private const string TrimScript = EvictFunction + "\n" + """
        return evict(tonumber(ARGV[1]), tonumber(ARGV[2]), '')
        """;

    // KEYS as above; ARGV[1] field, ARGV[2] the value read. Removes the entry only if no writer has replaced it.
    private const string DeleteIfScript = """
        if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
          redis.call('HDEL', KEYS[1], ARGV[1])
          redis.call('ZREM', KEYS[2], ARGV[1])
          return 1
        end
        return 0
        """;

    // A last_seen further ahead than this reads as 0 (CachedPacket.TryDeserialize), in the script as in C#.
    private const ulong FutureToleranceMicros = 60_000_000;

    private readonly ConnectionMultiplexer _connection;
    private readonly IDatabase _database;
    private readonly RedisKey[] _keys;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private int _disposed;

    private RedisPkarrCache(ConnectionMultiplexer connection, string prefix, int capacity, string location, TimeProvider time, ILogger logger)
    {
        _connection = connection;
        _database = connection.GetDatabase();
        PacketsKey = prefix + "packets";
        LruKey = prefix + "lru";
        _keys = [PacketsKey, LruKey];
        Capacity = capacity;
        Location = location;
        _time = time;
        _logger = logger;
    }

    /// <inheritdoc />
    public int Capacity { get; }

    /// <summary>The server and database, without credentials: <c>redis://host:port/db</c>.</summary>
    public string Location { get; }

    /// <summary>The hash of entries by z-base32 key.</summary>
    internal RedisKey PacketsKey { get; }

    /// <summary>The sorted set of keys by last use.</summary>
    internal RedisKey LruKey { get; }

    /// <summary>The database the store lives in (tests write to it directly).</summary>
    internal IDatabase Database => _database;

    /// <summary>
    /// Connects to the server of <paramref name="url"/> (a <c>redis://</c> URL or a StackExchange.Redis configuration
    /// string) and evicts the least recently used keys above <paramref name="capacity"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The URL is not valid, or the server cannot be reached.</exception>
    public static async Task<RedisPkarrCache> OpenAsync(string url, string prefix, int capacity, TimeProvider time, ILoggerFactory loggers, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(url);
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        var target = RedisTarget.Parse(url);
        target.Options.LoggerFactory = loggers;

        // Not abandoned on cancellation, which would leave a connection open behind the caller's back: the connect
        // timeout bounds it.
        ConnectionMultiplexer connection;
        try
        {
            connection = await ConnectionMultiplexer.ConnectAsync(target.Options).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            throw Error.RedisUnreachable(target.Location, target.Redacted, e);
        }

        var cache = new RedisPkarrCache(connection, prefix, capacity, target.Location, time, loggers.CreateLogger<RedisPkarrCache>());
        try
        {
            await cache.TrimAsync(cancellationToken).ConfigureAwait(false);
            return cache;
        }
        catch (Exception e) when (e is RedisConnectionException or TimeoutException)
        {
            await cache.DisposeAsync().ConfigureAwait(false);
            throw Error.RedisUnreachable(target.Location, target.Redacted, e);
        }
        catch
        {
            await cache.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask<int> CountAsync(CancellationToken cancellationToken = default)
    {
        long count = await _database.HashLengthAsync(PacketsKey).WaitAsync(cancellationToken).ConfigureAwait(false);
        return (int)Math.Min(count, int.MaxValue);
    }

    /// <inheritdoc />
    public async ValueTask<CachedPacket?> GetAsync(PublicKey key, CancellationToken cancellationToken = default)
    {
        string field = key.ToZ32();

        // Both commands go out together, in order, on one connection: one round trip, and the use is recorded by the
        // time the read answers. The use updates only a key that is held (XX), so a read never brings back a key that
        // a writer evicted.
        _ = _database.SortedSetAddAsync(LruKey, field, NowMicroseconds(), SortedSetWhen.Exists | SortedSetWhen.GreaterThan, CommandFlags.FireAndForget);
        var read = _database.HashGetAsync(PacketsKey, field);
        return Read(key, field, await read.WaitAsync(cancellationToken).ConfigureAwait(false));
    }

    /// <inheritdoc />
    public async ValueTask<CachedPacket?> PeekAsync(PublicKey key, CancellationToken cancellationToken = default)
    {
        string field = key.ToZ32();
        return Read(key, field, await _database.HashGetAsync(PacketsKey, field).WaitAsync(cancellationToken).ConfigureAwait(false));
    }

    /// <inheritdoc />
    public async ValueTask<bool> PutIfNewerAsync(CachedPacket entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (Capacity == 0)
        {
            return false;
        }

        var key = entry.Packet.PublicKey;
        string field = key.ToZ32();
        byte[] stored = entry.Serialize();
        byte[] latestSeen = new byte[8];
        ulong now = Timestamp.WallClock(_time).Microseconds;
        BinaryPrimitives.WriteUInt64BigEndian(latestSeen, now + FutureToleranceMicros);

        RedisValue absent = RedisValue.EmptyString;

        // The second run happens only when the held value is not a packet; a third would mean another writer put a
        // second value that is not a packet meanwhile, which leaves it held and this write refused, as any newer one.
        for (int run = 0; run < 2; run++)
        {
            var result = await _database.ScriptEvaluateAsync(
                PutScript,
                _keys,
                [field, stored, key.Bytes.ToArray(), (long)Math.Min(now, long.MaxValue), Capacity, latestSeen, absent, EvictionBudget])
                .WaitAsync(cancellationToken).ConfigureAwait(false);
            if (result.Resp2Type == ResultType.Integer)
            {
                return (long)result == 1;
            }

            byte[]? held = (byte[]?)result;
            if (held is null || TryRead(key, held, out _, out _))
            {
                return false;
            }

            absent = held;
        }

        return false;
    }

    /// <summary>Closes the connection after the commands in flight complete.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _connection.CloseAsync(allowCommandsToComplete: true).ConfigureAwait(false);
        await _connection.DisposeAsync().ConfigureAwait(false);
    }

    // Evicts above the capacity in short scripts, so a server opened with a smaller capacity than it holds is not
    // blocked by one long one. Bounded: each run evicts up to the budget or finds nothing more to evict.
    private async Task TrimAsync(CancellationToken cancellationToken)
    {
        long before = long.MaxValue;
        while (true)
        {
            var result = await _database.ScriptEvaluateAsync(TrimScript, _keys, [Capacity, 1000]).WaitAsync(cancellationToken).ConfigureAwait(false);
            long excess = (long)result;
            if (excess <= 0 || excess >= before)
            {
                return;
            }

            before = excess;
        }
    }

    private CachedPacket? Read(PublicKey key, string field, RedisValue value)
    {
        if (value.IsNull)
        {
            return null;
        }

        byte[] held = (byte[])value!;
        if (TryRead(key, held, out var entry, out string? reason))
        {
            return entry;
        }

        // Best effort, without waiting: the entry reads as absent whether or not it is removed.
        Log.CorruptValue(_logger, key, Location, reason);
        _ = _database.ScriptEvaluateAsync(DeleteIfScript, _keys, [field, held], CommandFlags.FireAndForget);
        return null;
    }

    private bool TryRead(PublicKey key, byte[] held, out CachedPacket? entry, out string? reason)
    {
        entry = null;
        if (!CachedPacket.TryDeserialize(held, out var read, out var error, _time))
        {
            reason = error.Message;
            return false;
        }

        if (read.Packet.PublicKey != key)
        {
            reason = "a packet of another key";
            return false;
        }

        entry = read;
        reason = null;
        return true;
    }

    private long NowMicroseconds() => (long)Math.Min(Timestamp.WallClock(_time).Microseconds, long.MaxValue);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "The Redis entry of {Key} in {Location} is not a packet ({Reason}); it reads as absent and is removed")]
        public static partial void CorruptValue(ILogger logger, PublicKey key, string location, string? reason);
    }
}

/// <summary>
/// A Redis server from <c>[cache] redis_url</c>: a <c>redis://[[user]:password@]host[:port][/db]</c> URL
/// (<c>rediss://</c> for TLS) or a StackExchange.Redis configuration string (<c>host:port,password=…</c>).
/// </summary>
internal sealed record RedisTarget(ConfigurationOptions Options, string Location, string Redacted)
{
    /// <summary>The default Redis port.</summary>
    public const int DefaultPort = 6379;

    /// <summary>Reads <paramref name="url"/>.</summary>
    /// <exception cref="InvalidOperationException">It is neither form, or names no server.</exception>
    public static RedisTarget Parse(string url)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(url);
        bool tls = url.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase);
        if (tls || url.StartsWith("redis://", StringComparison.OrdinalIgnoreCase))
        {
            return ParseUrl(url, tls);
        }

        ConfigurationOptions options;
        try
        {
            options = ConfigurationOptions.Parse(url);
        }
        catch (ArgumentException e)
        {
            // The configuration string may hold a password: the message names only what the parser complained of.
            throw Error.RedisUrlInvalid("(configuration string)", e.Message, e);
        }

        string redacted = options.ToString(includePassword: false);
        if (options.EndPoints.Count == 0)
        {
            throw Error.RedisUrlInvalid(redacted, "it names no server");
        }

        return Complete(options, redacted);
    }

    private static RedisTarget ParseUrl(string url, bool tls)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw Error.RedisUrlInvalid(RedactUserInfo(url), "not a valid URL with a host");
        }

        string redacted = RedactUserInfo(url);
        if (uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            throw Error.RedisUrlInvalid(redacted, "a query or fragment is not supported; use a configuration string for more options");
        }

        var options = new ConfigurationOptions { Ssl = tls };
        options.EndPoints.Add(uri.DnsSafeHost, uri.IsDefaultPort || uri.Port < 0 ? DefaultPort : uri.Port);
        if (uri.UserInfo.Length > 0)
        {
            string userInfo = uri.UserInfo;
            int colon = userInfo.IndexOf(':', StringComparison.Ordinal);
            string user = Uri.UnescapeDataString(colon < 0 ? userInfo : userInfo[..colon]);
            string? password = colon < 0 ? null : Uri.UnescapeDataString(userInfo[(colon + 1)..]);
            if (password is null)
            {
                // redis://secret@host: the one part is the password, as redis-cli reads it.
                (user, password) = (string.Empty, user);
            }

            options.User = user.Length > 0 ? user : null;
            options.Password = password;
        }

        string path = uri.AbsolutePath.Trim('/');
        if (path.Length > 0)
        {
            if (!int.TryParse(path, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int database))
            {
                throw Error.RedisUrlInvalid(redacted, $"the path \"/{path}\" is not a database number");
            }

            options.DefaultDatabase = database;
        }

        return Complete(options, redacted);
    }

    private static RedisTarget Complete(ConfigurationOptions options, string redacted)
    {
        options.SetDefaultPorts();

        // A relay that cannot reach its store at start says so at once; after that the connection reconnects by itself.
        options.AbortOnConnectFail = true;
        options.ClientName ??= "pkarr-relay";
        string endpoints = string.Join(',', options.EndPoints.Select(Describe));
        string location = $"{(options.Ssl ? "rediss" : "redis")}://{endpoints}/{options.DefaultDatabase ?? 0}";
        return new RedisTarget(options, location, redacted);
    }

    private static string Describe(EndPoint endPoint) => endPoint switch
    {
        DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
        _ => endPoint.ToString() ?? string.Empty,
    };

    // redis://user:secret@host → redis://***@host, so messages and logs never show a password.
    private static string RedactUserInfo(string url)
    {
        int scheme = url.IndexOf("://", StringComparison.Ordinal) + 3;
        int at = url.IndexOf('@', scheme);
        return at < 0 ? url : url[..scheme] + "***" + url[at..];
    }
}
