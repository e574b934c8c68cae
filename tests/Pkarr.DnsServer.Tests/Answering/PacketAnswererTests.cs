using System.Net;
using Pkarr.Dns;
using Pkarr.DnsServer.Answering;
using Pkarr.Packets;
using static Pkarr.DnsServer.Tests.Answering.Fixtures;

namespace Pkarr.DnsServer.Tests.Answering;

public sealed class PacketAnswererTests
{
    private const ulong Micros = 1_700_000_000_123_456;

    private static readonly SignedPacket Packet = SignedPacket.Builder()
        .A("@", IPAddress.Parse("1.1.1.1"), 300)
        .A("www", IPAddress.Parse("2.2.2.2"), 120)
        .Aaaa("www", IPAddress.Parse("::2"), 120)
        .Txt("WWW", "hello", 120)
        .Cname("alias", $"www.{K}")
        .Cname("chain1", $"chain2.{K}")
        .Cname("chain2", $"alias.{K}")
        .Cname("loop1", $"loop2.{K}")
        .Cname("loop2", $"LOOP1.{K}")
        .Cname("ext", "example.com")
        .Cname("cross", $"www.{K2}")
        .Cname("root", ".")
        .Cname("dangling", $"missing.{K}")
        .A("a.b.c", IPAddress.Parse("9.9.9.9"))
        .A("*.wild", IPAddress.Parse("3.3.3.3"))
        .A("exact.wild", IPAddress.Parse("4.4.4.4"))
        .Cname("*.wc", $"www.{K}")
        .Ns("sub", $"ns.sub.{K}")
        .Ns("sub", $"ns.other.{K}")
        .A("ns.sub", IPAddress.Parse("5.5.5.5"))
        .A("ns.other", IPAddress.Parse("6.6.6.6"))
        .A("host.sub", IPAddress.Parse("7.7.7.7"))
        .Ns("nog", "ns.example.org")
        .Mx("mx", 10, $"mail.{K}")
        .Https("svc", SvcbData.Https(1, Name($"h.{K}")).WithAlpn("h2"))
        .Timestamp(new Timestamp(Micros))
        .Sign(Signer);

    private static string Soa(string suffix = "")
        => $"{K}{suffix}. 60 IN SOA ns.{K}{suffix}. hostmaster.{K}{suffix}. 1700000000 3600 600 86400 60";

    [Fact]
    public void Exact_match_answers_the_type_only_with_aa()
    {
        var result = Ask(Packet, $"www.{K}", RecordType.A);
        Assert.Equal(ResponseCode.NoError, result.ResponseCode);
        Assert.True(result.Authoritative);
        Assert.False(result.IsReferral);
        Assert.Equal([$"www.{K}. 120 IN A 2.2.2.2"], Lines(result.Answers));
        Assert.Empty(result.Authorities);
        Assert.Empty(result.Additionals);
        Assert.Null(result.ExternalTarget);
    }

    [Fact]
    public void Owner_and_key_match_ignoring_case_and_the_answer_echoes_the_query_spelling()
    {
        string upperKey = K.ToUpperInvariant();
        var result = Ask(Packet, $"wWw.{upperKey}", RecordType.TXT);
        Assert.Equal([$"wWw.{upperKey}. 120 IN TXT \"hello\""], Lines(result.Answers));
        Assert.Equal([$"{upperKey}. 300 IN A 1.1.1.1"], Lines(Ask(Packet, upperKey, RecordType.A).Answers));
        Assert.Equal([$"www.{K}. 120 IN TXT \"hello\""], Lines(Ask(Packet, $"www.{K}", RecordType.TXT).Answers));
    }

    [Fact]
    public void Nodata_and_nxdomain_carry_the_zone_soa()
    {
        var nodata = Ask(Packet, $"www.{K}", RecordType.MX);
        Assert.Equal(ResponseCode.NoError, nodata.ResponseCode);
        Assert.True(nodata.Authoritative);
        Assert.Empty(nodata.Answers);
        Assert.Equal([Soa()], Lines(nodata.Authorities));

        var nx = Ask(Packet, $"nope.{K}", RecordType.A);
        Assert.Equal(ResponseCode.NameError, nx.ResponseCode);
        Assert.True(nx.Authoritative);
        Assert.Empty(nx.Answers);
        Assert.Equal([Soa()], Lines(nx.Authorities));

        var soa = Assert.IsType<SoaData>(nx.Authorities[0].Data);
        Assert.Equal((uint)(Micros / 1_000_000), soa.Serial);
        var tuned = Ask(Packet, $"nope.{K}", RecordType.A, new AnsweringOptions { NegativeTtl = 5 });
        Assert.Equal(5u, tuned.Authorities[0].Ttl);
        Assert.Equal(5u, ((SoaData)tuned.Authorities[0].Data).Minimum);
    }

