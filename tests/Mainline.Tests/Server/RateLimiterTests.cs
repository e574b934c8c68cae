using System.Net;
using Mainline.Server;

namespace Mainline.Tests.Server;

public sealed class RateLimiterTests
{
    private static IPAddress Source(int i) => new([10, (byte)(i >> 16), (byte)(i >> 8), (byte)i]);

    [Fact]
    public void Refilled_buckets_are_forgotten_as_traffic_goes_on_and_a_drained_one_is_kept()
    {
        var options = new DhtOptions { RateLimitPerSubnet = 0 };
        var limiter = new RateLimiter(options);
        var burst = (int)options.RateLimitBurst;
        for (var q = 0; q < burst; q++)
        {
            Assert.True(limiter.Allow(Source(0), 0)); // the attacker drains its bucket
        }

        Assert.False(limiter.Allow(Source(0), 0));
        for (var i = 1; i <= 100; i++)
        {
            Assert.True(limiter.Allow(Source(i), 0)); // one query each: their buckets refill within 50 ms
        }

        Assert.Equal(101, limiter.TrackedIps);

        // Three seconds later (burst 60 at 20 a second), new sources' queries forget the refilled buckets at the idle end, two per query.
        for (var i = 101; i <= 150; i++)
        {
            Assert.True(limiter.Allow(Source(i), 3000));
        }

        Assert.Equal(51, limiter.TrackedIps); // the 100 refilled ones gone; the 50 new ones tracked; and...
        Assert.True(limiter.Allow(Source(0), 3000)); // ...the attacker's, drained at 0, had refilled too: forgotten, fresh

        // A bucket drained now is not forgotten while others come and go: its source stays refused.
        while (limiter.Allow(Source(0), 3000))
        {
        }

        for (var i = 151; i <= 400; i++)
        {
            Assert.True(limiter.Allow(Source(i), 3000));
        }

        Assert.False(limiter.Allow(Source(0), 3000));
    }

    [Fact]
    public void A_new_source_gets_a_whole_burst_from_a_bucket_another_source_left()
    {
        var options = new DhtOptions { RateLimitPerSubnet = 0 };
        var limiter = new RateLimiter(options);
        var burst = (int)options.RateLimitBurst;
        for (var i = 0; i < 10; i++)
        {
            while (limiter.Allow(Source(i), 0))
            {
            }
        }

        // Refilled by 3 s: each new source forgets two of them and takes one of their buckets.
        for (var i = 10; i < 15; i++)
        {
            for (var q = 0; q < burst; q++)
            {
                Assert.True(limiter.Allow(Source(i), 3000));
            }

            Assert.False(limiter.Allow(Source(i), 3000));
        }

        Assert.Equal(5, limiter.TrackedIps);
    }
}
