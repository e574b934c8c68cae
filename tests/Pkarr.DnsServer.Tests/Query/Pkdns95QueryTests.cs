using System.Net;
using Microsoft.Extensions.Time.Testing;
using Pkarr.Dns;
using Pkarr.DnsServer.Answering;
using Pkarr.DnsServer.Forwarding;
using Pkarr.DnsServer.Packets;
using Pkarr.DnsServer.Query;
using Pkarr.DnsServer.RateLimiting;
using static Pkarr.DnsServer.Tests.Answering.Fixtures;
using static Pkarr.DnsServer.Tests.Query.QueryHarness;

namespace Pkarr.DnsServer.Tests.Query;

/// <summary>Spec pkarr.md §9.5, the query pipeline's share: each test is one shortfall of pkdns that we do not have.</summary>
public sealed class Pkdns95QueryTests
{
    private static readonly string Www = $"www.{K}";

    private static QueryHarness Published(QueryHandlerOptions? options = null)
    {
        var harness = new QueryHarness(options);
        harness.Packets.Publish(Signer, A(Www, "192.0.2.7"), Cname($"root.{K}", "."));
        return harness;
    }

    [Fact]
    public void RemoteCrashes_query_names_with_any_label_bytes_are_answered()
    {
        var harness = Published();
        var names = new[]
        {
            DnsName.FromLabels([Ascii("*"), Ascii(K), Ascii("key")]),
            DnsName.FromLabels([Ascii("a-"), Ascii(K)]),
            DnsName.FromLabels([Ascii("_x_"), Ascii(K)]),
            DnsName.FromLabels([[0x00, 0xFF, (byte)'.', (byte)' '], Ascii(K)]),
            DnsName.FromLabels([[0x00, 0xFF], Ascii("example"), Ascii("com")]),
        };
        foreach (var name in names)
        {
            byte[] query = new DnsMessage { Id = 5, Flags = Rd, Questions = [new DnsQuestion(name, RecordType.A, DnsClass.IN)] }.Encode();
            var answer = harness.Ask(query);
            Assert.Equal(5, answer.Id);
            Assert.Equal(name, Assert.Single(answer.Questions).Name);
            Assert.NotEqual(2, Rcode(answer));
        }
    }

    [Fact]
    public void RemoteCrashes_cname_to_the_root_is_answered_and_not_followed()
    {
        var harness = Published();
        var answer = harness.Ask($"root.{K}", RecordType.A);
        Assert.Equal(0, Rcode(answer));
        Assert.Equal([$"root.{K}. 300 IN CNAME ."], Lines(answer.Answers));
        Assert.Empty(harness.Forwarder.Calls);
        Assert.Single(harness.Packets.Calls);
    }

    [Fact]
    public void UdpSize_an_oversized_forwarded_answer_sets_tc_instead_of_being_cut()
    {
        var harness = new QueryHarness();
        var records = Enumerable.Range(0, 60).Select(i => A($"host{i}.example.com", $"192.0.2.{i}")).ToArray();
        harness.Forwarder.Answer = q => FakeForwarder.Answered(q, 0, records);
        byte[]? udp = harness.Raw(QueryBytes("example.com", RecordType.A, edns: 1232));
        Assert.NotNull(udp);
        Assert.True(udp.Length <= 1232);
        Assert.True(DnsMessage.TryParse(udp, out var truncated, out _));
        Assert.True(Flag(truncated, HeaderFlags.Tc));
        Assert.Single(truncated.Questions);

        // Over TCP the whole answer arrives.
        var whole = harness.Ask(QueryBytes("example.com", RecordType.A, edns: 1232), DnsTransport.Tcp);
        Assert.False(Flag(whole, HeaderFlags.Tc));
        Assert.Equal(60, whole.Answers.Count);
    }