    [Fact]
    public void Empty_non_terminals_are_nodata_not_nxdomain()
    {
        foreach (string name in new[] { "b.c", "c", "B.C" })
        {
            var result = Ask(Packet, $"{name}.{K}", RecordType.A);
            Assert.Equal(ResponseCode.NoError, result.ResponseCode);
            Assert.Empty(result.Answers);
            Assert.Equal([Soa()], Lines(result.Authorities));
        }

        Assert.Equal(ResponseCode.NameError, Ask(Packet, $"x.b.c.{K}", RecordType.A).ResponseCode);
        Assert.Equal(ResponseCode.NameError, Ask(Packet, $"d.{K}", RecordType.A).ResponseCode);
        Assert.Equal([$"a.b.c.{K}. 300 IN A 9.9.9.9"], Lines(Ask(Packet, $"a.b.c.{K}", RecordType.A).Answers));
    }

    [Fact]
    public void Apex_answers_its_records_and_a_synthesized_soa()
    {
        Assert.Equal([$"{K}. 300 IN A 1.1.1.1"], Lines(Ask(Packet, K, RecordType.A).Answers));
        var txt = Ask(Packet, K, RecordType.TXT);
        Assert.Equal(ResponseCode.NoError, txt.ResponseCode);
        Assert.Empty(txt.Answers);
        Assert.Equal([Soa()], Lines(txt.Authorities));
        var soa = Ask(Packet, K, RecordType.SOA);
        Assert.Equal([Soa()], Lines(soa.Answers));
        Assert.Empty(soa.Authorities);
    }

    [Fact]
    public void Cname_is_followed_inside_the_packet()
    {
        var result = Ask(Packet, $"chain1.{K}", RecordType.A);
        Assert.Equal(ResponseCode.NoError, result.ResponseCode);
        Assert.Equal(
            [
                $"chain1.{K}. 300 IN CNAME chain2.{K}.",
                $"chain2.{K}. 300 IN CNAME alias.{K}.",
                $"alias.{K}. 300 IN CNAME www.{K}.",
                $"www.{K}. 120 IN A 2.2.2.2",
            ],
            Lines(result.Answers));
        Assert.Null(result.ExternalTarget);

        // Asking for the CNAME itself does not follow it.
        Assert.Equal([$"alias.{K}. 300 IN CNAME www.{K}."], Lines(Ask(Packet, $"alias.{K}", RecordType.CNAME).Answers));

        // The chain ends at a name without the type: NODATA with the CNAMEs.
        var nodata = Ask(Packet, $"alias.{K}", RecordType.MX);
        Assert.Equal([$"alias.{K}. 300 IN CNAME www.{K}."], Lines(nodata.Answers));
        Assert.Equal([Soa()], Lines(nodata.Authorities));

        // A target that does not exist: NXDOMAIN (RFC 6604: the code is the last name's) with the CNAME.
        var dangling = Ask(Packet, $"dangling.{K}", RecordType.A);
        Assert.Equal(ResponseCode.NameError, dangling.ResponseCode);
        Assert.Equal([$"dangling.{K}. 300 IN CNAME missing.{K}."], Lines(dangling.Answers));
    }

    [Fact]
    public void Chain_depth_is_limited()
    {
        Assert.Equal(ResponseCode.ServerFailure, Ask(Packet, $"chain1.{K}", RecordType.A, new AnsweringOptions { MaxCnameChain = 3 }).ResponseCode);
        Assert.Equal(4, Ask(Packet, $"chain1.{K}", RecordType.A, new AnsweringOptions { MaxCnameChain = 4 }).Answers.Count);
    }

