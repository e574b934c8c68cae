using System.Net;
using Microsoft.Extensions.Time.Testing;
using Pkarr.Dns;
using Pkarr.DnsServer.Forwarding;
using static Pkarr.DnsServer.Tests.Forwarding.ForwarderFixtures;

namespace Pkarr.DnsServer.Tests.Forwarding;

/// <summary>IDnsForwarder.AskServerAsync: one RD = 0 question to a delegated server, over the upstreams' exchange.</summary>
public sealed class AskServerTests
{
    private readonly FakeTimeProvider _time = new();

    private static Task<ForwardResult> AskAsync(UpstreamForwarder forwarder, FakeUpstream server, string name, ForwardFlags flags = ForwardFlags.None)
        => forwarder.AskServerAsync(server.EndPoint, Question(name), flags, CancellationToken.None).AsTask();

    [Fact]
    public async Task Query_has_rd_clear_and_the_answer_is_the_servers_without_any_upstream()
    {
        await using var server = FakeUpstream.Start();
        server.Udp = q => [Replies.Build(q, 0x8400 /* QR AA */, [Replies.A("host.sub.example", 300, "192.0.2.80")])];
        using var forwarder = Create(_time, cacheBytes: 0);

        var response = (await AskAsync(forwarder, server, "Host.Sub.Example", ForwardFlags.CheckingDisabled)).Answered();

        Assert.False(forwarder.HasUpstreams);
        var query = Assert.Single(server.Queries);
        Assert.Equal(0x0010, query.Message.Flags);   // no RD, CD passed on
        Assert.Equal(DnsName.Parse("host.sub.example"), query.Question.Name);
        Assert.Equal(IPAddress.Parse("192.0.2.80"), response.SingleAddress());
        Assert.Equal(0x8400, response.Flags);
        Assert.Empty(response.Additionals);

        // ForwardAsync still sets RD (the same exchange code, the other mode).
        await using var upstream = FakeUpstream.Start();
        using var resolver = Create(_time, upstream);
        await resolver.Ask("host.sub.example");
        Assert.Equal(0x0100, Assert.Single(upstream.Queries).Message.Flags);
    }

    [Fact]
    public async Task Replies_to_another_question_or_id_are_ignored()
    {
        await using var server = FakeUpstream.Start();
        server.Udp = q =>
        {
            var otherQuestion = new DnsMessage
            {
                Id = q.Message.Id,
                Flags = 0x8400,
                Questions = [new DnsQuestion(DnsName.Parse("other.example"), RecordType.A, DnsClass.IN)],
                Answers = [Replies.A("other.example", 300, "192.0.2.66")],
            }.Encode();
            var right = Replies.Build(q, 0x8400, [Replies.A("host.example", 300, "192.0.2.80")]);
            return [otherQuestion, Replies.WithId(right, (ushort)(q.Message.Id ^ 0x1111)), right];
        };
        using var forwarder = Create(_time, cacheBytes: 0);

        var response = (await AskAsync(forwarder, server, "host.example")).Answered();

        Assert.Equal(IPAddress.Parse("192.0.2.80"), response.SingleAddress());
    }

    [Fact]
    public async Task Truncated_reply_is_asked_again_over_tcp_with_rd_clear()
    {
        await using var server = FakeUpstream.Start();
        server.Udp = q => [Replies.TruncatedReply(q)];
        server.Tcp = q => Replies.ManyTxt(q, 60, flags: 0x8400);
        using var forwarder = Create(_time, cacheBytes: 0);

        var response = (await AskAsync(forwarder, server, "big.example")).Answered();

        Assert.Equal(60, response.Answers.Count);
        Assert.Equal([false, true], server.Queries.Select(q => q.OverTcp));
        Assert.All(server.Queries, q => Assert.Equal(0, q.Message.Flags & 0x0100));
    }

    [Fact]
    public async Task Silence_is_a_timeout_after_the_configured_timeout()
    {
        await using var server = FakeUpstream.Start();
        server.Udp = _ => [];
        using var forwarder = Create(_time, cacheBytes: 0);

        var pending = AskAsync(forwarder, server, "quiet.example");
        await _time.AdvancePastTimeoutAsync(server, 1);

        Assert.Same(ForwardResult.Timeout, await pending.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(1, server.Count);
    }

    [Fact]
    public async Task Answers_are_cached_per_server_and_never_given_to_forwarded_questions()
    {
        await using var server = FakeUpstream.Start();
        await using var another = FakeUpstream.Start();
        using var forwarder = Create(_time, cacheBytes: 1L << 20);

        Assert.Equal(Replies.Address, (await AskAsync(forwarder, server, "cached.example")).Answered().SingleAddress());
        Assert.Equal(Replies.Address, (await AskAsync(forwarder, server, "CACHED.example")).Answered().SingleAddress());
        Assert.Equal(1, server.Count);

        // Another server is asked itself; the forwarded question (no upstreams here) finds nothing cached.
        (await AskAsync(forwarder, another, "cached.example")).Answered();
        Assert.Equal(1, another.Count);
        Assert.Equal(ForwardStatus.Failed, (await forwarder.Ask("cached.example")).Status);
    }

    [Fact]
    public async Task Servfail_is_answered_and_not_cached()
    {
        await using var server = FakeUpstream.Start();
        server.Udp = q => [Replies.Rcode(q, 2)];
        using var forwarder = Create(_time, cacheBytes: 1L << 20);

        Assert.Equal(2, (await AskAsync(forwarder, server, "broken.example")).Answered().Rcode());
        Assert.Equal(2, (await AskAsync(forwarder, server, "broken.example")).Answered().Rcode());
        Assert.Equal(2, server.Count);
    }
}
