// Request counts over the last minute and since start, for GET /api/status (the web app's status view). Prometheus
// has the full series at /metrics; this is the glance a person wants without a metrics stack: how busy the relay is
// right now. Each count is a ring of one-second slots on the relay's clock, so it costs a lock and two array writes
// per request and never grows.

namespace Pkarr.Relay.Metrics;

internal sealed class RequestRates(TimeProvider time)
{
    /// <summary>The window of <see cref="Snapshot.LastMinute"/>, in seconds.</summary>
    public const int WindowSeconds = 60;

    private readonly SlidingCount _resolves = new();
    private readonly SlidingCount _publishes = new();
    private readonly SlidingCount _rateLimited = new();

    /// <summary>A GET or HEAD of /{key}, whatever its outcome.</summary>
    public void Resolve() => _resolves.Add(Second());

    /// <summary>A PUT of /{key}, whatever its outcome.</summary>
    public void Publish() => _publishes.Add(Second());

    /// <summary>An HTTP request refused by a rate limit (429).</summary>
    public void RateLimited() => _rateLimited.Add(Second());

    public Snapshot Resolves => _resolves.Read(Second());

    public Snapshot Publishes => _publishes.Read(Second());

    public Snapshot RateLimitedRequests => _rateLimited.Read(Second());

    private long Second() => time.GetUtcNow().ToUnixTimeSeconds();

    /// <summary>Requests in the last <see cref="WindowSeconds"/> seconds (this second included), and since start.</summary>
    internal readonly record struct Snapshot(long LastMinute, long Total);

    private sealed class SlidingCount
    {
        private readonly long[] _counts = new long[WindowSeconds];
        private readonly long[] _seconds = new long[WindowSeconds];
        private readonly Lock _lock = new();
        private long _total;

        public void Add(long second)
        {
            int slot = Slot(second);
            lock (_lock)
            {
                if (_seconds[slot] != second)
                {
                    _seconds[slot] = second;
                    _counts[slot] = 0;
                }

                _counts[slot]++;
                _total++;
            }
        }

        public Snapshot Read(long now)
        {
            long recent = 0;
            lock (_lock)
            {
                for (int slot = 0; slot < WindowSeconds; slot++)
                {
                    long age = now - _seconds[slot];
                    if (age is >= 0 and < WindowSeconds)
                    {
                        recent += _counts[slot];
                    }
                }

                return new Snapshot(recent, _total);
            }
        }

        private static int Slot(long second) => (int)(((second % WindowSeconds) + WindowSeconds) % WindowSeconds);
    }
}