    [Fact]
    public void Cname_loops_end_in_servfail()
    {
        var loop = Ask(Packet, $"loop1.{K}", RecordType.A);
        Assert.Equal(ResponseCode.ServerFailure, loop.ResponseCode);
        Assert.Empty(loop.Answers);

        var self = SignedPacket.Builder().Cname("self", $"SELF.{K}").Sign(Signer);
        Assert.Equal(ResponseCode.ServerFailure, Ask(self, $"self.{K}", RecordType.A).ResponseCode);
    }

    [Fact]
    public void Targets_outside_the_packet_are_reported()
    {
        var ext = Ask(Packet, $"ext.{K}", RecordType.A);
        Assert.Equal(ResponseCode.NoError, ext.ResponseCode);
        Assert.Equal([$"ext.{K}. 300 IN CNAME example.com."], Lines(ext.Answers));
        Assert.Equal(Name("example.com"), ext.ExternalTarget);

        var cross = Ask(Packet, $"cross.{K}", RecordType.A);
        Assert.Equal([$"cross.{K}. 300 IN CNAME www.{K2}."], Lines(cross.Answers));
        Assert.Equal(Name($"www.{K2}"), cross.ExternalTarget);
    }

    [Fact]
    public void A_chain_inside_the_packet_can_lead_out_of_it()
    {
        var packet = SignedPacket.Builder().Cname("a", $"B.{K}").Cname("b", "example.org").A("example.org", IPAddress.Loopback).Sign(Signer);
        var zone = PacketZone.Create(packet);
        var answerer = new PacketAnswerer(new AnsweringOptions());
        var result = answerer.Answer(zone, Matcher().Match(Name($"a.{K}")), RecordType.A, DnsClass.IN);
        Assert.Equal([$"a.{K}. 300 IN CNAME B.{K}.", $"B.{K}. 300 IN CNAME example.org."], Lines(result.Answers));
        Assert.Equal(Name("example.org"), result.ExternalTarget);

        // The zone is reusable; the record named example.org.<key> is not the ICANN name example.org.
        var again = answerer.Answer(zone, Matcher().Match(Name($"example.org.{K}")), RecordType.A, DnsClass.IN);
        Assert.Equal([$"example.org.{K}. 300 IN A 127.0.0.1"], Lines(again.Answers));
        Assert.Null(again.ExternalTarget);
    }

    [Fact]
    public void Cname_to_the_root_is_answered_and_not_followed()
    {
        var result = Ask(Packet, $"root.{K}", RecordType.A);
        Assert.Equal(ResponseCode.NoError, result.ResponseCode);
        Assert.Equal([$"root.{K}. 300 IN CNAME ."], Lines(result.Answers));
        Assert.Null(result.ExternalTarget);
        Assert.Null(Ask(Packet, $"root.{K}.key", RecordType.A).ExternalTarget);
    }

    [Fact]
    public void Wildcards_synthesize_only_where_no_name_exists()
    {
        Assert.Equal([$"foo.wild.{K}. 300 IN A 3.3.3.3"], Lines(Ask(Packet, $"foo.wild.{K}", RecordType.A).Answers));
        Assert.Equal([$"x.y.wild.{K}. 300 IN A 3.3.3.3"], Lines(Ask(Packet, $"x.y.wild.{K}", RecordType.A).Answers));
        Assert.Equal([$"exact.wild.{K}. 300 IN A 4.4.4.4"], Lines(Ask(Packet, $"exact.wild.{K}", RecordType.A).Answers));

        var literal = Ask(Packet, $"*.wild.{K}", RecordType.A);
        Assert.Equal([$"*.wild.{K}. 300 IN A 3.3.3.3"], Lines(literal.Answers));

        var nodata = Ask(Packet, $"foo.wild.{K}", RecordType.TXT);
        Assert.Equal(ResponseCode.NoError, nodata.ResponseCode);
        Assert.Empty(nodata.Answers);
        Assert.Equal([Soa()], Lines(nodata.Authorities));

        // The wildcard does not cover the exact name's other types, nor the parent, nor other branches.
        Assert.Empty(Ask(Packet, $"exact.wild.{K}", RecordType.TXT).Answers);
        Assert.Equal(ResponseCode.NoError, Ask(Packet, $"wild.{K}", RecordType.A).ResponseCode);
        Assert.Empty(Ask(Packet, $"wild.{K}", RecordType.A).Answers);
        Assert.Equal(ResponseCode.NameError, Ask(Packet, $"foo.tame.{K}", RecordType.A).ResponseCode);
        Assert.Equal(ResponseCode.NameError, Ask(Packet, $"*.tame.{K}", RecordType.A).ResponseCode);

        var viaCname = Ask(Packet, $"Foo.wc.{K}", RecordType.A);
        Assert.Equal([$"Foo.wc.{K}. 300 IN CNAME www.{K}.", $"www.{K}. 120 IN A 2.2.2.2"], Lines(viaCname.Answers));
    }

