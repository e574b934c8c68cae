using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Pkarr.Dns;
using Pkarr.DnsServer.Forwarding;
using Pkarr.DnsServer.Metrics;
using static Pkarr.DnsServer.Tests.Forwarding.ForwarderFixtures;

namespace Pkarr.DnsServer.Tests.Forwarding;

public sealed class UpstreamForwarderTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task Query_HasRecursionDesired_Edns1232_LowerCasedQuestion_AndNoDoOrCdUnlessAsked()
    {
        await using var upstream = FakeUpstream.Start();
        using var forwarder = Create(_time, cacheBytes: 0, upstream.EndPoint);

        await forwarder.Ask("WWW.Example.COM", ForwardFlags.None, RecordType.AAAA);
        await forwarder.Ask("www.example.com", ForwardFlags.DnssecOk | ForwardFlags.CheckingDisabled, RecordType.AAAA);

        var plain = upstream.Queries[0].Message;
        var secure = upstream.Queries[1].Message;
        Assert.Equal(0x0100, plain.Flags);   // RD only: a query, opcode 0, no CD
        Assert.Equal(0x0110, secure.Flags);  // RD and CD
        Assert.Equal(DnsName.Parse("www.example.com"), plain.Questions[0].Name);  // byte-wise: lower-cased
        Assert.Equal(RecordType.AAAA, plain.Questions[0].Type);
        Assert.Equal(DnsClass.IN, plain.Questions[0].Class);
        var opt = Assert.Single(plain.Additionals);
        Assert.Equal(RecordType.OPT, opt.Type);
        Assert.Equal(1232, (int)opt.Class);
        Assert.Equal(0u, opt.Ttl);                                   // no DO
        Assert.Equal(0x8000u, Assert.Single(secure.Additionals).Ttl); // DO
        Assert.Empty(plain.Answers);
        Assert.Empty(plain.Authorities);
    }

    [Fact]
    public async Task Answer_IsTheUpstreams_WithoutItsOpt_AndWithItsFlags()
    {
        await using var upstream = FakeUpstream.Start();
        upstream.Udp = q => [Replies.Build(q, Replies.NoError | 0x0020 /* AD */, [Replies.A("a.example", 300, "192.0.2.7")])];
        using var forwarder = Create(_time, upstream);

        var response = (await forwarder.Ask("a.example")).Answered();

        Assert.Equal(IPAddress.Parse("192.0.2.7"), response.SingleAddress());
        Assert.Empty(response.Additionals);
        Assert.Equal(0x81A0, response.Flags);   // QR RD RA AD, NOERROR
        Assert.True(forwarder.HasUpstreams);
    }

    [Fact]
    public async Task RepliesWithAnotherId_OrNotResponses_AreIgnored_AndTheRightReplyIsTaken()
    {
        await using var upstream = FakeUpstream.Start();
        upstream.Udp = q =>
        {
            var right = Replies.Answer(q);
            return [Replies.WithId(right, (ushort)(q.Message.Id ^ 0x5A5A)), q.Bytes /* the query itself: QR = 0 */, right];
        };
        using var forwarder = Create(_time, upstream);

        var response = (await forwarder.Ask("id.example")).Answered();

        Assert.Equal(Replies.Address, response.SingleAddress());
    }

    [Fact]
    public async Task DuplicateReplies_AreHarmless_ToThisQueryAndTheNext()
    {
        await using var upstream = FakeUpstream.Start();
        upstream.Udp = q => [Replies.Answer(q), Replies.Answer(q), Replies.Answer(q)];
        using var forwarder = Create(_time, cacheBytes: 0, upstream.EndPoint);

        for (int i = 0; i < 5; i++)
        {
            var response = (await forwarder.Ask($"dup{i}.example")).Answered();
            Assert.Equal(DnsName.Parse($"dup{i}.example"), Assert.Single(response.Answers).Name);
        }

        Assert.Equal(5, upstream.Count);
    }

    [Fact]
    public async Task ReplyWithZBitSet_IsAccepted()
    {
        await using var upstream = FakeUpstream.Start();
        upstream.Udp = q =>
        {
            var reply = Replies.Answer(q);
            reply[3] |= 0x40;
            return [reply];
        };
        using var forwarder = Create(_time, upstream);

        var response = (await forwarder.Ask("z.example")).Answered();

        Assert.Equal(Replies.Address, response.SingleAddress());
        Assert.Equal(0, response.Flags & 0x0040);
    }

    [Fact]
    public async Task UnparsableReply_MovesToTheNextUpstream_AndFailsWhenNoneIsUsable()
    {
        await using var broken = FakeUpstream.Start();
        await using var good = FakeUpstream.Start();
        broken.Udp = q =>
        {
            var reply = Replies.Answer(q);
            return [reply[..^3]];   // header and question intact, the answer's rdata cut
        };
        using var both = Create(_time, broken, good);
        using var brokenOnly = Create(_time, broken);

        Assert.Equal(Replies.Address, (await both.Ask("u.example")).Answered().SingleAddress());
        Assert.Equal(1, broken.Count);
        Assert.Equal(1, good.Count);
        Assert.Same(ForwardResult.Failed, await brokenOnly.Ask("u.example"));
    }

    [Fact]
    public async Task Servfail_TriesTheNextUpstream_AndIsReturnedWhenNoneDoesBetter()
    {
        await using var failing = FakeUpstream.Start();
        await using var good = FakeUpstream.Start();
        failing.Udp = q => [Replies.Rcode(q, 2)];
        using var both = Create(_time, failing, good);
        using var failingOnly = Create(_time, failing);

        Assert.Equal(Replies.Address, (await both.Ask("s.example")).Answered().SingleAddress());
        Assert.Equal(2, (await failingOnly.Ask("s.example")).Answered().Rcode());
    }

    [Fact]
    public async Task SilentFirstUpstream_TheSecondAnswers()
    {
        await using var silent = FakeUpstream.Start();
        await using var good = FakeUpstream.Start();
        silent.Udp = _ => [];
        using var forwarder = Create(_time, silent, good);

        var pending = forwarder.Ask("second.example");
        await _time.AdvancePastTimeoutAsync(silent, 1);

        Assert.Equal(Replies.Address, (await pending).Answered().SingleAddress());
        Assert.Equal(1, good.Count);
    }

    [Fact]
    public async Task CacheResults_AndUpstreamOutcomes_AreCounted()
    {
        await using var upstream = FakeUpstream.Start();
        upstream.Udp = q => [Replies.Build(q, Replies.NoError, [Replies.A("a.example", 300, "192.0.2.7")])];
        await using var silent = FakeUpstream.Start();
        silent.Udp = _ => [];
        using var metrics = new DnsMetrics();
        using var recorder = new MetricsRecorder(metrics);
        using var forwarder = new UpstreamForwarder(
            new ForwarderOptions { Upstreams = [upstream.EndPoint], Timeout = ForwarderFixtures.Timeout, CacheBytes = 1L << 20 }, metrics, _time,
            NullLogger<UpstreamForwarder>.Instance);
        using var unanswered = new UpstreamForwarder(
            new ForwarderOptions { Upstreams = [silent.EndPoint], Timeout = ForwarderFixtures.Timeout, CacheBytes = 1L << 20 }, metrics, _time,
            NullLogger<UpstreamForwarder>.Instance);

        await forwarder.Ask("a.example");
        await forwarder.Ask("a.example");
        var pending = unanswered.Ask("b.example");
        await _time.AdvancePastTimeoutAsync(silent, 1);
        Assert.Same(ForwardResult.Timeout, await pending);

        Assert.Single(upstream.Queries);
        Assert.Equal(1, recorder.Sum("pkarr.dns.forward_cache", "result=hit"));
        Assert.Equal(2, recorder.Sum("pkarr.dns.forward_cache", "result=miss"));
        Assert.Equal(1, recorder.Sum("pkarr.dns.upstream", "outcome=answered"));
        Assert.Equal(1, recorder.Sum("pkarr.dns.upstream", "outcome=timeout"));
        Assert.Equal(2, recorder.Sum("pkarr.dns.upstream"));
    }

    [Fact]
    public async Task AllSilent_IsTimeout()
    {
        await using var first = FakeUpstream.Start();
        await using var second = FakeUpstream.Start();
        first.Udp = _ => [];
        second.Udp = _ => [];
        using var forwarder = Create(_time, first, second);

        var pending = forwarder.Ask("silent.example");
        await _time.AdvancePastTimeoutAsync(first, 1);
        await _time.AdvancePastTimeoutAsync(second, 1);

        Assert.Same(ForwardResult.Timeout, await pending);
    }

    [Fact]
    public async Task AnUpstreamThatKeepsTimingOut_IsAskedLast_UntilItAnswersAgain()
    {
        await using var silent = FakeUpstream.Start();
        await using var good = FakeUpstream.Start();
        silent.Udp = _ => [];
        using var forwarder = Create(_time, silent, good);

        for (int i = 1; i <= UpstreamForwarder.FailingAfter; i++)
        {
            var pending = forwarder.Ask($"t{i}.example");
            await _time.AdvancePastTimeoutAsync(silent, i);
            (await pending).Answered();
        }

        // The clock no longer moves: only the good upstream, now asked first, can answer.
        (await forwarder.Ask("after.example")).Answered();
        Assert.Equal(UpstreamForwarder.FailingAfter, silent.Count);
        Assert.Equal(UpstreamForwarder.FailingAfter + 1, good.Count);
    }

    [Fact]
    public async Task Dispose_EndsFlightsInProgress_WithFailed()
    {
        await using var upstream = FakeUpstream.Start();
        upstream.Udp = _ => [];
        var forwarder = Create(_time, upstream);

        var pending = forwarder.Ask("disposed.example");
        await upstream.WaitForQueriesAsync(1);
        forwarder.Dispose();

        Assert.Same(ForwardResult.Failed, await pending.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task ClosedUpstreamPort_FailsWithoutWaitingForTheTimeout()
    {
        // A UDP port with nothing behind it: ICMP "port unreachable" reaches the connected socket at once.
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var closed = (IPEndPoint)probe.LocalEndPoint!;
        probe.Dispose();
        using var forwarder = Create(_time, 1L << 20, closed);

        // The fake clock never moves: only the ICMP error can end this.
        var result = await forwarder.Ask("closed.example").WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Same(ForwardResult.Failed, result);
    }

    [Fact]
    public async Task IdenticalQuestionsInFlight_ShareOneUpstreamQuery()
    {
        await using var upstream = FakeUpstream.Start();
        var gate = new TaskCompletionSource();
        upstream.Gate = gate.Task;
        using var forwarder = Create(_time, upstream);

        var first = forwarder.Ask("flight.example");
        var second = forwarder.Ask("FLIGHT.example");
        var other = forwarder.Ask("flight.example", ForwardFlags.DnssecOk);
        await upstream.WaitForQueriesAsync(2);
        gate.SetResult();

        Assert.Equal(Replies.Address, (await first).Answered().SingleAddress());
        Assert.Same((await first).Response, (await second).Response);
        Assert.Equal(Replies.Address, (await other).Answered().SingleAddress());
        Assert.Equal(2, upstream.Count);
    }

    [Fact]
    public async Task CallerCancellation_ThrowsOperationCanceled()
    {
        await using var upstream = FakeUpstream.Start();
        upstream.Udp = _ => [];
        using var forwarder = Create(_time, upstream);
        using var cancel = new CancellationTokenSource();

        var pending = forwarder.ForwardAsync(Question("cancel.example"), ForwardFlags.None, cancel.Token).AsTask();
        await upstream.WaitForQueriesAsync(1);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
    }

    [Fact]
    public async Task NoUpstreams_Fails_AndDisposedForwarder_Fails()
    {
        using var none = Create(_time, 1L << 20);
        Assert.False(none.HasUpstreams);
        Assert.Same(ForwardResult.Failed, await none.Ask("a.example"));

        await using var upstream = FakeUpstream.Start();
        var forwarder = Create(_time, upstream);
        forwarder.Dispose();
        Assert.Same(ForwardResult.Failed, await forwarder.Ask("a.example"));
        Assert.Equal(0, upstream.Count);
    }

    [Fact]
    public async Task ResolveAddresses_FollowsCnamesInTheAnswer_AndAsksAAndAaaa()
    {
        await using var upstream = FakeUpstream.Start();
        upstream.Udp = q =>
        {
            var cname = new ResourceRecord(q.Question.Name, DnsClass.IN, 300, new CnameData(DnsName.Parse("Target.Example")));
            ResourceRecord address = q.Question.Type == RecordType.A
                ? Replies.A("target.example", 300, "192.0.2.9")
                : new ResourceRecord(DnsName.Parse("target.EXAMPLE"), DnsClass.IN, 300, new AaaaData(IPAddress.Parse("2001:db8::9")));
            return [Replies.Build(q, Replies.NoError, [cname, address, Replies.A("unrelated.example", 300, "192.0.2.66")])];
        };
        using var forwarder = Create(_time, upstream);

        var addresses = await forwarder.ResolveAddressesAsync("router.example", CancellationToken.None);

        Assert.Equal([IPAddress.Parse("192.0.2.9"), IPAddress.Parse("2001:db8::9")], addresses);
        Assert.Equal([RecordType.A, RecordType.AAAA], upstream.Queries.Select(q => q.Question.Type).Order());
    }

    [Fact]
    public async Task ResolveAddresses_IpLiteralIsItself_AndNoAnswerIsEmpty()
    {
        await using var upstream = FakeUpstream.Start();
        upstream.Udp = q => [Replies.Rcode(q, 3)];
        using var forwarder = Create(_time, upstream);

        Assert.Equal([IPAddress.Parse("192.0.2.3")], await forwarder.ResolveAddressesAsync("192.0.2.3", CancellationToken.None));
        Assert.Equal([IPAddress.IPv6Loopback], await forwarder.ResolveAddressesAsync("::1", CancellationToken.None));
        Assert.Equal(0, upstream.Count);
        Assert.Empty(await forwarder.ResolveAddressesAsync("missing.example", CancellationToken.None));
        Assert.Equal(2, upstream.Count);
    }

    [Fact]
    public void Options_AreValidated()
    {
        using var metrics = new DnsMetrics();
        var logger = NullLogger<UpstreamForwarder>.Instance;
        Assert.Throws<ArgumentException>(() => new UpstreamForwarder(new ForwarderOptions { MinTtl = 10, MaxTtl = 5 }, metrics, _time, logger));
        Assert.Throws<ArgumentException>(() => new UpstreamForwarder(new ForwarderOptions { Timeout = TimeSpan.Zero }, metrics, _time, logger));
        Assert.Throws<ArgumentException>(() => new UpstreamForwarder(new ForwarderOptions { CacheBytes = -1 }, metrics, _time, logger));
        using var valid = new UpstreamForwarder(new ForwarderOptions { CacheBytes = 0 }, metrics, _time, logger);
        Assert.Null(valid.Cache);
    }
}