    [Fact]
    public void UdpSize_forwarded_answers_are_rebuilt_compressed()
    {
        var harness = new QueryHarness();
        var records = Enumerable.Range(0, 30).Select(i => A("a-rather-long-label.for-compression.example.com", $"192.0.2.{i}")).ToArray();
        harness.Forwarder.Answer = q => FakeForwarder.Answered(q, 0, records);
        byte[] query = QueryBytes("a-rather-long-label.for-compression.example.com", RecordType.A, edns: 1232);
        byte[]? response = harness.Raw(query);
        Assert.NotNull(response);
        var message = DnsMessage.Parse(response);
        Assert.False(Flag(message, HeaderFlags.Tc));
        Assert.Equal(30, message.Answers.Count);
        Assert.True(response.Length < message.Encode(compress: false).Length / 2);
    }

    [Fact]
    public void UdpSize_every_reply_to_an_edns_query_carries_opt()
    {
        var harness = Published();
        harness.Packets.Set(Other.PublicKey, PacketLookup.Failed);
        foreach (string name in new[] { Www, $"nothing.{K}", K2, $"x.{NonCanonical(K)}", "example.com" })
        {
            var answer = harness.Ask(QueryBytes(name, RecordType.A, edns: 1232));
            Assert.Single(answer.Additionals, r => r.Type == RecordType.OPT);
        }
    }

    [Fact]
    public void Freshness_a_failed_lookup_is_servfail_never_nxdomain()
    {
        var harness = new QueryHarness();
        harness.Packets.Set(Signer.PublicKey, PacketLookup.Failed);
        Assert.Equal(2, Rcode(harness.Ask(Www, RecordType.A)));
        harness.Packets.Set(Signer.PublicKey, PacketLookup.NotFound);
        Assert.Equal(3, Rcode(harness.Ask(Www, RecordType.A)));
    }

    [Fact]
    public void Freshness_answer_ttls_are_decremented_by_the_packet_age_and_clamped()
    {
        var harness = new QueryHarness();
        var zone = PacketZone.Create(Raw(Signer, [A(Www, "192.0.2.7"), Record($"short.{K}", new AData(IPAddress.Loopback), ttl: 70)]));
        harness.Packets.Set(Signer.PublicKey, new PacketLookup(PacketStatus.Found, zone, 100));
        Assert.Equal(200u, Assert.Single(harness.Ask(Www, RecordType.A).Answers).Ttl);
        Assert.Equal(60u, Assert.Single(harness.Ask($"short.{K}", RecordType.A).Answers).Ttl);
    }

    [Fact]
    public void ReplyFormat_refused_servfail_and_nxdomain_with_rd0_echo_question_opcode_and_ra()
    {
        var harness = Published();
        harness.Packets.Set(Other.PublicKey, PacketLookup.Failed);
        foreach (var (name, rcode) in new[] { ($"x.{NonCanonical(K)}", 3), (K2, 2), ($"nothing.{K}", 3), (Www, 5) })
        {
            var @class = rcode == 5 ? DnsClass.CH : DnsClass.IN;
            var answer = harness.Ask(QueryBytes(name, RecordType.A, flags: 0, id: 4321, @class: @class));
            Assert.Equal(rcode, Rcode(answer));
            Assert.Equal(4321, answer.Id);
            Assert.Equal(Name(name), Assert.Single(answer.Questions).Name);
            Assert.True(Flag(answer, HeaderFlags.Ra));
            Assert.False(Flag(answer, HeaderFlags.Rd));
        }
    }

    [Fact]
    public void ReplyFormat_negative_answers_carry_an_soa()
    {
        var harness = Published();
        var nxdomain = harness.Ask($"nothing.{K}", RecordType.A);
        Assert.Equal(3, Rcode(nxdomain));
        Assert.Equal(RecordType.SOA, Assert.Single(nxdomain.Authorities).Type);
        var nodata = harness.Ask(Www, RecordType.TXT);
        Assert.Equal(0, Rcode(nodata));
        Assert.Equal(RecordType.SOA, Assert.Single(nodata.Authorities).Type);
    }

    [Fact]
    public void ReplyFormat_authority_is_kept_through_recursion()
    {
        var harness = new QueryHarness();
        harness.Packets.Publish(Signer, Cname(Www, $"gone.{K2}"));
        harness.Packets.Publish(Other, A(K2, "192.0.2.8"));
        var answer = harness.Ask(Www, RecordType.A);
        Assert.Equal(3, Rcode(answer));
        Assert.Single(answer.Answers);
        var soa = Assert.Single(answer.Authorities);
        Assert.Equal(RecordType.SOA, soa.Type);
        Assert.Equal(Name(K2), soa.Name);
    }

