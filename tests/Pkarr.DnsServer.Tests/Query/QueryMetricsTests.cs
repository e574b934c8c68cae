using Microsoft.Extensions.Time.Testing;
using Pkarr.Dns;
using Pkarr.DnsServer.Query;
using Pkarr.DnsServer.RateLimiting;
using static Pkarr.DnsServer.Tests.Answering.Fixtures;
using static Pkarr.DnsServer.Tests.Query.QueryHarness;

namespace Pkarr.DnsServer.Tests.Query;

/// <summary>What the query handler counts: each answered query once, under its transport, kind and rcode; refusals
/// and dropped messages under their own counters.</summary>
public sealed class QueryMetricsTests
{
    [Fact]
    public void Each_answered_query_is_counted_once_with_its_transport_kind_and_rcode()
    {
        var harness = new QueryHarness();
        harness.Packets.Publish(Signer, A($"www.{K}", "192.0.2.7"));
        using var metrics = new MetricsRecorder(harness.Metrics);

        Assert.Equal(0, QueryHarness.Rcode(harness.Ask($"www.{K}", RecordType.A)));
        Assert.Equal(0, QueryHarness.Rcode(harness.Ask($"www.{K}", RecordType.A))); // the kept response, reused
        Assert.Equal(0, QueryHarness.Rcode(harness.Ask($"www.{K}", RecordType.A, transport: DnsTransport.Tcp)));
        Assert.Equal(3, QueryHarness.Rcode(harness.Ask($"nowhere.{K}", RecordType.A)));
        Assert.Equal(0, QueryHarness.Rcode(harness.Ask("example.test", RecordType.A)));

        Assert.Equal(5, metrics.Sum("pkarr.dns.queries"));
        Assert.Equal(2, metrics.Sum("pkarr.dns.queries", "transport=udp", "kind=pkarr", "rcode=NOERROR"));
        Assert.Equal(1, metrics.Sum("pkarr.dns.queries", "transport=tcp", "kind=pkarr", "rcode=NOERROR"));
        Assert.Equal(1, metrics.Sum("pkarr.dns.queries", "transport=udp", "kind=pkarr", "rcode=NXDOMAIN"));
        Assert.Equal(1, metrics.Sum("pkarr.dns.queries", "transport=udp", "kind=forwarded", "rcode=NOERROR"));
        Assert.Equal(5, metrics.Count("pkarr.dns.query.duration"));
        Assert.Equal(0, metrics.Sum("pkarr.dns.rate_limited"));
        Assert.Equal(0, metrics.Sum("pkarr.dns.dropped"));
    }

    [Fact]
    public void Refusals_and_dropped_messages_have_their_own_counters()
    {
        var time = new FakeTimeProvider();
        using var limits = new DnsRateLimits(1, 1, 0, 0, time);
        var harness = new QueryHarness(limits: limits, time: time);
        using var metrics = new MetricsRecorder(harness.Metrics);

        Assert.Equal(0, QueryHarness.Rcode(harness.Ask("example.test", RecordType.A)));
        Assert.Equal(5, QueryHarness.Rcode(harness.Ask("example.test", RecordType.A))); // over the burst of 1
        Assert.Null(harness.Raw(new byte[5])); // shorter than a header
        byte[] response = QueryBytes("example.test", RecordType.A);
        response[2] |= 0x80; // QR: a response, never answered
        Assert.Null(harness.Raw(response));

        Assert.Equal(1, metrics.Sum("pkarr.dns.rate_limited", "limit=query"));
        Assert.Equal(1, metrics.Sum("pkarr.dns.queries", "kind=refused", "rcode=REFUSED"));
        Assert.Equal(1, metrics.Sum("pkarr.dns.queries", "kind=forwarded", "rcode=NOERROR"));
        Assert.Equal(2, metrics.Sum("pkarr.dns.queries"));
        Assert.Equal(1, metrics.Sum("pkarr.dns.dropped", "reason=short"));
        Assert.Equal(1, metrics.Sum("pkarr.dns.dropped", "reason=response"));
    }
}
