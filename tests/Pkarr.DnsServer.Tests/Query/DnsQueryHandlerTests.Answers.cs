using Pkarr.Dns;
using Pkarr.DnsServer.Forwarding;
using Pkarr.DnsServer.Packets;
using Pkarr.DnsServer.Query;
using Pkarr.Keys;
using static Pkarr.DnsServer.Tests.Answering.Fixtures;
using static Pkarr.DnsServer.Tests.Query.QueryHarness;

namespace Pkarr.DnsServer.Tests.Query;

/// <summary>Where answers come from: packets, the forwarder, and CNAME chains between them.</summary>
public sealed class DnsQueryHandlerAnswerTests
{
    private static readonly string Www = $"www.{K}";

    [Fact]
    public void Found_packet_answers_authoritatively()
    {
        var harness = new QueryHarness();
        harness.Packets.Publish(Signer, A(Www, "192.0.2.7"), A(Www, "192.0.2.8"));
        var answer = harness.Ask($"www.{K}.key", RecordType.A);
        Assert.Equal(0, Rcode(answer));
        Assert.True(Flag(answer, HeaderFlags.Aa));
        Assert.Equal(["192.0.2.7", "192.0.2.8"], answer.Answers.Select(r => r.Data.ToString()));
        Assert.All(answer.Answers, r => Assert.Equal(Name($"www.{K}.key"), r.Name));
        Assert.Equal([Signer.PublicKey], harness.Packets.Calls);
        Assert.Empty(harness.Forwarder.Calls);

        // NODATA for another type: NOERROR with the zone's SOA.
        var nodata = harness.Ask(Www, RecordType.AAAA);
        Assert.Equal(0, Rcode(nodata));
        Assert.Empty(nodata.Answers);
        Assert.Equal(RecordType.SOA, Assert.Single(nodata.Authorities).Type);
    }

    [Fact]
    public void Unpublished_key_is_nxdomain_with_the_keys_soa()
    {
        var harness = new QueryHarness();
        var answer = harness.Ask($"www.{K}.key", RecordType.A);
        Assert.Equal(3, Rcode(answer));
        Assert.True(Flag(answer, HeaderFlags.Aa));
        var soa = Assert.Single(answer.Authorities);
        Assert.Equal(Name($"{K}.key"), soa.Name);
        Assert.Equal(60u, soa.Ttl);
        Assert.Equal(60u, ((SoaData)soa.Data).Minimum);
        Assert.Empty(harness.Forwarder.Calls);
    }

    [Fact]
    public void Failed_lookup_is_servfail_and_rate_limited_lookup_is_refused()
    {
        var harness = new QueryHarness();
        harness.Packets.Set(Signer.PublicKey, PacketLookup.Failed);
        var failed = harness.Ask(Www, RecordType.A);
        Assert.Equal(2, Rcode(failed));
        Assert.Empty(failed.Authorities);

        harness.Packets.Set(Signer.PublicKey, PacketLookup.RateLimited);
        var limited = harness.Ask(Www, RecordType.A);
        Assert.Equal(5, Rcode(limited));
        Assert.Equal(Name(Www), Assert.Single(limited.Questions).Name);
        Assert.Empty(harness.Forwarder.Calls);
    }

    [Fact]
    public void Invalid_key_is_nxdomain_and_never_forwarded()
    {
        var harness = new QueryHarness();
        foreach (string name in new[] { $"www.{NonCanonical(K)}", NotOnCurve(), $"{NonCanonical(K)}.key" })
        {
            var answer = harness.Ask(name, RecordType.A);
            Assert.Equal(3, Rcode(answer));
            Assert.Equal(Name(name), Assert.Single(answer.Questions).Name);
        }

        Assert.Empty(harness.Forwarder.Calls);
        Assert.Empty(harness.Packets.Calls);
    }

