using System.Net;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Time.Testing;
using Pkarr.Relay.RateLimiting;

namespace Pkarr.Relay.Tests.RateLimiting;

public sealed class AddressTokenBucketsTests
{
    private static readonly IPAddress A = IPAddress.Parse("192.0.2.1");
    private static readonly IPAddress B = IPAddress.Parse("192.0.2.2");

    private static TimeSpan Ms(int ms) => TimeSpan.FromMilliseconds(ms);

    private static (bool Acquired, TimeSpan RetryAfter) Take(AddressTokenBuckets buckets, IPAddress address) =>
        (buckets.TryAcquire(address, out var retryAfter), retryAfter);

    [Fact]
    public void The_burst_passes_then_requests_wait_for_the_next_token()
    {
        var clock = new FakeTimeProvider();
        using var buckets = new AddressTokenBuckets(new Quota(2, QuotaUnit.Second), burst: 2, clock);

        Assert.Equal((true, TimeSpan.Zero), Take(buckets, A));
        Assert.Equal((true, TimeSpan.Zero), Take(buckets, A));
        Assert.Equal((false, Ms(500)), Take(buckets, A));

        clock.Advance(Ms(200));
        Assert.Equal((false, Ms(300)), Take(buckets, A));
        clock.Advance(Ms(299));
        Assert.Equal((false, Ms(1)), Take(buckets, A));
        clock.Advance(Ms(1));
        Assert.Equal((true, TimeSpan.Zero), Take(buckets, A));
        Assert.Equal((false, Ms(500)), Take(buckets, A));

        clock.Advance(Ms(1000));
        Assert.True(Take(buckets, A).Acquired);
        Assert.True(Take(buckets, A).Acquired);
        Assert.False(Take(buckets, A).Acquired);
    }

    [Fact]
    public void A_long_idle_refills_to_the_burst_and_no_further()
    {
        var clock = new FakeTimeProvider();
        using var buckets = new AddressTokenBuckets(new Quota(1, QuotaUnit.Second), burst: 3, clock);
        for (int i = 0; i < 3; i++)
        {
            Assert.True(Take(buckets, A).Acquired);
        }

        Assert.Equal((false, Ms(1000)), Take(buckets, A));
        clock.Advance(TimeSpan.FromSeconds(30.9));
        for (int i = 0; i < 3; i++)
        {
            Assert.True(Take(buckets, A).Acquired);
        }

        // A full bucket accrues nothing: the next token comes a whole period after it was first drawn from.
        Assert.Equal((false, Ms(1000)), Take(buckets, A));
    }

    [Fact]
    public void Addresses_have_their_own_buckets()
    {
        var clock = new FakeTimeProvider();
        using var buckets = new AddressTokenBuckets(new Quota(1, QuotaUnit.Hour), burst: 1, clock);
        Assert.True(Take(buckets, A).Acquired);
        Assert.Equal((false, TimeSpan.FromHours(1)), Take(buckets, A));
        Assert.True(Take(buckets, B).Acquired);
        Assert.False(Take(buckets, B).Acquired);
        Assert.True(Take(buckets, IPAddress.Parse("2001:db8::1")).Acquired);
        Assert.Equal(3, buckets.Count);
    }

    [Fact]
    public async Task Leases_carry_the_remaining_tokens_and_the_exact_wait()
    {
        var clock = new FakeTimeProvider();
        using var buckets = new AddressTokenBuckets(new Quota(10, QuotaUnit.Minute), burst: 2, clock);
        Assert.Equal(2, buckets.GetStatistics(A)!.CurrentAvailablePermits);

        using (var first = buckets.AttemptAcquire(A))
        {
            Assert.True(first.IsAcquired);
            Assert.True(first.TryGetMetadata(AddressTokenBuckets.Remaining, out long remaining));
            Assert.Equal(1, remaining);
            Assert.False(first.TryGetMetadata(MetadataName.RetryAfter, out _));
        }

        using (var second = buckets.AttemptAcquire(A))
        {
            Assert.True(second.TryGetMetadata(AddressTokenBuckets.Remaining, out long remaining));
            Assert.Equal(0, remaining);
        }

        clock.Advance(TimeSpan.FromSeconds(2));
        using var refused = buckets.AttemptAcquire(A);
        Assert.False(refused.IsAcquired);
        Assert.True(refused.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter));
        Assert.Equal(TimeSpan.FromSeconds(4), retryAfter);
        Assert.Equal(0, buckets.GetStatistics(A)!.CurrentAvailablePermits);

