// Test doubles for the policy tests: a fixed fake clock, real signed packets with chosen timestamps and ages, and
// a backend whose answers each test scripts.

using Microsoft.Extensions.Time.Testing;
using Pkarr.Client.Backends;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Tests.Policies;

/// <summary>Packets and clocks shared by the policy tests.</summary>
internal static class Fixture
{
    /// <summary>The fake clock's start: any fixed instant well past the timestamps the tests sign.</summary>
    public static readonly DateTimeOffset Start = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static FakeTimeProvider Clock() => new(Start);

    /// <summary>A real signed packet of <paramref name="keypair"/> with timestamp <paramref name="timestamp"/> and one
    /// TXT record (<paramref name="text"/>, TTL <paramref name="ttl"/>).</summary>
    public static SignedPacket Packet(Keypair keypair, ulong timestamp, string text = "x", uint ttl = 300) =>
        SignedPacket.Builder().Txt("_t", text, ttl).Timestamp(new Timestamp(timestamp)).Sign(keypair);

    /// <summary>An entry last seen <paramref name="ageSeconds"/> seconds before the clock's now.</summary>
    public static CachedPacket Aged(SignedPacket packet, TimeProvider clock, int ageSeconds) =>
        new(packet, Timestamp.WallClock(clock).SubtractMicroseconds((ulong)ageSeconds * 1_000_000));

    /// <summary>Fresh under the default TTLs (300 s minimum): seen just now.</summary>
    public static CachedPacket Fresh(SignedPacket packet, TimeProvider clock) => Aged(packet, clock, 0);

    /// <summary>Expired under the default TTLs: seen 301 s ago, with a record TTL of at most 300 s.</summary>
    public static CachedPacket Expired(SignedPacket packet, TimeProvider clock) => Aged(packet, clock, 301);

    public static ResolveResult Found(CachedPacket entry) => ResolveResult.Of(entry);

    public static ResolveResult Failed(ResolveErrorKind kind, long seq = 0) => ResolveResult.Of(new ResolveError(kind, seq));

    public static PublishResult Published(SignedPacket packet, int storedOn) =>
        new() { PublicKey = packet.PublicKey, StoredOn = storedOn, Dht = new DhtPublishOutcome(storedOn, null) };

    public static PublishResult Refused(SignedPacket packet, PublishError error) =>
        new() { PublicKey = packet.PublicKey, Error = error, Dht = new DhtPublishOutcome(0, error) };

    /// <summary>Options for a client over a fake backend: no real network, the fake clock.</summary>
    public static PkarrClientOptions Options(TimeProvider clock) => new()
    {
        UseDht = false,
        Relays = [new Uri("http://127.0.0.1:9/")],
        TimeProvider = clock,
    };
}

/// <summary>One call a <see cref="FakeBackend"/> received.</summary>
internal sealed record ResolveCall(PublicKey Key, ResolvePolicy Policy, CacheContext? Context, CancellationToken Token);

/// <summary>One publish a <see cref="FakeBackend"/> received.</summary>
internal sealed record PublishCall(SignedPacket Packet, Timestamp? Cas);

/// <summary>A backend that records its calls and answers as the test says.</summary>
internal sealed class FakeBackend : IPkarrBackend
{
    private readonly Lock _gate = new();
    private readonly List<ResolveCall> _resolves = [];
    private readonly List<PublishCall> _publishes = [];

    public Func<ResolveCall, Task<ResolveResult>> OnResolve { get; set; } = _ => Task.FromResult(ResolveResult.NotFound);

    public Func<PublishCall, Task<PublishResult>> OnPublish { get; set; } =
        call => Task.FromResult(Fixture.Published(call.Packet, 1));

    public IReadOnlyList<ResolveCall> Resolves
    {
        get
        {
            lock (_gate)
            {
                return [.. _resolves];
            }
        }
    }

    public IReadOnlyList<PublishCall> Publishes
    {
        get
        {
            lock (_gate)
            {
                return [.. _publishes];
            }
        }
    }

    /// <summary>Answers with <paramref name="result"/> at once.</summary>
    public static FakeBackend Answering(ResolveResult result) => new() { OnResolve = _ => Task.FromResult(result) };

    /// <summary>Never answers; ends (cancelled) only when the caller cancels. Records whether it was cancelled.</summary>
    public static FakeBackend Hanging(TaskCompletionSource cancelled) => new()
    {
        OnResolve = call =>
        {
            var pending = new TaskCompletionSource<ResolveResult>(TaskCreationOptions.RunContinuationsAsynchronously);
            call.Token.Register(() =>
            {
                cancelled.TrySetResult();
                pending.TrySetCanceled(call.Token);
            });
            return pending.Task;
        },
    };

    public Task<ResolveResult> ResolveAsync(PublicKey key, ResolvePolicy policy, CacheContext? context, CancellationToken cancellationToken)
    {
        var call = new ResolveCall(key, policy, context, cancellationToken);
        lock (_gate)
        {
            _resolves.Add(call);
        }

        return OnResolve(call);
    }

    public Task<PublishResult> PublishAsync(SignedPacket packet, Timestamp? cas, CancellationToken cancellationToken)
    {
        var call = new PublishCall(packet, cas);
        lock (_gate)
        {
            _publishes.Add(call);
        }

        return OnPublish(call);
    }
}