    [Fact]
    public void Other_names_are_forwarded_with_our_id_and_the_upstream_rcode()
    {
        var harness = new QueryHarness();
        harness.Forwarder.Answer = q => FakeForwarder.Answered(q, 3);
        var answer = harness.Ask(QueryBytes("Missing.Example.COM", RecordType.A, id: 77, edns: 1232));
        Assert.Equal(77, answer.Id);
        Assert.Equal(3, Rcode(answer));
        Assert.False(Flag(answer, HeaderFlags.Aa));
        Assert.Equal("Missing.Example.COM", Assert.Single(answer.Questions).Name.ToString());
        Assert.Single(answer.Additionals, r => r.Type == RecordType.OPT);
        var call = Assert.Single(harness.Forwarder.Calls);
        Assert.Equal(Name("Missing.Example.COM"), call.Question.Name);
        Assert.Empty(harness.Packets.Calls);
    }

    [Fact]
    public void Forwarded_sections_are_kept_without_the_upstreams_opt()
    {
        var harness = new QueryHarness();
        harness.Forwarder.Answer = q => new ForwardResult(ForwardStatus.Answered, new DnsMessage
        {
            Flags = 0x8180,
            Questions = [q],
            Answers = [A("example.com", "192.0.2.1")],
            Authorities = [Record("example.com", new NsData(Name("ns.example.com")))],
            Additionals = [A("ns.example.com", "192.0.2.53"), Opt(4096, dnssecOk: true)],
        });
        var answer = harness.Ask(QueryBytes("example.com", RecordType.A, edns: 1232));
        Assert.Single(answer.Answers);
        Assert.Single(answer.Authorities);
        Assert.Equal(2, answer.Additionals.Count);
        var opt = Assert.Single(answer.Additionals, r => r.Type == RecordType.OPT);
        Assert.Equal(1232, (int)opt.Class);
        Assert.Equal(0u, opt.Ttl);
    }

    [Fact]
    public void Upstream_failures_are_servfail_and_no_upstream_is_refused()
    {
        var harness = new QueryHarness();
        harness.Forwarder.Answer = _ => ForwardResult.Timeout;
        Assert.Equal(2, Rcode(harness.Ask("example.com", RecordType.A)));
        harness.Forwarder.Answer = _ => ForwardResult.Failed;
        Assert.Equal(2, Rcode(harness.Ask("example.com", RecordType.A)));

        harness.Forwarder.HasUpstreams = false;
        var refused = harness.Ask("example.com", RecordType.A);
        Assert.Equal(5, Rcode(refused));
        Assert.False(Flag(refused, HeaderFlags.Ra));
        Assert.Equal(2, harness.Forwarder.Calls.Count);
    }

    [Theory]
    [InlineData(0, false, false)]
    [InlineData(HeaderFlags.Ad, false, true)]
    [InlineData(0, true, true)]
    public void Upstream_ad_reaches_only_clients_that_set_ad_or_do(ushort clientFlags, bool dnssecOk, bool expected)
    {
        var harness = new QueryHarness();
        harness.Forwarder.Answer = q => FakeForwarder.Answered(q, HeaderFlags.Ad, A("example.com", "192.0.2.1"));
        var answer = harness.Ask(QueryBytes("example.com", RecordType.A, flags: (ushort)(Rd | clientFlags), edns: dnssecOk ? 1232 : null, dnssecOk: dnssecOk));
        Assert.Equal(expected, Flag(answer, HeaderFlags.Ad));

        // Without AD upstream it is never set.
        harness.Forwarder.Answer = q => FakeForwarder.Answered(q, 0, A("example.com", "192.0.2.1"));
        answer = harness.Ask(QueryBytes("example.com", RecordType.A, flags: (ushort)(Rd | clientFlags), edns: dnssecOk ? 1232 : null, dnssecOk: dnssecOk));
        Assert.False(Flag(answer, HeaderFlags.Ad));
    }

