using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Pkarr.Dns;
using Pkarr.DnsServer.Answering;
using Pkarr.DnsServer.Forwarding;
using Pkarr.DnsServer.Metrics;
using Pkarr.DnsServer.Query;
using Pkarr.DnsServer.RateLimiting;
using Pkarr.DnsServer.Tests.Forwarding;
using static Pkarr.DnsServer.Tests.Answering.Fixtures;
using static Pkarr.DnsServer.Tests.Query.QueryHarness;

namespace Pkarr.DnsServer.Tests.Query;

/// <summary>Key delegation: referrals in a packet followed to the delegated servers for RD = 1 queries.</summary>
public sealed class DelegationTests
{
    private static readonly IPAddress Glue = IPAddress.Parse("192.0.2.53");
    private static readonly IPAddress Deep = IPAddress.Parse("192.0.2.60");

    private static string Host => $"host.sub.{K}";

    private static ResourceRecord Ns(string owner, string target) => Record(owner, new NsData(Name(target)));

    private static ResourceRecord Aaaa(string owner, string address) => Record(owner, new AaaaData(IPAddress.Parse(address)));

    /// <summary>sub.&lt;key&gt; delegated to ns.sub.&lt;key&gt; with glue 192.0.2.53, plus <paramref name="more"/>.</summary>
    private static QueryHarness Delegated(QueryHandlerOptions? options = null, params ResourceRecord[] more)
    {
        var harness = new QueryHarness(options);
        harness.Packets.Publish(Signer, [A($"www.{K}", "192.0.2.7"), Ns($"sub.{K}", $"ns.sub.{K}"), A($"ns.sub.{K}", "192.0.2.53"), .. more]);
        return harness;
    }

    /// <summary>A delegated server's authoritative answer: one A record at the question's name.</summary>
    private static ForwardResult Authoritative(DnsQuestion question, string address = "192.0.2.80")
        => new(ForwardStatus.Answered, new DnsMessage
        {
            Flags = 0x8400,
            Questions = [question],
            Answers = [new ResourceRecord(question.Name, DnsClass.IN, 300, new AData(IPAddress.Parse(address)))],
        });

    /// <summary>A delegated server's referral: <paramref name="cut"/> NS ns.&lt;cut&gt;, glue at ns.&lt;cut&gt;.</summary>
    private static ForwardResult Referral(DnsQuestion question, string cut, IPAddress glue)
        => new(ForwardStatus.Answered, new DnsMessage
        {
            Flags = 0x8000,
            Questions = [question],
            Authorities = [Ns(cut, $"ns.{cut}")],
            Additionals = [new ResourceRecord(Name($"ns.{cut}"), DnsClass.IN, 300, new AData(glue)), A("unrelated.example", "192.0.2.99")],
        });

    private static ForwardResult Rcode(DnsQuestion question, ushort rcode)
        => new(ForwardStatus.Answered, new DnsMessage { Flags = (ushort)(0x8000 | rcode), Questions = [question] });

    [Fact]
    public void Glue_is_followed_and_the_delegated_answer_is_the_response()
    {
        var harness = Delegated();
        harness.Forwarder.Server = (server, q) => server.Address.Equals(Glue) ? Authoritative(q) : ForwardResult.Timeout;

        var answer = harness.Ask(Host, RecordType.A);

        Assert.Equal(0, QueryHarness.Rcode(answer));
        Assert.Equal([$"{Host}. 300 IN A 192.0.2.80"], Lines(answer.Answers));
        Assert.False(Flag(answer, HeaderFlags.Aa));
        Assert.True(Flag(answer, HeaderFlags.Ra));
        var ask = Assert.Single(harness.Forwarder.Asks);
        Assert.Equal(new IPEndPoint(Glue, 53), ask.Server);
        Assert.Equal(Name(Host), ask.Question.Name);
        Assert.Equal(RecordType.A, ask.Question.Type);
        Assert.Empty(harness.Forwarder.Calls);
    }