    [Fact]
    public void ReplyFormat_non_query_opcodes_are_not_answered_as_queries()
    {
        var harness = Published();
        var answer = harness.Ask(QueryBytes(Www, RecordType.A, flags: Rd | (5 << 11)));
        Assert.Equal(4, Rcode(answer));
        Assert.Equal(5, (answer.Flags >> 11) & 0xF);
        Assert.Empty(answer.Answers);
    }

    [Fact]
    public void ReplyFormat_root_queries_are_answered()
    {
        var harness = Published();
        var answer = harness.Ask(".", RecordType.NS);
        Assert.True(Assert.Single(answer.Questions).Name.IsRoot);
        Assert.Equal(0, Rcode(answer));
        Assert.Single(harness.Forwarder.Calls);
    }

    [Fact]
    public void ReplyFormat_pkarr_answers_set_aa_and_echo_rd()
    {
        var harness = Published();
        var answer = harness.Ask(Www, RecordType.A);
        Assert.True(Flag(answer, HeaderFlags.Aa));
        Assert.True(Flag(answer, HeaderFlags.Rd));
    }

    [Fact]
    public void Names_an_upper_case_key_is_matched_not_forwarded()
    {
        var harness = Published();
        var answer = harness.Ask($"WWW.{K.ToUpperInvariant()}", RecordType.A);
        Assert.Equal(0, Rcode(answer));
        Assert.Single(answer.Answers);
        Assert.Empty(harness.Forwarder.Calls);
    }

    [Fact]
    public void Names_the_tld_is_compared_ignoring_case_and_readded_to_cname_targets()
    {
        var harness = new QueryHarness();
        harness.Packets.Publish(Signer, Cname(Www, $"api.{K2}"));
        harness.Packets.Publish(Other, A($"api.{K2}", "192.0.2.9"));
        var answer = harness.Ask($"www.{K}.KEY", RecordType.A);
        Assert.Equal(0, Rcode(answer));
        Assert.Equal([$"www.{K}.KEY. 300 IN CNAME api.{K2}.KEY.", $"api.{K2}.KEY. 300 IN A 192.0.2.9"], Lines(answer.Answers));
        Assert.Empty(harness.Forwarder.Calls);
    }

    /// <summary>A delegated server's authoritative answer: these records (default: A 192.0.2.80 at the question's name).</summary>
    private static ForwardResult Delegated(DnsQuestion question, params ResourceRecord[] answers)
        => new(ForwardStatus.Answered, new DnsMessage
        {
            Flags = 0x8400,
            Questions = [question],
            Answers = answers.Length > 0 ? answers : [new ResourceRecord(question.Name, DnsClass.IN, 300, new AData(IPAddress.Parse("192.0.2.80")))],
        });

    [Fact]
    public void Names_ns_without_glue_is_followed()
    {
        var harness = new QueryHarness();
        harness.Packets.Publish(Signer, Record($"sub.{K}", new NsData(Name("ns.example.com"))));
        harness.Forwarder.Answer = q => q.Type == RecordType.A ? FakeForwarder.Answered(q, 0, A("ns.example.com", "192.0.2.55")) : FakeForwarder.Answered(q, 0);
        harness.Forwarder.Server = (server, q) => Delegated(q);

        var answer = harness.Ask($"host.sub.{K}", RecordType.A);

        Assert.Equal(0, Rcode(answer));
        Assert.Equal([$"host.sub.{K}. 300 IN A 192.0.2.80"], Lines(answer.Answers));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.55"), 53), Assert.Single(harness.Forwarder.Asks).Server);
    }