    [Fact]
    public void Cd_and_do_are_passed_to_the_forwarder()
    {
        var harness = new QueryHarness();
        harness.Ask(QueryBytes("example.com", RecordType.A, flags: Rd | HeaderFlags.Cd, edns: 1232, dnssecOk: true));
        harness.Ask(QueryBytes("example.com", RecordType.A));
        Assert.Equal([ForwardFlags.CheckingDisabled | ForwardFlags.DnssecOk, ForwardFlags.None], harness.Forwarder.Calls.Select(c => c.Flags));
    }

    [Fact]
    public void Root_query_is_forwarded()
    {
        var harness = new QueryHarness();
        harness.Forwarder.Answer = q => FakeForwarder.Answered(q, 0, Record(".", new NsData(Name("a.root-servers.net"))));
        var answer = harness.Ask(".", RecordType.NS);
        Assert.Equal(0, Rcode(answer));
        Assert.True(Assert.Single(answer.Questions).Name.IsRoot);
        Assert.Single(answer.Answers);
        Assert.True(Assert.Single(harness.Forwarder.Calls).Question.Name.IsRoot);
    }

    [Fact]
    public void Mixed_case_name_is_answered_with_the_case_echoed()
    {
        var harness = new QueryHarness();
        harness.Packets.Publish(Signer, A(Www, "192.0.2.7"));
        string mixed = string.Concat($"wWw.{K}.KeY".Select((c, i) => i % 2 == 0 ? char.ToUpperInvariant(c) : c));
        byte[] query = QueryBytes(mixed, RecordType.A);
        var answer = harness.Ask(query);
        Assert.Equal(0, Rcode(answer));
        var question = Assert.Single(answer.Questions);
        Assert.Equal(mixed, question.Name.ToString());
        Assert.Equal(mixed, Assert.Single(answer.Answers).Name.ToString());
        Assert.Empty(harness.Forwarder.Calls);
    }

    [Theory]
    [InlineData((int)DnsTransport.Udp)]
    [InlineData((int)DnsTransport.Tcp)]
    [InlineData((int)DnsTransport.Https)]
    public void Any_is_refused_on_every_transport_when_so_configured(int transportValue)
    {
        var transport = (DnsTransport)transportValue;
        var harness = new QueryHarness(new QueryHandlerOptions { AnyQueries = AnyQueryMode.Refused });
        harness.Packets.Publish(Signer, A(Www, "192.0.2.7"));
        Assert.Equal(5, Rcode(harness.Ask(Www, (RecordType)255, transport: transport)));
        Assert.Equal(5, Rcode(harness.Ask("example.com", (RecordType)255, transport: transport)));
        Assert.Empty(harness.Forwarder.Calls);
        Assert.Empty(harness.Packets.Calls);

        // Other types still answer.
        Assert.Equal(0, Rcode(harness.Ask(Www, RecordType.A, transport: transport)));
    }

    [Fact]
    public void Any_is_answered_minimally_and_forwarded_as_is_by_default()
    {
        var harness = new QueryHarness();
        harness.Packets.Publish(Signer, A(Www, "192.0.2.7"), Record(Www, new TxtData(["x"u8.ToArray()])));
        var answer = harness.Ask(Www, (RecordType)255);
        Assert.Equal(RecordType.A, Assert.Single(answer.Answers).Type);
        harness.Ask("example.com", (RecordType)255);
        Assert.Equal((RecordType)255, Assert.Single(harness.Forwarder.Calls).Question.Type);
    }

    [Theory]
    [InlineData(252, DnsClass.IN, 5)] // AXFR
    [InlineData(251, DnsClass.IN, 5)] // IXFR
    [InlineData(1, DnsClass.CH, 5)]
    [InlineData(250, DnsClass.IN, 4)] // TSIG
    [InlineData(249, DnsClass.IN, 4)] // TKEY
    [InlineData(41, DnsClass.IN, 4)] // OPT as a question
    public void Transfers_other_classes_and_meta_types_are_never_forwarded(int type, DnsClass @class, int rcode)
    {
        var harness = new QueryHarness();
        harness.Packets.Publish(Signer, A(Www, "192.0.2.7"));
        Assert.Equal(rcode, Rcode(harness.Ask(QueryBytes("example.com", (RecordType)type, @class: @class))));
        Assert.Equal(rcode, Rcode(harness.Ask(QueryBytes(Www, (RecordType)type, @class: @class))));
        Assert.Empty(harness.Forwarder.Calls);
        Assert.Empty(harness.Packets.Calls);

        // Class ANY is a query like IN.
        Assert.Equal(0, Rcode(harness.Ask(QueryBytes(Www, RecordType.A, @class: DnsClass.ANY))));
    }