    [Fact]
    public void Delegations_refer_with_glue_from_inside_the_delegated_zone_only()
    {
        foreach (string name in new[] { "sub", "host.sub", "deep.host.sub", "SUB" })
        {
            var result = Ask(Packet, $"{name}.{K}", RecordType.A);
            Assert.Equal(ResponseCode.NoError, result.ResponseCode);
            Assert.True(result.IsReferral);
            Assert.False(result.Authoritative);
            Assert.Empty(result.Answers);
            Assert.Equal([$"sub.{K}. 300 IN NS ns.sub.{K}.", $"sub.{K}. 300 IN NS ns.other.{K}."], Lines(result.Authorities));
            Assert.Equal([$"ns.sub.{K}. 300 IN A 5.5.5.5"], Lines(result.Additionals));
        }

        var noGlue = Ask(Packet, $"www.nog.{K}", RecordType.AAAA);
        Assert.True(noGlue.IsReferral);
        Assert.Equal([$"nog.{K}. 300 IN NS ns.example.org."], Lines(noGlue.Authorities));
        Assert.Empty(noGlue.Additionals);

        // Above the cut the zone answers itself; a sibling of the cut is not delegated.
        Assert.False(Ask(Packet, $"ns.other.{K}", RecordType.A).IsReferral);
    }

    [Fact]
    public void Ds_at_a_cut_belongs_to_the_parent_and_apex_ns_is_data()
    {
        var ds = Ask(Packet, $"sub.{K}", (RecordType)43);
        Assert.False(ds.IsReferral);
        Assert.True(ds.Authoritative);
        Assert.Empty(ds.Answers);
        Assert.Equal([Soa()], Lines(ds.Authorities));
        Assert.True(Ask(Packet, $"host.sub.{K}", (RecordType)43).IsReferral);

        var apex = SignedPacket.Builder().Ns("@", "ns.example.org").Sign(Signer);
        var ns = Ask(apex, K, RecordType.NS);
        Assert.False(ns.IsReferral);
        Assert.True(ns.Authoritative);
        Assert.Equal([$"{K}. 300 IN NS ns.example.org."], Lines(ns.Answers));
    }

    [Fact]
    public void Referral_after_a_cname_keeps_the_chain_and_aa()
    {
        var packet = SignedPacket.Builder().Cname("go", $"x.sub.{K}").Ns("sub", "ns.example.org").Sign(Signer);
        var result = Ask(packet, $"go.{K}", RecordType.A);
        Assert.True(result.IsReferral);
        Assert.True(result.Authoritative);
        Assert.Equal([$"go.{K}. 300 IN CNAME x.sub.{K}."], Lines(result.Answers));
        Assert.Equal([$"sub.{K}. 300 IN NS ns.example.org."], Lines(result.Authorities));
    }

