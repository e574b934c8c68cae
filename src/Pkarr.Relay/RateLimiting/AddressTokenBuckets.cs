// One token bucket per client IP (shared spec pkarr.md §6.5): `burst` tokens at most, one back every quota period,
// no queue. The relay keeps three of these: HTTP requests, user-triggered DHT work, incoming DHT queries.
//
// Why this shape: System.Threading.RateLimiting reads Stopwatch itself and takes no TimeProvider. Its
// PartitionedRateLimiter.Create replenishes and drops idle partitions from its own 100 ms wall-clock timer, and even
// TokenBucketRateLimiter.TryReplenish with AutoReplenishment off adds nothing until ReplenishmentPeriod of real time
// has passed, so neither a test clock nor a TimeProvider timer can drive them. Here each address gets a
// TokenBucketRateLimiter (AutoReplenishment off) that holds and hands out its tokens; the schedule is ours: every
// acquisition first credits the tokens that fell due since the last one, counted on the TimeProvider, by topping the
// bucket up (TryReplenish with TokensPerPeriod = burst and the shortest period it accepts, one tick) and taking back
// what is not due yet. That needs no timer per bucket and gives the exact wait until the next token (a GCRA, as the
// reference's limiter), where the framework's lease would always say one whole period.
//
// The table is bounded: a bucket that has refilled is the same as no bucket, so a sweep on a TimeProvider timer drops
// those; and when a flood of source addresses fills the table between sweeps, the least recently seen half goes
// (those clients start again with a full burst, which bounds memory at the cost of some leniency under attack).

using System.Collections.Concurrent;
using System.Net;
using System.Threading.RateLimiting;

namespace Pkarr.Relay.RateLimiting;

internal sealed class AddressTokenBuckets : PartitionedRateLimiter<IPAddress>
{
    /// <summary>Addresses tracked at most: about 400 bytes each, so some 20 MB for a full table. Refilled buckets go
    /// at every sweep and first when the table is full, so only a flood of addresses reaches it.</summary>
    public const int DefaultCapacity = 50_000;

