using Pkarr.DnsServer.Metrics;
using Pkarr.DnsServer.Query;

namespace Pkarr.DnsServer.Tests.Metrics;

/// <summary>The per-processor counters behind the query metrics, and what the observable instruments report of them.</summary>
public sealed class StripedCountsTests
{
    [Fact]
    public void Increments_from_many_threads_add_up_exactly_in_their_own_counter()
    {
        const int Threads = 8;
        const int PerThread = 20_000;
        var counts = new StripedCounts(10);

        // Threads outnumber the processors here, so some share a stripe: the totals must still be exact.
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            for (int i = 0; i < PerThread; i++)
            {
                counts.Increment(t % 2 == 0 ? 3 : 9);
            }
        })).ToList();
        threads.ForEach(thread => thread.Start());
        threads.ForEach(thread => Assert.True(thread.Join(TimeSpan.FromSeconds(30))));

        Assert.Equal(Threads / 2 * PerThread, counts.Total(3));
        Assert.Equal(Threads / 2 * PerThread, counts.Total(9));
        Assert.All(Enumerable.Range(0, 10).Except([3, 9]), counter => Assert.Equal(0, counts.Total(counter)));
    }

    [Fact]
    public void A_counter_outside_the_set_is_refused()
    {
        var counts = new StripedCounts(4);

        Assert.Throws<ArgumentOutOfRangeException>(() => counts.Total(4));
        Assert.Throws<ArgumentOutOfRangeException>(() => counts.Total(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StripedCounts(0));
    }

    [Fact]
    public void The_observable_counters_report_each_tag_set_counted_and_no_other()
    {
        using var metrics = new DnsMetrics();
        using var recorder = new MetricsRecorder(metrics);

        metrics.Query(DnsTransport.Udp, QueryKind.Pkarr, 0, TimeSpan.FromMicroseconds(5));
        metrics.Query(DnsTransport.Udp, QueryKind.Pkarr, 0, TimeSpan.FromMicroseconds(5));
        metrics.Query(DnsTransport.Https, QueryKind.Forwarded, 3, TimeSpan.FromMilliseconds(2));
        metrics.Query(DnsTransport.Tcp, QueryKind.Formerr, 16, TimeSpan.FromMicroseconds(9));
        metrics.Query(DnsTransport.Tcp, QueryKind.Error, 4000, TimeSpan.FromMicroseconds(9));
        metrics.PacketCache(PacketCacheResult.Stale);
        metrics.ForwardCache(hit: false);
        metrics.ForwardCache(hit: false);

        Assert.Equal(5, recorder.Sum("pkarr.dns.queries"));
        Assert.Equal(4, recorder.Count("pkarr.dns.queries"));
        Assert.Equal(2, recorder.Sum("pkarr.dns.queries", "transport=udp", "kind=pkarr", "rcode=NOERROR"));
        Assert.Equal(1, recorder.Sum("pkarr.dns.queries", "transport=https", "kind=forwarded", "rcode=NXDOMAIN"));
        Assert.Equal(1, recorder.Sum("pkarr.dns.queries", "transport=tcp", "kind=formerr", "rcode=BADVERS"));
        Assert.Equal(1, recorder.Sum("pkarr.dns.queries", "transport=tcp", "kind=error", "rcode=other"));
        Assert.Equal(0, recorder.Sum("pkarr.dns.queries", "kind=invalid"));
        Assert.Equal(5, recorder.Count("pkarr.dns.query.duration"));
        Assert.Equal(1, recorder.Sum("pkarr.dns.packet_cache", "result=stale"));
        Assert.Equal(1, recorder.Count("pkarr.dns.packet_cache"));
        Assert.Equal(2, recorder.Sum("pkarr.dns.forward_cache", "result=miss"));
        Assert.Equal(0, recorder.Sum("pkarr.dns.forward_cache", "result=hit"));
    }
}