    [Fact]
    public void The_delegation_port_is_used()
    {
        var harness = Delegated(new QueryHandlerOptions { DelegationPort = 5353 });
        harness.Forwarder.Server = (_, q) => Authoritative(q);

        Assert.Equal(0, QueryHarness.Rcode(harness.Ask(Host, RecordType.A)));
        Assert.Equal(new IPEndPoint(Glue, 5353), Assert.Single(harness.Forwarder.Asks).Server);
        Assert.Throws<ArgumentOutOfRangeException>(() => new QueryHarness(new QueryHandlerOptions { DelegationPort = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new QueryHarness(new QueryHandlerOptions { DelegationPort = 65536 }));
    }

    [Fact]
    public void Rd0_keeps_the_referral()
    {
        var harness = Delegated();
        harness.Forwarder.Server = (_, q) => Authoritative(q);

        var answer = harness.Ask(Host, RecordType.A, flags: 0);

        Assert.Equal(0, QueryHarness.Rcode(answer));
        Assert.Empty(answer.Answers);
        Assert.False(Flag(answer, HeaderFlags.Aa));
        Assert.Equal([$"sub.{K}. 300 IN NS ns.sub.{K}."], Lines(answer.Authorities));
        Assert.Equal([$"ns.sub.{K}. 300 IN A 192.0.2.53"], Lines(answer.Additionals));
        Assert.Empty(harness.Forwarder.Asks);
    }

    [Fact]
    public void Depth_zero_keeps_the_referral()
    {
        var harness = Delegated(new QueryHandlerOptions { MaxRecursionDepth = 0 });
        harness.Forwarder.Server = (_, q) => Authoritative(q);

        var answer = harness.Ask(Host, RecordType.A);

        Assert.Single(answer.Authorities);
        Assert.Empty(answer.Answers);
        Assert.Empty(harness.Forwarder.Asks);
    }

    [Fact]
    public void Ns_without_glue_is_resolved_through_another_pkarr_name()
    {
        var harness = new QueryHarness();
        harness.Packets.Publish(Signer, Ns($"sub.{K}", $"ns.{K2}"));
        harness.Packets.Publish(Other, A($"ns.{K2}", "192.0.2.54"), Aaaa($"ns.{K2}", "2001:db8::54"));
        harness.Forwarder.Server = (server, q) => server.Address.Equals(IPAddress.Parse("192.0.2.54")) ? Authoritative(q) : ForwardResult.Timeout;

        var answer = harness.Ask(Host, RecordType.A);

        Assert.Equal(0, QueryHarness.Rcode(answer));
        Assert.Equal([$"{Host}. 300 IN A 192.0.2.80"], Lines(answer.Answers));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.54"), 53), Assert.Single(harness.Forwarder.Asks).Server);
        Assert.Equal([Signer.PublicKey, Other.PublicKey], harness.Packets.Calls);
        Assert.Empty(harness.Forwarder.Calls);
    }

    [Fact]
    public void Ns_without_glue_is_resolved_through_an_icann_name_a_first_then_aaaa()
    {
        var harness = new QueryHarness();
        harness.Packets.Publish(Signer, Ns($"sub.{K}", "ns.example.com"));
        harness.Forwarder.Answer = q => FakeForwarder.Answered(q, 0, q.Type == RecordType.A
            ? A("ns.example.com", "192.0.2.55")
            : Aaaa("ns.example.com", "2001:db8::55"));
        harness.Forwarder.Server = (server, q) => server.Address.Equals(IPAddress.Parse("2001:db8::55")) ? Authoritative(q) : ForwardResult.Failed;

        var answer = harness.Ask(Host, RecordType.A);

        Assert.Equal(0, QueryHarness.Rcode(answer));
        Assert.Equal(["192.0.2.55", "2001:db8::55"], harness.Forwarder.Asks.Select(a => a.Server.Address.ToString()));
        Assert.Equal([RecordType.A, RecordType.AAAA], harness.Forwarder.Calls.Select(c => c.Question.Type));
        Assert.All(harness.Forwarder.Calls, c => Assert.Equal(Name("ns.example.com"), c.Question.Name));
    }

    [Fact]
    public void A_referral_from_the_delegated_server_is_followed_with_its_glue()
    {
        var harness = Delegated();
        harness.Forwarder.Server = (server, q) => server.Address.Equals(Glue) ? Referral(q, $"deep.sub.{K}", Deep)
            : server.Address.Equals(Deep) ? Authoritative(q, "192.0.2.61") : ForwardResult.Timeout;

        var answer = harness.Ask($"x.deep.sub.{K}", RecordType.A);

        Assert.Equal(0, QueryHarness.Rcode(answer));
        Assert.Equal([$"x.deep.sub.{K}. 300 IN A 192.0.2.61"], Lines(answer.Answers));
        Assert.Equal([Glue, Deep], harness.Forwarder.Asks.Select(a => a.Server.Address));
    }

    [Fact]
    public void A_referral_back_to_a_server_already_asked_is_servfail()
    {
        var harness = Delegated();
        harness.Forwarder.Server = (_, q) => Referral(q, $"deep.sub.{K}", Glue);

        var answer = harness.Ask($"x.deep.sub.{K}", RecordType.A);

        Assert.Equal(2, QueryHarness.Rcode(answer));
        Assert.Single(harness.Forwarder.Asks);
    }

    [Fact]
    public void A_referral_that_does_not_lead_down_is_lame_and_the_next_server_is_asked()
    {
        var harness = Delegated(more: [A($"ns.sub.{K}", "192.0.2.54")]);
        harness.Forwarder.Server = (server, q) => server.Address.Equals(Glue) ? Referral(q, $"sub.{K}", Deep) : Authoritative(q);

        var answer = harness.Ask(Host, RecordType.A);

        Assert.Equal(0, QueryHarness.Rcode(answer));
        Assert.Equal(["192.0.2.53", "192.0.2.54"], harness.Forwarder.Asks.Select(a => a.Server.Address.ToString()));
    }

    [Fact]
    public void No_server_answering_is_servfail_after_at_most_three_servers()
    {
        var glue = Enumerable.Range(1, 5).Select(i => A($"ns.sub.{K}", $"192.0.2.{100 + i}")).ToArray();
        var harness = Delegated(more: glue);
        harness.Forwarder.Server = (server, q) => server.Address.Equals(IPAddress.Parse("192.0.2.102")) ? Rcode(q, 2) : ForwardResult.Timeout;

        var answer = harness.Ask(Host, RecordType.A);

        Assert.Equal(2, QueryHarness.Rcode(answer));
        Assert.Equal(["192.0.2.53", "192.0.2.101", "192.0.2.102"], harness.Forwarder.Asks.Select(a => a.Server.Address.ToString()));
    }

    [Fact]
    public void Servfail_and_refused_move_on_nxdomain_is_the_answer()
    {
        var harness = Delegated(more: [A($"ns.sub.{K}", "192.0.2.54"), A($"ns.sub.{K}", "192.0.2.55")]);
        var soa = new ResourceRecord(Name($"sub.{K}"), DnsClass.IN, 300,
            new SoaData(Name($"ns.sub.{K}"), Name($"admin.sub.{K}"), 1, 3600, 600, 86400, 60));
        harness.Forwarder.Server = (server, q) => server.Address.ToString() switch
        {
            "192.0.2.53" => Rcode(q, 2),
            "192.0.2.54" => Rcode(q, 5),
            _ => new ForwardResult(ForwardStatus.Answered, new DnsMessage { Flags = 0x8403, Questions = [q], Authorities = [soa] }),
        };

        var answer = harness.Ask(Host, RecordType.A);

        Assert.Equal(3, QueryHarness.Rcode(answer));
        Assert.Equal(RecordType.SOA, Assert.Single(answer.Authorities).Type);
        Assert.False(Flag(answer, HeaderFlags.Aa));
        Assert.Equal(3, harness.Forwarder.Asks.Count);
    }

    [Fact]
    public void An_authoritative_nodata_listing_its_own_ns_is_the_answer_not_a_referral()
    {
        var harness = Delegated();
        harness.Forwarder.Server = (_, q) => new ForwardResult(ForwardStatus.Answered, new DnsMessage
        {
            Flags = 0x8400,
            Questions = [q],
            Authorities = [Ns($"sub.{K}", $"ns.sub.{K}")],
        });

        var answer = harness.Ask(Host, RecordType.TXT);

        Assert.Equal(0, QueryHarness.Rcode(answer));
        Assert.Empty(answer.Answers);
        Assert.Equal([$"sub.{K}. 300 IN NS ns.sub.{K}."], Lines(answer.Authorities));
        Assert.Single(harness.Forwarder.Asks);
    }

    [Fact]
    public void Delegation_steps_count_against_the_recursion_depth()
    {
        ForwardResult Servers(IPEndPoint server, DnsQuestion q)
            => server.Address.Equals(Glue) ? Referral(q, $"deep.sub.{K}", Deep) : Authoritative(q, "192.0.2.61");

        var shallow = Delegated(new QueryHandlerOptions { MaxRecursionDepth = 1 });
        shallow.Forwarder.Server = Servers;
        Assert.Equal(2, QueryHarness.Rcode(shallow.Ask($"x.deep.sub.{K}", RecordType.A)));
        Assert.Single(shallow.Forwarder.Asks);

        var enough = Delegated(new QueryHandlerOptions { MaxRecursionDepth = 2 });
        enough.Forwarder.Server = Servers;
        Assert.Equal(0, QueryHarness.Rcode(enough.Ask($"x.deep.sub.{K}", RecordType.A)));
        Assert.Equal(2, enough.Forwarder.Asks.Count);

        // A CNAME to another key and the delegation there: two steps.
        var chain = new QueryHarness(new QueryHandlerOptions { MaxRecursionDepth = 1 });
        chain.Packets.Publish(Other, Cname($"go.{K2}", Host));
        chain.Packets.Publish(Signer, Ns($"sub.{K}", $"ns.sub.{K}"), A($"ns.sub.{K}", "192.0.2.53"));
        chain.Forwarder.Server = (_, q) => Authoritative(q);
        Assert.Equal(2, QueryHarness.Rcode(chain.Ask($"go.{K2}", RecordType.A)));
        Assert.Empty(chain.Forwarder.Asks);
    }

    [Fact]
    public void A_cname_in_the_delegated_answer_continues_through_the_chain()
    {
        var harness = Delegated();
        harness.Forwarder.Server = (_, q) => new ForwardResult(ForwardStatus.Answered, new DnsMessage
        {
            Flags = 0x8400,
            Questions = [q],
            Answers = [Cname(Host, "www.example.com")],
        });

        var answer = harness.Ask(Host, RecordType.A);

        Assert.Equal(0, QueryHarness.Rcode(answer));
        Assert.Equal([$"{Host}. 300 IN CNAME www.example.com.", "www.example.com. 300 IN A 192.0.2.1"], Lines(answer.Answers));
        Assert.Equal(Name("www.example.com"), Assert.Single(harness.Forwarder.Calls).Question.Name);
    }

    [Fact]
    public void A_packet_cname_into_the_delegation_is_kept_before_the_delegated_answer()
    {
        var harness = Delegated(more: [Cname($"alias.{K}", Host)]);
        harness.Forwarder.Server = (_, q) => Authoritative(q);

        var answer = harness.Ask($"alias.{K}", RecordType.A);

        Assert.Equal(0, QueryHarness.Rcode(answer));
        Assert.Equal([$"alias.{K}. 300 IN CNAME {Host}.", $"{Host}. 300 IN A 192.0.2.80"], Lines(answer.Answers));
        Assert.Equal(Name(Host), Assert.Single(harness.Forwarder.Asks).Question.Name);
        Assert.True(Flag(answer, HeaderFlags.Aa));
    }

    [Fact]
    public void Unusable_glue_addresses_are_never_asked()
    {
        var harness = Delegated(more: [A($"ns.sub.{K}", "0.0.0.0"), A($"ns.sub.{K}", "224.0.0.1"), A($"ns.sub.{K}", "255.255.255.255"), Aaaa($"ns.sub.{K}", "ff02::1")]);

        Assert.Equal(2, QueryHarness.Rcode(harness.Ask(Host, RecordType.A)));
        Assert.Equal([Glue], harness.Forwarder.Asks.Select(a => a.Server.Address));
    }

    [Theory]
    [InlineData("8.8.8.8", true)]
    [InlineData("192.0.2.53", true)]
    [InlineData("100.128.0.1", true)]
    [InlineData("172.32.0.1", true)]
    [InlineData("2001:4860:4860::8888", true)]
    [InlineData("::ffff:8.8.4.4", true)]
    [InlineData("127.0.0.1", false)]
    [InlineData("10.1.2.3", false)]
    [InlineData("172.16.0.1", false)]
    [InlineData("172.31.255.254", false)]
    [InlineData("192.168.1.1", false)]
    [InlineData("100.64.0.1", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("198.18.0.1", false)]
    [InlineData("::1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("fd12:3456::1", false)]
    [InlineData("fec0::1", false)]
    [InlineData("::ffff:127.0.0.1", false)]
    public void Internal_addresses_are_asked_only_when_allowed(string address, bool askedByDefault)
    {
        var ip = IPAddress.Parse(address);
        Assert.Equal(askedByDefault, DnsQueryHandler.Askable(ip, privateAllowed: false));
        Assert.True(DnsQueryHandler.Askable(ip, privateAllowed: true));
    }

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("0.1.2.3")]
    [InlineData("224.0.0.1")]
    [InlineData("240.0.0.1")]
    [InlineData("255.255.255.255")]
    [InlineData("::")]
    [InlineData("ff02::1")]
    public void Unspecified_reserved_and_multicast_addresses_are_never_asked(string address)
    {
        Assert.False(DnsQueryHandler.Askable(IPAddress.Parse(address), privateAllowed: true));
        Assert.False(DnsQueryHandler.Askable(IPAddress.Parse(address), privateAllowed: false));
    }

    [Fact]
    public void Glue_at_internal_addresses_is_not_followed_unless_allowed()
    {
        ResourceRecord[] inward = [A($"ns.sub.{K}", "127.0.0.1"), A($"ns.sub.{K}", "10.0.0.53"), Aaaa($"ns.sub.{K}", "fd00::53")];
        var harness = new QueryHarness();
        harness.Packets.Publish(Signer, [Ns($"sub.{K}", $"ns.sub.{K}"), .. inward]);

        Assert.Equal(2, QueryHarness.Rcode(harness.Ask(Host, RecordType.A))); // SERVFAIL: no server may be asked
        Assert.Empty(harness.Forwarder.Asks);

        var lan = new QueryHarness(new QueryHandlerOptions { DelegateToPrivateAddresses = true });
        lan.Packets.Publish(Signer, [Ns($"sub.{K}", $"ns.sub.{K}"), .. inward]);
        lan.Forwarder.Server = (_, question) => Authoritative(question);
        Assert.Equal(0, QueryHarness.Rcode(lan.Ask(Host, RecordType.A)));
        Assert.Equal([IPAddress.Parse("127.0.0.1")], lan.Forwarder.Asks.Select(a => a.Server.Address));
    }

    [Fact]
    public async Task The_real_forwarder_asks_the_delegated_server_on_loopback_with_rd_clear()
    {
        await using var server = FakeUpstream.Start();
        server.Udp = q => [Replies.Build(q, 0x8400, [Replies.A($"host.sub.{K}", 300, "192.0.2.80")])];
        var time = new FakeTimeProvider();
        using var metrics = new DnsMetrics();
        using var forwarder = ForwarderFixtures.Create(time, cacheBytes: 0);
        var packets = new FakePacketSource();
        packets.Publish(Signer, Ns($"sub.{K}", $"ns.sub.{K}"), A($"ns.sub.{K}", "127.0.0.1"));
        var handler = new DnsQueryHandler(
            new QueryHandlerOptions { DelegationPort = server.EndPoint.Port, DelegateToPrivateAddresses = true },
            Matcher(),
            new PacketAnswerer(new AnsweringOptions()),
            packets,
            forwarder,
            DnsRateLimits.Unlimited,
            metrics,
            time,
            NullLogger<DnsQueryHandler>.Instance);

        byte[]? bytes = await handler.HandleAsync(QueryBytes($"HOST.sub.{K}.key", RecordType.A), new QueryContext(QueryHarness.Client, DnsTransport.Udp), CancellationToken.None)
            .AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        var answer = DnsMessage.Parse(bytes);
        Assert.Equal(0, QueryHarness.Rcode(answer));
        Assert.Equal([$"host.sub.{K}.key. 300 IN A 192.0.2.80"], Lines(answer.Answers));
        var query = Assert.Single(server.Queries).Message;
        Assert.Equal(0, query.Flags & HeaderFlags.Rd);
        Assert.Equal(Name($"host.sub.{K}"), query.Questions[0].Name);
    }
}