    [Fact]
    public void Cname_chain_runs_key_to_key_to_icann()
    {
        var harness = new QueryHarness();
        harness.Packets.Publish(Signer, Cname(Www, $"api.{K2}"));
        harness.Packets.Publish(Other, Cname($"api.{K2}", "target.example.com"));
        var answer = harness.Ask(QueryBytes($"www.{K}.key", RecordType.A, edns: 1232));
        Assert.Equal(0, Rcode(answer));
        Assert.True(Flag(answer, HeaderFlags.Aa));
        Assert.False(Flag(answer, HeaderFlags.Ad));
        Assert.Equal(
            [$"www.{K}.key. 300 IN CNAME api.{K2}.key.", $"api.{K2}.key. 300 IN CNAME target.example.com.", "target.example.com. 300 IN A 192.0.2.1"],
            Lines(answer.Answers));
        Assert.Equal([Signer.PublicKey, Other.PublicKey], harness.Packets.Calls);
        Assert.Equal(Name("target.example.com"), Assert.Single(harness.Forwarder.Calls).Question.Name);
    }

    [Fact]
    public void Cname_to_icann_is_not_followed_without_rd()
    {
        var harness = new QueryHarness();
        harness.Packets.Publish(Signer, Cname(Www, "target.example.com"));
        var answer = harness.Ask(QueryBytes(Www, RecordType.A, flags: 0));
        Assert.Equal(0, Rcode(answer));
        Assert.Equal([$"www.{K}. 300 IN CNAME target.example.com."], Lines(answer.Answers));
        Assert.Empty(harness.Forwarder.Calls);

        // Another key is ours to answer, RD or not.
        harness.Packets.Publish(Signer, Cname(Www, $"api.{K2}"));
        harness.Packets.Publish(Other, A($"api.{K2}", "192.0.2.9"));
        answer = harness.Ask(QueryBytes(Www, RecordType.A, flags: 0));
        Assert.Equal(2, answer.Answers.Count);
    }

    [Fact]
    public void Nxdomain_at_the_end_of_a_chain_keeps_the_cnames_and_the_soa()
    {
        var harness = new QueryHarness();
        harness.Packets.Publish(Signer, Cname(Www, $"gone.{K2}"));
        harness.Packets.Publish(Other, A($"api.{K2}", "192.0.2.9"));
        var answer = harness.Ask(Www, RecordType.A);
        Assert.Equal(3, Rcode(answer));
        Assert.Equal([$"www.{K}. 300 IN CNAME gone.{K2}."], Lines(answer.Answers));
        Assert.Equal(Name(K2), Assert.Single(answer.Authorities).Name);

        // An unpublished target key: the same, with that key's SOA.
        harness.Packets.Set(Other.PublicKey, PacketLookup.NotFound);
        answer = harness.Ask(Www, RecordType.A);
        Assert.Equal(3, Rcode(answer));
        Assert.Single(answer.Answers);
        Assert.Equal(Name(K2), Assert.Single(answer.Authorities).Name);
    }

