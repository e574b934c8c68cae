using Microsoft.Extensions.Time.Testing;
using Pkarr.Client.Republishing;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Tests.Republishing;

/// <summary>The republisher's retries, schedule and concurrency, on a fake network and a fake clock.</summary>
public sealed class RepublisherTests
{
    private static readonly DateTimeOffset Start = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    internal static Republisher Create(IRepublishNetwork network, TimeProvider time, RepublisherOptions options) =>
        new(network, options, time, new TimestampClock(time), null);

    private static SignedPacket Packet(Keypair keypair, string text = "v", TimeProvider? time = null) =>
        SignedPacket.Builder().Txt("_t", text).Timestamp(Timestamp.WallClock(time)).Sign(keypair);

    /// <summary>Waits (bounded: 10 s of real time) until <paramref name="done"/> holds.</summary>
    internal static async Task Until(Func<bool> done, string what)
    {
        for (int i = 0; i < 1000 && !done(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(done(), "timed out waiting until " + what);
    }

    [Fact]
    public async Task Too_few_holders_retries_with_doubling_capped_backoff_on_the_clock_then_reports_it()
    {
        var time = new FakeTimeProvider(Start);
        var network = new FakeRepublishNetwork { Holders = _ => 1 };
        await using var republisher = Create(network, time, new RepublisherOptions
        {
            MinimumHolders = 5,
            MaxAttempts = 4,
            InitialBackoff = TimeSpan.FromSeconds(10),
            MaxBackoff = TimeSpan.FromSeconds(15),
        });
        using var keypair = Keypair.Random();
        republisher.AddKey(keypair.PublicKey, Packet(keypair, time: time));

        var cycle = republisher.RunCycleAsync();
        await Until(() => network.Puts == 1, "the first put");

        // Waits of 10 s, then 15 s (20 s capped), then 15 s: no put comes before its wait is over.
        foreach (var (wait, puts) in new[] { (TimeSpan.FromSeconds(10), 2), (TimeSpan.FromSeconds(15), 3), (TimeSpan.FromSeconds(15), 4) })
        {
            time.Advance(wait - TimeSpan.FromMilliseconds(1));
            await Task.Delay(50);
            Assert.Equal(puts - 1, network.Puts);
            time.Advance(TimeSpan.FromMilliseconds(1));
            await Until(() => network.Puts == puts, $"put {puts}");
        }

        var report = await cycle.WaitAsync(TimeSpan.FromSeconds(10));
        var result = Assert.Single(report.Keys);
        Assert.Equal(RepublishOutcome.TooFewHolders, result.Outcome);
        Assert.Equal(4, result.Attempts);
        Assert.Equal(1, result.Holders);
        Assert.False(result.Succeeded);
        Assert.Equal(1, report.Failed);
    }

    [Fact]
    public async Task Enough_holders_on_a_later_attempt_ends_the_retries_as_republished()
    {
        var time = new FakeTimeProvider(Start);
        var network = new FakeRepublishNetwork { Holders = puts => puts >= 2 ? 5 : 2 };
        await using var republisher = Create(network, time, new RepublisherOptions { MinimumHolders = 5, MaxAttempts = 4, InitialBackoff = TimeSpan.FromSeconds(1) });
        using var keypair = Keypair.Random();
        republisher.AddKey(keypair.PublicKey, Packet(keypair, time: time));

        var cycle = republisher.RunCycleAsync();
        await Until(() => network.Puts == 1, "the first put");
        time.Advance(TimeSpan.FromSeconds(1));
        var result = Assert.Single((await cycle.WaitAsync(TimeSpan.FromSeconds(10))).Keys);

        Assert.Equal(RepublishOutcome.Republished, result.Outcome);
        Assert.Equal(2, result.Attempts);
        Assert.Equal(5, result.Holders);
        Assert.Equal(2, network.Puts);
    }

    [Fact]
    public async Task A_key_with_no_packet_anywhere_is_reported_and_never_put()
    {
        var time = new FakeTimeProvider(Start);
        var network = new FakeRepublishNetwork();
        await using var republisher = Create(network, time, new RepublisherOptions());
        using var keypair = Keypair.Random();
        republisher.AddKey(keypair);

        var result = Assert.Single((await republisher.RunCycleAsync()).Keys);
        Assert.Equal(RepublishOutcome.NoPacket, result.Outcome);
        Assert.Equal(0, network.Puts);

        // Once the network has one, the next pass republishes it.
        var packet = Packet(keypair, time: time);
        network.Store(packet);
        result = Assert.Single((await republisher.RunCycleAsync()).Keys);
        Assert.Equal(RepublishOutcome.Republished, result.Outcome);
        Assert.True(result.Packet!.IsSameAs(packet));
        Assert.False(result.Resigned);
    }

    [Fact]
    public async Task A_held_secret_is_re_signed_only_past_ResignAfter_keeping_its_records()
    {
        var time = new FakeTimeProvider(Start);
        var network = new FakeRepublishNetwork();
        await using var republisher = Create(network, time, new RepublisherOptions { ResignAfter = TimeSpan.FromDays(7) });
        using var keypair = Keypair.Random();
        var packet = SignedPacket.Builder().Txt("_a", "one").Txt("_b", "two").Timestamp(Timestamp.WallClock(time)).Sign(keypair);
        republisher.AddKey(keypair, packet);

        var young = Assert.Single((await republisher.RunCycleAsync()).Keys);
        Assert.False(young.Resigned);
        Assert.True(young.Packet!.IsSameAs(packet));

        time.Advance(TimeSpan.FromDays(8));
        var old = Assert.Single((await republisher.RunCycleAsync()).Keys);
        Assert.True(old.Resigned);
        Assert.True(old.Packet!.Timestamp > packet.Timestamp);
        Assert.Equal(packet.AllResourceRecords, old.Packet.AllResourceRecords);
        Assert.True(network.Stored(keypair.PublicKey)!.IsSameAs(old.Packet));
        Assert.True(republisher.LatestPacket(keypair.PublicKey)!.IsSameAs(old.Packet));
    }

    [Fact]
    public async Task A_public_only_key_is_never_re_signed_whatever_its_age()
    {
        var time = new FakeTimeProvider(Start);
        var network = new FakeRepublishNetwork();
        await using var republisher = Create(network, time, new RepublisherOptions { ResignAfter = TimeSpan.FromMinutes(1) });
        using var keypair = Keypair.Random();
        var packet = Packet(keypair, time: time);
        republisher.AddKey(keypair.PublicKey, packet);
        time.Advance(TimeSpan.FromDays(30));

        var result = Assert.Single((await republisher.RunCycleAsync()).Keys);
        Assert.Equal(RepublishOutcome.Republished, result.Outcome);
        Assert.False(result.Resigned);
        Assert.True(result.Packet!.IsSameAs(packet));
        Assert.False(republisher.HoldsSecret(keypair.PublicKey));
    }

    [Fact]
    public async Task A_thousand_keys_are_due_spread_over_the_interval_and_each_next_turn_is_one_jittered_interval_later()
    {
        var time = new FakeTimeProvider(Start);
        var network = new FakeRepublishNetwork();
        var options = new RepublisherOptions { Interval = TimeSpan.FromHours(1), Jitter = 0.1 };
        await using var republisher = Create(network, time, options);
        var keys = new List<Keypair>();
        for (int i = 0; i < 1000; i++)
        {
            var keypair = Keypair.Random();
            keys.Add(keypair);
            republisher.AddKey(keypair.PublicKey, Packet(keypair, time: time));
        }

        // 60 one-minute windows: ~17 keys each; none empty, none above 45 (P < 1e-9 each for a uniform spread).
        var due = republisher.DueTimes();
        Assert.All(due, d => Assert.InRange(d.Due, Start, Start + options.Interval));
        var perMinute = due.GroupBy(d => (int)((d.Due - Start).TotalMinutes)).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(60, perMinute.Count);
        Assert.All(perMinute.Values, n => Assert.InRange(n, 1, 45));

        var ran = new System.Collections.Concurrent.ConcurrentDictionary<PublicKey, DateTimeOffset>();
        int runs = 0;
        republisher.KeyRepublished += (_, result) =>
        {
            ran[result.PublicKey] = time.GetUtcNow();
            Interlocked.Increment(ref runs);
        };
        await republisher.StartAsync();
        try
        {
            int before = 0;
            for (int minute = 1; minute <= 50; minute++)
            {
                time.Advance(TimeSpan.FromMinutes(1));
                var now = time.GetUtcNow();
                int expected = due.Count(d => d.Due <= now);
                await Until(() => Volatile.Read(ref runs) == expected, $"the keys due by minute {minute}");
                Assert.InRange(expected - before, 0, 45);
                before = expected;
            }
        }
        finally
        {
            await republisher.StopAsync();
        }

        // No key ran twice in the first 50 minutes (a turn is at least 54 minutes after the previous one), and each
        // run key's next turn is 54 to 66 minutes after it ran.
        Assert.Equal(ran.Count, runs);
        var next = republisher.DueTimes().ToDictionary(d => d.Key, d => d.Due);
        Assert.All(ran, r => Assert.InRange(next[r.Key] - r.Value, TimeSpan.FromMinutes(54), TimeSpan.FromMinutes(66)));
        foreach (var k in keys)
        {
            k.Dispose();
        }
    }

    [Fact]
    public async Task A_pass_runs_keys_concurrently_but_never_more_than_MaxConcurrency()
    {
        var network = new FakeRepublishNetwork { PutDuration = TimeSpan.FromMilliseconds(2) };
        await using var republisher = Create(network, TimeProvider.System, new RepublisherOptions { MaxConcurrency = 4 });
        for (int i = 0; i < 200; i++)
        {
            using var keypair = Keypair.Random();
            republisher.AddKey(keypair.PublicKey, Packet(keypair));
        }

        var report = await republisher.RunCycleAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(200, report.Succeeded);
        Assert.Equal(200, network.Puts);
        Assert.InRange(network.MaxInFlight, 2, 4);
    }

    [Fact]
    public void Invalid_options_are_refused_with_the_setting_named()
    {
        var network = new FakeRepublishNetwork();
        var e = Assert.Throws<ArgumentException>(() => Create(network, TimeProvider.System, new RepublisherOptions { MaxConcurrency = 0, Jitter = 0.9 }));
        Assert.Contains("MaxConcurrency", e.Message, StringComparison.Ordinal);
        Assert.Contains("Jitter", e.Message, StringComparison.Ordinal);
        Assert.Empty(new RepublisherOptions().Failures());
    }

    [Fact]
    public async Task A_packet_of_another_key_is_refused()
    {
        await using var republisher = Create(new FakeRepublishNetwork(), TimeProvider.System, new RepublisherOptions());
        using var a = Keypair.Random();
        using var b = Keypair.Random();
        Assert.Throws<ArgumentException>(() => republisher.AddKey(a.PublicKey, Packet(b)));
        Assert.Empty(republisher.Keys);
    }
}
