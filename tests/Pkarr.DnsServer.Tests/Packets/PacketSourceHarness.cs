using System.Net;
using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Pkarr.Client;
using Pkarr.DnsServer.Metrics;
using Pkarr.DnsServer.Packets;
using Pkarr.DnsServer.RateLimiting;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.DnsServer.Tests.Packets;

/// <summary>One resolve the source asked for; the test answers it through <see cref="Reply"/>.</summary>
internal sealed record ResolveCall(PublicKey Key, TaskCompletionSource<ResolveResult> Reply, CancellationToken Token)
{
    public void Found(SignedPacket packet, Timestamp lastSeen) => Reply.SetResult(ResolveResult.Of(new CachedPacket(packet, lastSeen)));

    public void Fail(ResolveError error) => Reply.SetResult(ResolveResult.Of(error));
}

/// <summary>
/// A packet source over a fake network: every resolve becomes a <see cref="ResolveCall"/> the test answers when it
/// chooses, on a fake clock. Waits for calls are bounded (10 s of real time) so a broken source fails, never hangs.
/// </summary>
internal sealed class PacketSourceHarness : IDisposable
{
    public static readonly IPAddress Client = IPAddress.Parse("192.0.2.1");
    public static readonly IPAddress OtherClient = IPAddress.Parse("192.0.2.2");
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private readonly Channel<ResolveCall> _calls = Channel.CreateUnbounded<ResolveCall>();
    private int _callCount;

    public PacketSourceHarness(PacketSourceOptions? options = null, Func<FakeTimeProvider, DnsRateLimits>? limits = null)
    {
        Limits = limits?.Invoke(Time) ?? DnsRateLimits.Unlimited;
        Options = options ?? new PacketSourceOptions();
        Source = new PkarrPacketSource(Resolve, Options, Limits, Metrics, Time, NullLogger<PkarrPacketSource>.Instance);
    }

    public DnsMetrics Metrics { get; } = new();

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public PacketSourceOptions Options { get; }

    public DnsRateLimits Limits { get; }

    public PkarrPacketSource Source { get; }

    /// <summary>Resolves asked for so far.</summary>
    public int Calls => Volatile.Read(ref _callCount);

    /// <summary>What the resolve delegate does; replaceable (a throwing network, ...).</summary>
    public Func<PublicKey, CancellationToken, Task<ResolveResult>>? Network { get; set; }

    public Timestamp Now => Timestamp.WallClock(Time);

    public static SignedPacket Packet(Keypair signer, ulong micros, string text = "v", uint ttl = 300) =>
        SignedPacket.Builder().Txt("_t", text, ttl).Timestamp(new Timestamp(micros)).Sign(signer);

    /// <summary>A query (as a task, so tests may look at it more than once).</summary>
    public Task<PacketLookup> Get(PublicKey key, IPAddress? client = null, CancellationToken cancellationToken = default) =>
        Source.GetAsync(key, client ?? Client, cancellationToken).AsTask();

    /// <summary>The answer of a query that must complete at once, without waiting for a lookup.</summary>
    public PacketLookup AtOnce(PublicKey key, IPAddress? client = null)
    {
        var pending = Get(key, client);
        Assert.True(pending.IsCompletedSuccessfully, "the query did not complete at once");
        return pending.Result;
    }

    /// <summary>The next resolve the source starts.</summary>
    public async Task<ResolveCall> NextCall()
    {
        using var bound = new CancellationTokenSource(Bound);
        return await _calls.Reader.ReadAsync(bound.Token);
    }

    /// <summary>True when no resolve is queued (every started one was taken with <see cref="NextCall"/>).</summary>
    public bool NoPendingCall => !_calls.Reader.TryPeek(out _);

    /// <summary>Looks the signer's key up once: the query waits, the network answers with <paramref name="packet"/>
    /// seen now, the query's result is returned.</summary>
    public async Task<PacketLookup> Load(Keypair signer, SignedPacket packet)
    {
        var pending = Get(signer.PublicKey);
        var call = await NextCall();
        Assert.Equal(signer.PublicKey, call.Key);
        call.Found(packet, Now);
        return await Bounded(pending);
    }

    /// <summary>The running lookup of <paramref name="key"/>, to await after answering its call: when it ends, its
    /// result is in the table.</summary>
    public Task<PacketLookup> Landing(PublicKey key)
    {
        var running = Source.RunningLookup(key);
        Assert.NotNull(running);
        return running.WaitAsync(Bound);
    }

    public static Task<PacketLookup> Bounded(Task<PacketLookup> pending) => pending.WaitAsync(Bound);

    public void Dispose()
    {
        Source.Dispose();
        Metrics.Dispose();
        if (!ReferenceEquals(Limits, DnsRateLimits.Unlimited))
        {
            Limits.Dispose();
        }
    }

    private Task<ResolveResult> Resolve(PublicKey key, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _callCount);
        if (Network is { } network)
        {
            return network(key, cancellationToken);
        }

        var reply = new TaskCompletionSource<ResolveResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        Assert.True(_calls.Writer.TryWrite(new ResolveCall(key, reply, cancellationToken)));
        return reply.Task;
    }
}