    [Fact]
    public void Chain_longer_than_the_depth_is_servfail()
    {
        var third = Keypair.Random();
        string k3 = third.PublicKey.ToZ32();
        var harness = new QueryHarness(new QueryHandlerOptions { MaxRecursionDepth = 1 });
        harness.Packets.Publish(Signer, Cname(Www, $"a.{K2}"));
        harness.Packets.Publish(Other, Cname($"a.{K2}", $"b.{k3}"));
        harness.Packets.Publish(third, A($"b.{k3}", "192.0.2.3"));
        var answer = harness.Ask(Www, RecordType.A);
        Assert.Equal(2, Rcode(answer));
        Assert.Empty(answer.Answers);
        Assert.Equal(2, harness.Packets.Calls.Count);

        // Depth 2 reaches the end.
        var deeper = new QueryHarness(new QueryHandlerOptions { MaxRecursionDepth = 2 });
        deeper.Packets.Publish(Signer, Cname(Www, $"a.{K2}"));
        deeper.Packets.Publish(Other, Cname($"a.{K2}", $"b.{k3}"));
        deeper.Packets.Publish(third, A($"b.{k3}", "192.0.2.3"));
        answer = deeper.Ask(Www, RecordType.A);
        Assert.Equal(0, Rcode(answer));
        Assert.Equal(3, answer.Answers.Count);
    }

    [Fact]
    public void Loop_across_keys_is_servfail_at_once()
    {
        var harness = new QueryHarness(new QueryHandlerOptions { MaxRecursionDepth = 100 });
        harness.Packets.Publish(Signer, Cname(Www, $"a.{K2}"));
        harness.Packets.Publish(Other, Cname($"a.{K2}", $"WWW.{K}"));
        var answer = harness.Ask(Www, RecordType.A);
        Assert.Equal(2, Rcode(answer));
        Assert.Equal(2, harness.Packets.Calls.Count);
        Assert.Empty(harness.Forwarder.Calls);
    }

    [Fact]
    public void Chain_into_an_invalid_key_is_nxdomain_without_forwarding()
    {
        var harness = new QueryHarness();
        harness.Packets.Publish(Signer, Cname(Www, $"x.{NonCanonical(K2)}"));
        var answer = harness.Ask(Www, RecordType.A);
        Assert.Equal(3, Rcode(answer));
        Assert.Single(answer.Answers);
        Assert.Empty(harness.Forwarder.Calls);
    }

    [Fact]
    public void Icann_name_with_a_cname_to_a_key_goes_on_at_the_key()
    {
        var harness = new QueryHarness();
        harness.Packets.Publish(Signer, A(Www, "192.0.2.7"));
        harness.Forwarder.Answer = q => FakeForwarder.Answered(q, 3, Cname("www.example.com", $"alias.example.com"), Cname("alias.example.com", $"WWW.{K}"));
        var answer = harness.Ask("www.example.com", RecordType.A);
        Assert.Equal(0, Rcode(answer));
        Assert.False(Flag(answer, HeaderFlags.Aa));
        Assert.Equal(
            ["www.example.com. 300 IN CNAME alias.example.com.", $"alias.example.com. 300 IN CNAME WWW.{K}.", $"WWW.{K}. 300 IN A 192.0.2.7"],
            Lines(answer.Answers));
        Assert.Equal([Signer.PublicKey], harness.Packets.Calls);

        // The upstream already holding the records, or a chain ending at an ICANN name: nothing more to do.
        harness.Forwarder.Answer = q => FakeForwarder.Answered(q, 0, Cname("www.example.com", "other.example.net"));
        Assert.Single(harness.Ask("www.example.com", RecordType.A).Answers);
        harness.Forwarder.Answer = q => FakeForwarder.Answered(q, 0, Cname("www.example.com", Www), A(Www, "192.0.2.99"));
        Assert.Equal("192.0.2.99", harness.Ask("www.example.com", RecordType.A).Answers[1].Data.ToString());
        Assert.Single(harness.Packets.Calls);

        // An upstream CNAME loop through a key ends in SERVFAIL, not a hang.
        harness.Packets.Publish(Signer, Cname(Www, "www.example.com"));
        harness.Forwarder.Answer = q => FakeForwarder.Answered(q, 3, Cname("www.example.com", Www));
        Assert.Equal(2, Rcode(harness.Ask("www.example.com", RecordType.A)));
    }
}