    [Fact]
    public void Suffix_is_re_added_to_every_name_that_ends_with_a_key()
    {
        foreach (string suffix in new[] { ".key", ".example.net", ".isp.network", ".KEY" })
        {
            var chain = Ask(Packet, $"alias.{K}{suffix}", RecordType.A);
            Assert.Equal([$"alias.{K}{suffix}. 300 IN CNAME www.{K}{suffix}.", $"www.{K}{suffix}. 120 IN A 2.2.2.2"], Lines(chain.Answers));

            var referral = Ask(Packet, $"sub.{K}{suffix}", RecordType.A);
            Assert.Equal([$"sub.{K}{suffix}. 300 IN NS ns.sub.{K}{suffix}.", $"sub.{K}{suffix}. 300 IN NS ns.other.{K}{suffix}."], Lines(referral.Authorities));
            Assert.Equal([$"ns.sub.{K}{suffix}. 300 IN A 5.5.5.5"], Lines(referral.Additionals));

            Assert.Equal([$"mx.{K}{suffix}. 300 IN MX 10 mail.{K}{suffix}."], Lines(Ask(Packet, $"mx.{K}{suffix}", RecordType.MX).Answers));
            var https = Assert.Single(Ask(Packet, $"svc.{K}{suffix}", RecordType.HTTPS).Answers);
            Assert.Equal(SvcbData.Https(1, Name($"h.{K}{suffix}")).WithAlpn("h2"), https.Data);
            Assert.Equal($"svc.{K}{suffix}. 300 IN HTTPS 1 h.{K}{suffix}. alpn=\"h2\"", https.ToString());

            var cross = Ask(Packet, $"cross.{K}{suffix}", RecordType.A);
            Assert.Equal([$"cross.{K}{suffix}. 300 IN CNAME www.{K2}{suffix}."], Lines(cross.Answers));
            Assert.Equal(Name($"www.{K2}{suffix}"), cross.ExternalTarget);

            // ICANN names are left alone.
            var ext = Ask(Packet, $"ext.{K}{suffix}", RecordType.A);
            Assert.Equal([$"ext.{K}{suffix}. 300 IN CNAME example.com."], Lines(ext.Answers));
            Assert.Equal(Name("example.com"), ext.ExternalTarget);
            Assert.Equal([$"nog.{K}{suffix}. 300 IN NS ns.example.org."], Lines(Ask(Packet, $"nog.{K}{suffix}", RecordType.A).Authorities));

            Assert.Equal([Soa(suffix)], Lines(Ask(Packet, $"nope.{K}{suffix}", RecordType.A).Authorities));
        }
    }

    [Fact]
    public void Without_a_suffix_names_are_as_in_the_packet()
    {
        var result = Ask(Packet, $"mx.{K}", RecordType.MX);
        Assert.Equal([$"mx.{K}. 300 IN MX 10 mail.{K}."], Lines(result.Answers));
        Assert.Same(Packet.AllResourceRecords.First(r => r.Type == RecordType.MX).Data, result.Answers[0].Data);
    }

    [Fact]
    public void Any_is_answered_with_one_rrset_or_hinfo()
    {
        var any = Ask(Packet, $"www.{K}", (RecordType)255);
        Assert.Equal([$"www.{K}. 120 IN A 2.2.2.2"], Lines(any.Answers));
        Assert.True(any.Authoritative);

        var hinfo = Ask(Packet, $"www.{K}", (RecordType)255, new AnsweringOptions { AnyAsHinfo = true });
        var record = Assert.Single(hinfo.Answers);
        Assert.Equal((RecordType)13, record.Type);
        Assert.Equal(new byte[] { 7, (byte)'R', (byte)'F', (byte)'C', (byte)'8', (byte)'4', (byte)'8', (byte)'2', 0 }, record.Data.ToWire());

        Assert.Equal(ResponseCode.NameError, Ask(Packet, $"nope.{K}", (RecordType)255).ResponseCode);
        Assert.Empty(Ask(Packet, $"b.c.{K}", (RecordType)255).Answers);
    }

    [Fact]
    public void Ttls_are_aged_and_clamped()
    {
        var options = new AnsweringOptions { MinimumTtl = 200, MaximumTtl = 250 };
        Assert.Equal(200u, Ask(Packet, $"www.{K}", RecordType.A, options).Answers[0].Ttl);
        Assert.Equal(250u, Ask(Packet, K, RecordType.A, options).Answers[0].Ttl);
        Assert.Equal(200u, Ask(Packet, K, RecordType.A, age: 100).Answers[0].Ttl);
        Assert.Equal(60u, Ask(Packet, K, RecordType.A, age: 1000).Answers[0].Ttl);
        Assert.Throws<ArgumentException>(() => new PacketAnswerer(new AnsweringOptions { MinimumTtl = 10, MaximumTtl = 5 }));
        Assert.Throws<ArgumentException>(() => new PacketAnswerer(new AnsweringOptions { MaxCnameChain = 0 }));
    }