        using var refusedAsync = await buckets.AcquireAsync(A);
        Assert.False(refusedAsync.IsAcquired);
        clock.Advance(TimeSpan.FromSeconds(4));
        using var grantedAsync = await buckets.AcquireAsync(A);
        Assert.True(grantedAsync.IsAcquired);
    }

    [Fact]
    public void The_sweep_drops_refilled_buckets_and_keeps_draining_ones()
    {
        var clock = new FakeTimeProvider();
        using var fast = new AddressTokenBuckets(new Quota(2, QuotaUnit.Second), burst: 2, clock);
        using var slow = new AddressTokenBuckets(new Quota(1, QuotaUnit.Hour), burst: 1, clock);
        for (int i = 1; i <= 50; i++)
        {
            var address = IPAddress.Parse($"198.51.100.{i}");
            Assert.True(fast.TryAcquire(address, out _));
            Assert.True(slow.TryAcquire(address, out _));
        }

        Assert.Equal(50, fast.Count);
        Assert.Equal(50, slow.Count);
        clock.Advance(AddressTokenBuckets.SweepInterval);
        Assert.Equal(0, fast.Count);
        Assert.Equal(50, slow.Count);

        // A dropped bucket comes back full; a kept one still holds its state.
        Assert.True(fast.TryAcquire(IPAddress.Parse("198.51.100.1"), out _));
        Assert.False(slow.TryAcquire(IPAddress.Parse("198.51.100.1"), out var wait));
        Assert.Equal(TimeSpan.FromHours(1) - AddressTokenBuckets.SweepInterval, wait);
    }

    [Fact]
    public void A_flood_of_addresses_cannot_grow_the_table_past_its_capacity()
    {
        var clock = new FakeTimeProvider();
        using var buckets = new AddressTokenBuckets(new Quota(1, QuotaUnit.Day), burst: 1, clock, capacity: 64);
        var kept = IPAddress.Parse("203.0.113.1");
        Assert.True(buckets.TryAcquire(kept, out _));
        for (int i = 0; i < 10_000; i++)
        {
            var address = new IPAddress([10, (byte)(i >> 16), (byte)(i >> 8), (byte)i]);
            Assert.True(buckets.TryAcquire(address, out _));
            Assert.True(buckets.Count <= 64);

            // The address in use is among the most recently seen, so it stays tracked (and limited).
            if (i % 16 == 0)
            {
                Assert.False(buckets.TryAcquire(kept, out _));
            }
        }

        Assert.False(buckets.TryAcquire(kept, out _));
    }

    [Fact]
    public void A_full_table_drops_the_least_recently_seen_first()
    {
        var clock = new FakeTimeProvider();
        using var buckets = new AddressTokenBuckets(new Quota(1, QuotaUnit.Day), burst: 1, clock, capacity: 4);
        var addresses = Enumerable.Range(1, 5).Select(i => IPAddress.Parse($"198.51.100.{i}")).ToArray();
        for (int i = 0; i < 4; i++)
        {
            Assert.True(buckets.TryAcquire(addresses[i], out _));
            clock.Advance(Ms(10));
        }

        Assert.False(buckets.TryAcquire(addresses[0], out _));  // seen again: now the most recent
        Assert.True(buckets.TryAcquire(addresses[4], out _));   // the table is full: .2 and .3 go
        Assert.Equal(3, buckets.Count);
        Assert.False(buckets.TryAcquire(addresses[0], out _));
        Assert.False(buckets.TryAcquire(addresses[3], out _));
        Assert.True(buckets.TryAcquire(addresses[1], out _));
    }

    [Fact]
    public void Nothing_is_granted_once_disposed()
    {
        var clock = new FakeTimeProvider();
        var buckets = new AddressTokenBuckets(new Quota(2, QuotaUnit.Second), burst: 2, clock);
        Assert.True(buckets.TryAcquire(A, out _));
        buckets.Dispose();
        Assert.False(buckets.TryAcquire(A, out _));
        Assert.False(buckets.TryAcquire(B, out _));
        Assert.Equal(0, buckets.Count);
    }
}
