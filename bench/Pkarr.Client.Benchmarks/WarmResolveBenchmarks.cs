// Resolve from a warm cache: PkarrClient.ResolveAsync(key, CacheFirst) when the cache holds a fresh packet, against
// its limit, the cache lookup alone (MemoryPkarrCache.GetAsync on the client's own cache), in the same run.
//
//   dotnet run -c Release --project bench/Pkarr.Client.Benchmarks -- --filter '*WarmResolve*'
//
// The client is the public one (no relays; its DHT node is never started, since a fresh cached packet ends the
// resolve before the network). Its cache holds 1000 packets (the default size) and each call asks for the next key
// in turn, so the dictionary and the LRU list work as they do under load, on both sides alike.
using System.Net;
using BenchmarkDotNet.Attributes;
using Mainline;
using Pkarr.Client.Caching;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Benchmarks;

[MemoryDiagnoser]
public class WarmResolveBenchmarks
{
    private const int Keys = 1000;

    private PkarrClient _client = null!;
    private IPkarrCache _cache = null!;
    private PublicKey[] _keys = [];
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _client = new PkarrClient(new PkarrClientOptions
        {
            UseRelays = false,
            Bootstrap = [],
            DhtBindAddress = IPAddress.Loopback,
            DhtPort = 0,
            DhtMode = DhtMode.Client,
            CacheSize = Keys,
        });
        _cache = _client.Cache ?? throw new InvalidOperationException("the client has no cache");
        _keys = new PublicKey[Keys];
        for (int i = 0; i < Keys; i++)
        {
            using var keypair = Keypair.Random();
            _keys[i] = keypair.PublicKey;

            // A one-hour TTL: the packets stay fresh for the whole run.
            var stored = _cache.PutIfNewerAsync(CachedPacket.Seen(Clients.Packet(keypair, i, ttl: 3600))).AsTask().GetAwaiter().GetResult();
            if (!stored)
            {
                throw new InvalidOperationException("the cache refused a packet");
            }
        }

        // The benchmark measures the cache path only: refuse to run if a resolve would reach the network.
        var probe = _client.ResolveAsync(_keys[0], ResolvePolicy.CacheFirst).GetAwaiter().GetResult();
        var held = _cache.PeekAsync(_keys[0]).AsTask().GetAwaiter().GetResult();
        if (!probe.Found || !ReferenceEquals(probe.Entry, held))
        {
            throw new InvalidOperationException("the warm resolve did not come from the cache");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _client.DisposeAsync().AsTask().GetAwaiter().GetResult();

    private PublicKey NextKey()
    {
        var i = _next + 1;
        _next = i == Keys ? 0 : i;
        return _keys[_next];
    }

    [Benchmark(Baseline = true, Description = "MemoryPkarrCache.GetAsync (limit)")]
    public CachedPacket? CacheGet()
    {
        // The memory cache completes synchronously; an awaiting caller reads the result the same way.
        var pending = _cache.GetAsync(NextKey());
        return pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>The limit plus the freshness check the resolve makes (the packet's TTL against the entry's age).</summary>
    [Benchmark(Description = "cache lookup + CachedPacket.IsExpired")]
    public bool CacheGetFresh() => CacheGet() is { } entry && !entry.IsExpired(_client.Options.MinimumTtl, _client.Options.MaximumTtl, _client.TimeProvider);

    /// <summary>The first half of the freshness check: the packet's TTL, the smallest of its records' TTLs.</summary>
    [Benchmark(Description = "SignedPacket.Ttl")]
    public uint PacketTtl() => CacheGet()!.Packet.Ttl(_client.Options.MinimumTtl, _client.Options.MaximumTtl);

    /// <summary>The second half: the entry's age, read from the wall clock.</summary>
    [Benchmark(Description = "CachedPacket.Elapsed")]
    public uint EntryAge() => CacheGet()!.Elapsed(_client.TimeProvider);

    [Benchmark(Description = "PkarrClient.ResolveAsync CacheFirst, warm")]
    public ResolveResult Resolve() => _client.ResolveAsync(NextKey(), ResolvePolicy.CacheFirst).GetAwaiter().GetResult();
}