    /// <summary>How often refilled buckets are dropped.</summary>
    public static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);

    /// <summary>The tokens left in the address's bucket after an acquisition, on every lease.</summary>
    public static readonly MetadataName<long> Remaining = MetadataName.Create<long>("REMAINING_PERMITS");

    private readonly ConcurrentDictionary<IPAddress, Bucket> _buckets = new();
    private readonly TimeProvider _time;
    private readonly long _origin;
    private readonly long _period;
    private readonly TokenBucketRateLimiterOptions _options;
    private readonly ITimer _sweeper;
    private readonly Lock _sweepLock = new();
    private volatile bool _disposed;
    private long _uses;

    public AddressTokenBuckets(Quota quota, int burst, TimeProvider time, int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(quota.Period, TimeSpan.Zero, nameof(quota));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(burst);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Quota = quota;
        Burst = burst;
        Capacity = capacity;
        _time = time;
        _origin = time.GetTimestamp();
        _period = quota.Period.Ticks;
        _options = new TokenBucketRateLimiterOptions
        {
            TokenLimit = burst,
            TokensPerPeriod = burst,
            ReplenishmentPeriod = TimeSpan.FromTicks(1),
            QueueLimit = 0,
            AutoReplenishment = false,
        };
        _sweeper = time.CreateTimer(static state => ((AddressTokenBuckets)state!).Sweep(), this, SweepInterval, SweepInterval);
    }

    public Quota Quota { get; }

    /// <summary>The size of each bucket.</summary>
    public int Burst { get; }

    /// <summary>Addresses tracked at most.</summary>
    public int Capacity { get; }

    /// <summary>Addresses tracked now.</summary>
    public int Count => _buckets.Count;

    /// <summary>Takes one token for <paramref name="address"/>; false, with the wait until one is back, when none is
    /// left. After <see cref="RateLimiter.Dispose()"/> nothing is granted (the relay is stopping).</summary>
    public bool TryAcquire(IPAddress address, out TimeSpan retryAfter)
    {
        var outcome = Take(address, 1);
        retryAfter = outcome.RetryAfter;
        return outcome.Acquired;
    }

    public override RateLimiterStatistics? GetStatistics(IPAddress resource)
    {
        if (!_buckets.TryGetValue(resource, out var bucket))
        {
            return new RateLimiterStatistics { CurrentAvailablePermits = Burst };
        }

        lock (bucket.Gate)
        {
            Refill(bucket, Now());
            return bucket.Limiter.GetStatistics();
        }
    }

    protected override RateLimitLease AttemptAcquireCore(IPAddress resource, int permitCount)
    {
        var outcome = Take(resource, permitCount);
        return new Lease(outcome.Acquired, outcome.Remaining, outcome.RetryAfter);
    }

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(IPAddress resource, int permitCount, CancellationToken cancellationToken)
    {
        // No queue (QueueLimit 0): waiting would hold a request open for a client that is over its quota.
        return cancellationToken.IsCancellationRequested
            ? ValueTask.FromCanceled<RateLimitLease>(cancellationToken)
            : ValueTask.FromResult(AttemptAcquireCore(resource, permitCount));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            _sweeper.Dispose();
            lock (_sweepLock)
            {
                foreach (var entry in _buckets)
                {
                    Remove(entry);
                }
            }
        }

        base.Dispose(disposing);
    }

    private long Now() => _time.GetElapsedTime(_origin).Ticks;

    private Outcome Take(IPAddress address, int permits)
    {
        // Repeats only when a sweep dropped the bucket between the lookup and the lock; the next lookup adds a
        // fresh one, which no sweep drops before it is used (it is the most recently seen).
        while (!_disposed)
        {
            var bucket = _buckets.TryGetValue(address, out var found) ? found : Add(address);
            lock (bucket.Gate)
            {
                if (bucket.Removed)
                {
                    continue;
                }

                // Read under the lock, so that one bucket sees its acquisitions in the order of their times.
                long now = Now();
                Refill(bucket, now);
                bucket.LastUsed = Interlocked.Increment(ref _uses);
                bool acquired;
                using (var lease = bucket.Limiter.AttemptAcquire(permits))
                {
                    acquired = lease.IsAcquired;
                }

                long available = Available(bucket);
                if (acquired)
                {
                    return new Outcome(true, available, TimeSpan.Zero);
                }

                // The missing tokens come back one per period, the first one a period after the last refill (never
                // less than nothing, should a top-up have been skipped).
                long missing = Math.Max(permits, 1) - available;
                long wait = (missing * _period) - (now - bucket.Refilled);
                return new Outcome(false, available, TimeSpan.FromTicks(Math.Max(wait, 0)));
            }
        }

        return new Outcome(false, 0, TimeSpan.FromTicks(_period));
    }

    /// <summary>Puts back the tokens due since the last refill. A full bucket accrues nothing: its next token starts
    /// to come back only once one is taken.</summary>
    private void Refill(Bucket bucket, long now)
    {
        long available = Available(bucket);
        long periods = (now - bucket.Refilled) / _period;
        if (available < Burst && periods > 0)
        {
            // TryReplenish tops the bucket up (TokensPerPeriod = Burst), then the tokens not yet due are taken back.
            // Its own real-time gate (one tick since its last replenishment) can skip a top-up when one address is
            // refilled twice within 100 ns; nothing is credited then, and the next acquisition credits it.
            bucket.Limiter.TryReplenish();
            if (Available(bucket) < Burst)
            {
                return;
            }

            long target = Math.Min(Burst, available + periods);
            if (target < Burst)
            {
                using var excess = bucket.Limiter.AttemptAcquire((int)(Burst - target));
                bucket.Refilled += periods * _period;
                return;
            }
        }

        if (Available(bucket) >= Burst)
        {
            bucket.Refilled = now;
        }
    }

    private static long Available(Bucket bucket) => bucket.Limiter.GetStatistics()?.CurrentAvailablePermits ?? 0;

    private Bucket Add(IPAddress address)
    {
        if (_buckets.Count >= Capacity)
        {
            Trim();
        }

        var fresh = new Bucket(new TokenBucketRateLimiter(_options), Now()) { LastUsed = Interlocked.Increment(ref _uses) };
        var bucket = _buckets.GetOrAdd(address, fresh);
        if (!ReferenceEquals(bucket, fresh))
        {
            fresh.Dispose();
        }

        return bucket;
    }

    /// <summary>Drops every bucket that has refilled.</summary>
    private void Sweep()
    {
        lock (_sweepLock)
        {
            SweepRefilled(Now());
        }
    }

    private void SweepRefilled(long now)
    {
        foreach (var entry in _buckets)
        {
            var bucket = entry.Value;
            lock (bucket.Gate)
            {
                if (bucket.Removed)
                {
                    continue;
                }

                Refill(bucket, now);
                if (Available(bucket) >= Burst)
                {
                    Remove(entry);
                }
            }
        }
    }

    /// <summary>Makes room in a full table: the refilled buckets go, then, if that is not enough, the least
    /// recently seen half.</summary>
    private void Trim()
    {
        lock (_sweepLock)
        {
            if (_buckets.Count < Capacity)
            {
                return;
            }

            SweepRefilled(Now());
            int excess = _buckets.Count - (Capacity / 2);
            if (excess <= 0 || _buckets.Count < Capacity)
            {
                return;
            }

            foreach (var entry in _buckets.OrderBy(entry => entry.Value.LastUsed).Take(excess).ToList())
            {
                Remove(entry);
            }
        }
    }

    private void Remove(KeyValuePair<IPAddress, Bucket> entry)
    {
        var bucket = entry.Value;
        lock (bucket.Gate)
        {
            bucket.Removed = true;
            _buckets.TryRemove(entry);
            bucket.Dispose();
        }
    }

    private readonly record struct Outcome(bool Acquired, long Remaining, TimeSpan RetryAfter);

    private sealed class Bucket(TokenBucketRateLimiter limiter, long now) : IDisposable
    {
        public Lock Gate { get; } = new();

        public TokenBucketRateLimiter Limiter { get; } = limiter;

        /// <summary>When the next token started to come back (ticks since the table's origin).</summary>
        public long Refilled { get; set; } = now;

        /// <summary>The table's use count at this address's last acquisition: the order of least recent use.</summary>
        public long LastUsed { get; set; }

        /// <summary>Dropped from the table: an acquisition that raced the drop looks the address up again.</summary>
        public bool Removed { get; set; }

        public void Dispose() => Limiter.Dispose();
    }

    private sealed class Lease(bool acquired, long remaining, TimeSpan retryAfter) : RateLimitLease
    {
        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames =>
            acquired ? [Remaining.Name] : [Remaining.Name, MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            if (metadataName == Remaining.Name)
            {
                metadata = remaining;
                return true;
            }

            if (!acquired && metadataName == MetadataName.RetryAfter.Name)
            {
                metadata = retryAfter;
                return true;
            }

            metadata = null;
            return false;
        }
    }
}