    [Fact]
    public void Names_only_in_zone_glue_is_used()
    {
        var harness = new QueryHarness();
        harness.Packets.Publish(
            Signer,
            Record($"sub.{K}", new NsData(Name($"ns.sub.{K}"))),
            A($"ns.sub.{K}", "192.0.2.53"),
            Record(Www, new AaaaData(IPAddress.Parse("2001:db8::1"))),
            Record($"other.sub.{K}", new AaaaData(IPAddress.Parse("2001:db8::2"))));

        // No server answers: every address tried is one of the NS target's glue, never another AAAA of the packet.
        var failed = harness.Ask($"host.sub.{K}", RecordType.A);
        Assert.Equal(2, Rcode(failed));
        Assert.Equal([IPAddress.Parse("192.0.2.53")], harness.Forwarder.Asks.Select(a => a.Server.Address));

        var referral = harness.Ask($"host.sub.{K}", RecordType.A, flags: 0);
        Assert.Equal([$"ns.sub.{K}. 300 IN A 192.0.2.53"], Lines(referral.Additionals));
    }

    [Fact]
    public void Names_delegation_under_the_key_tld_is_followed()
    {
        var harness = new QueryHarness();
        harness.Packets.Publish(Signer, Record($"sub.{K}", new NsData(Name($"ns.sub.{K}"))), A($"ns.sub.{K}", "192.0.2.53"));
        harness.Forwarder.Server = (server, q) => server.Address.Equals(IPAddress.Parse("192.0.2.53"))
            ? Delegated(q, Cname($"host.sub.{K}", $"www.sub.{K}"), A($"www.sub.{K}", "192.0.2.80"))
            : ForwardResult.Timeout;

        var answer = harness.Ask($"host.sub.{K}.key", RecordType.A);

        Assert.Equal(0, Rcode(answer));
        Assert.Equal([$"host.sub.{K}.key. 300 IN CNAME www.sub.{K}.key.", $"www.sub.{K}.key. 300 IN A 192.0.2.80"], Lines(answer.Answers));
        Assert.Equal(Name($"host.sub.{K}.key"), Assert.Single(answer.Questions).Name);

        // The delegated server serves sub.<key>: it is asked the name without our TLD.
        Assert.Equal(Name($"host.sub.{K}"), Assert.Single(harness.Forwarder.Asks).Question.Name);
        Assert.Empty(harness.Forwarder.Calls);
    }

    [Fact]
    public void Limits_disabled_any_applies_to_doh_too()
    {
        var harness = Published(new QueryHandlerOptions { AnyQueries = AnyQueryMode.Refused });
        Assert.Equal(5, Rcode(harness.Ask(Www, (RecordType)255, transport: DnsTransport.Https)));
        Assert.Empty(harness.Packets.Calls);
    }

    [Fact]
    public void Limits_max_recursion_depth_zero_still_answers()
    {
        var harness = Published(new QueryHandlerOptions { MaxRecursionDepth = 0 });
        harness.Packets.Publish(Signer, A(Www, "192.0.2.7"), Cname($"go.{K}", $"api.{K2}"));
        Assert.Equal(0, Rcode(harness.Ask(Www, RecordType.A)));
        var chain = harness.Ask($"go.{K}", RecordType.A);
        Assert.Equal(0, Rcode(chain));
        Assert.Equal([$"go.{K}. 300 IN CNAME api.{K2}."], Lines(chain.Answers));
    }

    [Fact]
    public void Limits_v4_mapped_clients_of_a_dual_stack_socket_do_not_share_one_bucket()
    {
        var time = new FakeTimeProvider();
        using var limits = new DnsRateLimits(1, 1, 0, 0, time);
        var harness = new QueryHarness(limits: limits, time: time);
        harness.Packets.Publish(Signer, A(Www, "192.0.2.7"));
        int Ask(string client)
        {
            byte[]? bytes = harness.Handler.HandleAsync(QueryBytes(Www, RecordType.A), new QueryContext(IPAddress.Parse(client), DnsTransport.Udp), CancellationToken.None)
                .AsTask().GetAwaiter().GetResult();
            return Rcode(DnsMessage.Parse(bytes));
        }

        Assert.Equal(0, Ask("::ffff:192.0.2.1"));
        Assert.Equal(0, Ask("::ffff:192.0.2.2"));
        Assert.Equal(5, Ask("192.0.2.1"));
    }
}