    [Fact]
    public void Classes_and_meta_types()
    {
        Assert.Equal([$"www.{K}. 120 IN A 2.2.2.2"], Lines(Ask(Packet, $"www.{K}", RecordType.A, @class: DnsClass.ANY).Answers));
        var chaos = Ask(Packet, $"www.{K}", RecordType.A, @class: DnsClass.CH);
        Assert.Equal(ResponseCode.Refused, chaos.ResponseCode);
        Assert.Empty(chaos.Answers);
        Assert.Equal(ResponseCode.Refused, Ask(Packet, K, (RecordType)252).ResponseCode);
        Assert.Equal(ResponseCode.Refused, Ask(Packet, K, (RecordType)251).ResponseCode);
        Assert.Equal(ResponseCode.NotImplemented, Ask(Packet, K, RecordType.OPT).ResponseCode);
        Assert.Equal(ResponseCode.NotImplemented, Ask(Packet, K, (RecordType)250).ResponseCode);
        // An unknown data type is an ordinary question.
        Assert.Equal(ResponseCode.NoError, Ask(Packet, K, (RecordType)65280).ResponseCode);
    }

    [Fact]
    public void Records_outside_the_key_or_class_in_are_not_served()
    {
        var packet = Raw(Signer,
        [
            new ResourceRecord(Name("www.example.com"), DnsClass.IN, 300, new AData(IPAddress.Parse("8.8.8.8"))),
            new ResourceRecord(Name($"chaos.{K}"), DnsClass.CH, 300, new AData(IPAddress.Parse("8.8.4.4"))),
            new ResourceRecord(Name($"odd.{K.ToUpperInvariant()}"), DnsClass.IN, 300, new AData(IPAddress.Parse("1.2.3.4"))),
        ]);
        Assert.Equal(ResponseCode.NameError, Ask(packet, $"chaos.{K}", RecordType.A).ResponseCode);
        Assert.Equal([$"odd.{K}. 300 IN A 1.2.3.4"], Lines(Ask(packet, $"odd.{K}", RecordType.A).Answers));
        Assert.Equal(ResponseCode.NameError, Ask(packet, $"www.example.com.{K}", RecordType.A).ResponseCode);
    }

    [Fact]
    public void Odd_owner_labels_are_matched_as_bytes()
    {
        byte[] odd = [0x00, 0xff, (byte)'.', (byte)'Q'];
        var owner = DnsName.FromLabels([odd, Ascii(K)]);
        var packet = Raw(Signer, [new ResourceRecord(owner, DnsClass.IN, 300, new AData(IPAddress.Parse("1.2.3.4")))]);
        var query = DnsName.FromLabels([[0x00, 0xff, (byte)'.', (byte)'q'], Ascii(K)]);
        var match = Matcher().Match(query);
        var result = new PacketAnswerer(new AnsweringOptions()).Answer(packet, match, RecordType.A, DnsClass.IN);
        var answer = Assert.Single(result.Answers);
        Assert.Equal(query, answer.Name);

        var other = Matcher().Match(DnsName.FromLabels([[0x00, 0xfe, (byte)'.', (byte)'q'], Ascii(K)]));
        Assert.Equal(ResponseCode.NameError, new PacketAnswerer(new AnsweringOptions()).Answer(packet, other, RecordType.A, DnsClass.IN).ResponseCode);
    }

    [Fact]
    public void Work_is_bounded()
    {
        var result = Ask(Packet, $"chain1.{K}", RecordType.A, new AnsweringOptions { MaxRecordsScanned = Packet.AllResourceRecords.Count * 3 });
        Assert.Equal(ResponseCode.ServerFailure, result.ResponseCode);
        Assert.Equal(ResponseCode.NoError, Ask(Packet, $"chain1.{K}", RecordType.A).ResponseCode);
    }

    [Fact]
    public void A_name_of_another_key_is_a_caller_error()
    {
        var match = Matcher().Match(Name($"www.{K2}"));
        Assert.Throws<ArgumentException>(() => new PacketAnswerer(new AnsweringOptions()).Answer(Packet, match, RecordType.A, DnsClass.IN));
        Assert.Throws<ArgumentException>(() => new PacketAnswerer(new AnsweringOptions()).Answer(Packet, Matcher().Match(Name("example.com")), RecordType.A, DnsClass.IN));
    }
}
