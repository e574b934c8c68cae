// Each test proves that one shortcoming of pkdns listed in shared spec pkarr.md §9.5 (and the §9.6 wish about
// bootstrap names) is absent from our forwarder; the test name starts with the §9.5 item it covers.

using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using Pkarr.Dns;
using Pkarr.DnsServer.Forwarding;
using static Pkarr.DnsServer.Tests.Forwarding.ForwarderFixtures;

namespace Pkarr.DnsServer.Tests.Forwarding;

public sealed class Pkdns95ForwardingTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task UdpSize_AnUpstreamAnswerOver1024BytesIsNotCut()
    {
        await using var upstream = FakeUpstream.Start();
        upstream.Udp = q => [Replies.ManyTxt(q, 60)];   // ~3.3 KB in one datagram
        using var forwarder = Create(_time, upstream);

        var response = (await forwarder.Ask("big.example", type: RecordType.TXT)).Answered();

        Assert.Equal(60, response.Answers.Count);
        Assert.True(Replies.ManyTxt(upstream.Queries[0], 60).Length > 1024);
    }

    [Fact]
    public async Task UdpSize_ATruncatedReplyIsRetriedOverTcp_AndTheFullAnswerIsWhatIsCached()
    {
        await using var upstream = FakeUpstream.Start();
        upstream.Udp = q => [Replies.TruncatedReply(q)];
        upstream.Tcp = q => Replies.ManyTxt(q, 40);
        using var forwarder = Create(_time, upstream);

        var response = (await forwarder.Ask("tc.example", type: RecordType.TXT)).Answered();

        Assert.Equal(40, response.Answers.Count);
        Assert.Equal(0, response.Flags & Replies.Truncated);
        Assert.True(Replies.ManyTxt(upstream.Queries[1], 40).Length > 1024);
        Assert.Equal([false, true], upstream.Queries.Select(q => q.OverTcp));
        Assert.Equal(upstream.Queries[0].Question, upstream.Queries[1].Question);

        var cached = (await forwarder.Ask("tc.example", type: RecordType.TXT)).Answered();
        Assert.Equal(40, cached.Answers.Count);
        Assert.Equal(2, upstream.Count);
    }

    [Fact]
    public async Task ForwardedAnswerCache_ServfailAndRefusedAreNotCached()
    {
        await using var upstream = FakeUpstream.Start();
        upstream.Udp = q => [Replies.Rcode(q, q.Question.Name.Label(0)[0] == (byte)'s' ? 2 : 5)];
        using var forwarder = Create(_time, upstream);

        Assert.Equal(2, (await forwarder.Ask("servfail.example")).Answered().Rcode());
        Assert.Equal(2, (await forwarder.Ask("servfail.example")).Answered().Rcode());
        Assert.Equal(5, (await forwarder.Ask("refused.example")).Answered().Rcode());
        Assert.Equal(5, (await forwarder.Ask("refused.example")).Answered().Rcode());

        Assert.Equal(4, upstream.Count);
        Assert.Equal(0, forwarder.Cache!.Count);
    }

    [Fact]
    public async Task ForwardedAnswerCache_TimeoutsAreNotCached()
    {
        await using var upstream = FakeUpstream.Start();
        upstream.Udp = _ => [];
        using var forwarder = Create(_time, upstream);

        var first = forwarder.Ask("late.example");
        await _time.AdvancePastTimeoutAsync(upstream, 1);
        Assert.Same(ForwardResult.Timeout, await first);

        upstream.Udp = q => [Replies.Answer(q)];
        Assert.Equal(Replies.Address, (await forwarder.Ask("late.example")).Answered().SingleAddress());
        Assert.Equal(2, upstream.Count);
    }

    [Fact]
    public async Task ForwardedAnswerCache_NxdomainLivesForTheSoaMinimum_NotMinTtl_AndThenExpires()
    {
        await using var upstream = FakeUpstream.Start();
        upstream.Udp = q => [Replies.Rcode(q, 3, [Replies.Soa("example", 3600, 30)])];
        using var forwarder = Create(_time, upstream);

        Assert.Equal(3, (await forwarder.Ask("nx.example")).Answered().Rcode());
        _time.Advance(TimeSpan.FromSeconds(29));
        var cached = (await forwarder.Ask("nx.example")).Answered();
        Assert.Equal(3, cached.Rcode());
        Assert.Equal(3600u - 29, Assert.Single(cached.Authorities).Ttl);
        Assert.Equal(1, upstream.Count);

        _time.Advance(TimeSpan.FromSeconds(1));   // 30 s: under pkdns's min_ttl of 60, but the SOA says 30
        Assert.Equal(3, (await forwarder.Ask("nx.example")).Answered().Rcode());
        Assert.Equal(2, upstream.Count);
    }

    [Fact]
    public async Task ForwardedAnswerCache_NxdomainWithoutSoaIsNotCached()
    {
        await using var upstream = FakeUpstream.Start();
        upstream.Udp = q => [Replies.Rcode(q, 3)];
        using var forwarder = Create(_time, upstream);

        await forwarder.Ask("nosoa.example");
        await forwarder.Ask("nosoa.example");

        Assert.Equal(2, upstream.Count);
    }

    [Fact]
    public async Task ForwardedAnswerCache_KeyIgnoresNameCase()
    {
        await using var upstream = FakeUpstream.Start();
        using var forwarder = Create(_time, upstream);

        await forwarder.Ask("Example.COM");
        var hit = (await forwarder.Ask("example.com")).Answered();

        Assert.Equal(Replies.Address, hit.SingleAddress());
        Assert.Equal(1, upstream.Count);
    }

    [Fact]
    public async Task ForwardedAnswerCache_KeyIncludesDoAndCd()
    {
        await using var upstream = FakeUpstream.Start();
        using var forwarder = Create(_time, upstream);

        foreach (var flags in new[] { ForwardFlags.None, ForwardFlags.DnssecOk, ForwardFlags.CheckingDisabled, ForwardFlags.None, ForwardFlags.DnssecOk })
        {
            (await forwarder.Ask("flags.example", flags)).Answered();
        }

        Assert.Equal(3, upstream.Count);
        Assert.Equal([0u, 0x8000u, 0u], upstream.Queries.Select(q => q.Message.Additionals[0].Ttl));
    }

    [Fact]
    public async Task ForwardedAnswerCache_HitsDoNotAskUpstream_AndTtlsCountDown()
    {
        await using var upstream = FakeUpstream.Start();
        using var forwarder = Create(_time, upstream);

        Assert.Equal(300u, Assert.Single((await forwarder.Ask("ttl.example")).Answered().Answers).Ttl);
        _time.Advance(TimeSpan.FromSeconds(100));
        Assert.Equal(200u, Assert.Single((await forwarder.Ask("ttl.example")).Answered().Answers).Ttl);
        Assert.Equal(1, upstream.Count);

        _time.Advance(TimeSpan.FromSeconds(200));   // 300 s: expired
        Assert.Equal(300u, Assert.Single((await forwarder.Ask("ttl.example")).Answered().Answers).Ttl);
        Assert.Equal(2, upstream.Count);
    }

    [Fact]
    public async Task Limits_QueryIdsAreRandom_AndEachQueryHasItsOwnSourcePort()
    {
        await using var upstream = FakeUpstream.Start();
        using var forwarder = Create(_time, cacheBytes: 0, upstream.EndPoint);

        for (int i = 0; i < 20; i++)
        {
            (await forwarder.Ask("random.example")).Answered();
        }

        var ids = upstream.Queries.Select(q => (int)q.Message.Id).ToArray();
        var ports = upstream.Queries.Select(q => q.From.Port).ToArray();
        Assert.Equal(20, ids.Length);

        // 20 random 16-bit ids: a repeat has odds of about 1 in 300, two repeats far less; sequential ids fail both.
        Assert.True(ids.Distinct().Count() >= 18);
        Assert.False(ids.Zip(ids.Skip(1)).All(pair => pair.Second == ((pair.First + 1) & 0xFFFF)));
        Assert.True(ports.Distinct().Count() >= 10);
        Assert.DoesNotContain(upstream.EndPoint.Port, ports);
    }

    [Fact]
    public async Task Limits_RepliesAreMatchedByQuestion_NotOnlyById()
    {
        await using var upstream = FakeUpstream.Start();
        upstream.Udp = q =>
        {
            var other = q with { Message = new DnsMessage { Id = q.Message.Id, Questions = [Question("victim.example")] } };
            var wrongType = q with { Message = new DnsMessage { Id = q.Message.Id, Questions = [Question("asked.example", RecordType.AAAA)] } };
            return
            [
                Replies.Build(other, Replies.NoError, [Replies.A("victim.example", 300, "203.0.113.66")]),
                Replies.Build(wrongType, Replies.NoError, [Replies.A("asked.example", 300, "203.0.113.67")]),
                Replies.Answer(q),
            ];
        };
        using var forwarder = Create(_time, upstream);

        var response = (await forwarder.Ask("ASKED.example")).Answered();

        Assert.Equal(Replies.Address, response.SingleAddress());
        Assert.Equal(1, upstream.Count);
    }

    [Fact]
    public async Task RemoteCrashes_ALateReplyToAnEarlierQueryIsIgnored()
    {
        await using var upstream = FakeUpstream.Start();
        byte[]? earlier = null;
        upstream.Udp = q =>
        {
            var answer = Replies.Answer(q);
            var previous = earlier;
            earlier = answer;

            // The reply to the previous query (its id and question) arrives first on this query's socket.
            return previous is null ? [answer] : [previous, answer];
        };
        using var forwarder = Create(_time, cacheBytes: 0, upstream.EndPoint);

        for (int i = 0; i < 4; i++)
        {
            var response = (await forwarder.Ask($"q{i}.example")).Answered();
            Assert.Equal(DnsName.Parse($"q{i}.example"), Assert.Single(response.Answers).Name);
        }
    }

    [Fact]
    public async Task RemoteCrashes_AnIpv6UpstreamWorks()
    {
        await using var upstream = FakeUpstream.TryStart(IPAddress.IPv6Loopback);
        if (upstream is null)
        {
            return;   // no ::1 on this machine: nothing to prove here
        }

        upstream.Udp = q => [Replies.TruncatedReply(q)];
        using var forwarder = Create(_time, upstream);

        var response = (await forwarder.Ask("v6.example")).Answered();

        Assert.Equal(Replies.Address, response.SingleAddress());
        Assert.All(upstream.Queries, q => Assert.Equal(AddressFamily.InterNetworkV6, q.From.AddressFamily));
        Assert.Equal([false, true], upstream.Queries.Select(q => q.OverTcp));
    }

    [Fact]
    public async Task Wishes96_BootstrapNamesAreResolvedThroughTheUpstream()
    {
        await using var upstream = FakeUpstream.Start();
        upstream.Udp = q => q.Question.Type == RecordType.A
            ? [Replies.Build(q, Replies.NoError, [Replies.A(q.Question.Name.ToString(), 300, "192.0.2.44")])]
            : [Replies.Rcode(q, 0, [Replies.Soa("example", 60, 60)])];
        using var forwarder = Create(_time, upstream);

        var addresses = await forwarder.ResolveAddressesAsync("router.bittorrent.example", CancellationToken.None);

        Assert.Equal([IPAddress.Parse("192.0.2.44")], addresses);
        Assert.Equal(2, upstream.Count);
    }
}
