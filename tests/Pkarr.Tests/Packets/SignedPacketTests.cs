using System.Text.Json;
using Pkarr.Dns;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Tests.Packets;

public sealed class SignedPacketTests
{
    public static TheoryData<string> PacketNames()
    {
        var data = new TheoryData<string>();
        foreach (var item in Vectors.Load().RootElement.GetProperty("signed_packets").EnumerateObject())
        {
            data.Add(item.Name);
        }

        return data;
    }

    private static JsonElement Packet(string name) =>
        Vectors.Load().RootElement.GetProperty("signed_packets").GetProperty(name);

    private static byte[] Hex(JsonElement vector, string property) =>
        Convert.FromHexString(vector.GetProperty(property).GetString()!);

    [Theory]
    [MemberData(nameof(PacketNames))]
    public void Building_the_vector_records_gives_the_vector_bytes(string name)
    {
        var vector = Packet(name);
        using var keypair = Keypair.FromSecretKey(Hex(vector, "seed_hex"));
        var builder = VectorRecords.Builder(vector);
        var packet = builder.Sign(keypair);

        Assert.Equal(vector.GetProperty("dns_packet_hex").GetString(), Convert.ToHexStringLower(packet.EncodedPacket.Span));
        Assert.Equal(vector.GetProperty("signature_hex").GetString(), Convert.ToHexStringLower(packet.Signature));
        Assert.Equal(vector.GetProperty("relay_payload_hex").GetString(), Convert.ToHexStringLower(packet.RelayPayload.Span));
        Assert.Equal(vector.GetProperty("signed_packet_hex").GetString(), Convert.ToHexStringLower(packet.Bytes.Span));
        Assert.Equal(
            vector.GetProperty("signable_hex").GetString(),
            Convert.ToHexStringLower(SignedPacket.Signable(packet.Timestamp, packet.EncodedPacket.Span)));
        Assert.Equal(vector.GetProperty("dht_target_sha1_hex").GetString(), Convert.ToHexStringLower(packet.PublicKey.DhtTarget()));
        Assert.Equal(vector.GetProperty("public_key_z32").GetString(), packet.PublicKey.ToString());
    }

    [Theory]
    [MemberData(nameof(PacketNames))]
    public void Decoding_the_vector_bytes_verifies_and_reads_the_records(string name)
    {
        var vector = Packet(name);
        byte[] canonical = Hex(vector, "signed_packet_hex");
        var packet = SignedPacket.FromBytes(canonical);

        Assert.Equal(vector.GetProperty("timestamp").GetUInt64(), packet.Timestamp.Microseconds);
        Assert.Equal(vector.GetProperty("public_key_hex").GetString(), Convert.ToHexStringLower(packet.PublicKey.Bytes));
        Assert.Equal(canonical, packet.Bytes.ToArray());
        Assert.Equal(vector.GetProperty("records").GetArrayLength(), packet.AllResourceRecords.Count);
        Assert.Equal(vector.GetProperty("dns_packet_len").GetInt32(), packet.EncodedPacket.Length);

        // The records read back are the ones the builder made from the vector (names normalised).
        using var keypair = Keypair.FromSecretKey(Hex(vector, "seed_hex"));
        var built = VectorRecords.Builder(vector).Sign(keypair);
        Assert.Equal(built.AllResourceRecords.Select(r => r.ToString()), packet.AllResourceRecords.Select(r => r.ToString()));

        var fromPayload = SignedPacket.FromRelayPayload(packet.PublicKey, Hex(vector, "relay_payload_hex"));
        Assert.True(fromPayload.IsSameAs(packet));
    }

    [Fact]
    public void Uncompressed_and_compressed_encodings_carry_the_same_records()
    {
        var compressed = SignedPacket.FromBytes(Hex(Packet("multi_record_compressed"), "signed_packet_hex"));
        var uncompressed = SignedPacket.FromBytes(Hex(Packet("multi_record_uncompressed"), "signed_packet_hex"));
        Assert.Equal(316, compressed.EncodedPacket.Length);
        Assert.Equal(754, uncompressed.EncodedPacket.Length);
        Assert.Equal(compressed.AllResourceRecords.Select(r => r.ToString()), uncompressed.AllResourceRecords.Select(r => r.ToString()));
        Assert.False(compressed.IsSameAs(uncompressed));
    }

    [Fact]
    public void Tie_break_prefers_the_larger_dns_bytes()
    {
        var rule = Vectors.Load().RootElement.GetProperty("more_recent_than");
        var a = SignedPacket.FromBytes(Hex(Packet(rule.GetProperty("a").GetString()!), "signed_packet_hex"));
        var b = SignedPacket.FromBytes(Hex(Packet(rule.GetProperty("b").GetString()!), "signed_packet_hex"));
        Assert.Equal(rule.GetProperty("b_more_recent_than_a").GetBoolean(), b.MoreRecentThan(a));
        Assert.Equal(rule.GetProperty("a_more_recent_than_b").GetBoolean(), a.MoreRecentThan(b));
        Assert.False(a.MoreRecentThan(SignedPacket.FromBytes(a.Bytes.Span)));
    }

    [Fact]
    public void A_larger_timestamp_wins_regardless_of_bytes()
    {
        using var keypair = Keypair.Random();
        var older = SignedPacket.Builder().Txt("foo", "zzzz").Timestamp(new Timestamp(10)).Sign(keypair);
        var newer = SignedPacket.Builder().Txt("foo", "a").Timestamp(new Timestamp(11)).Sign(keypair);
        Assert.True(newer.MoreRecentThan(older));
        Assert.False(older.MoreRecentThan(newer));
    }

    public static TheoryData<string, string[]> WildcardQueries()
    {
        var data = new TheoryData<string, string[]>();
        foreach (var item in Vectors.Load().RootElement.GetProperty("resource_records_queries").GetProperty("queries").EnumerateArray())
        {
            data.Add(item.GetProperty("query").GetString()!, item.GetProperty("matches").EnumerateArray().Select(m => m.GetString()!).ToArray());
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(WildcardQueries))]
    public void Resource_records_match_the_vector_queries(string query, string[] matches)
    {
        var source = Vectors.Load().RootElement.GetProperty("resource_records_queries").GetProperty("packet").GetString()!;
        var packet = SignedPacket.FromBytes(Hex(Packet(source), "signed_packet_hex"));
        Assert.Equal(matches, packet.ResourceRecords(query).Select(r => r.Name.ToString()).ToArray());
    }

    public static TheoryData<uint[], uint, uint, uint> TtlCases()
    {
        var data = new TheoryData<uint[], uint, uint, uint>();
        foreach (var item in Vectors.Load().RootElement.GetProperty("ttl").GetProperty("cases").EnumerateArray())
        {
            data.Add(
                item.GetProperty("record_ttls").EnumerateArray().Select(t => t.GetUInt32()).ToArray(),
                item.GetProperty("min").GetUInt32(),
                item.GetProperty("max").GetUInt32(),
                item.GetProperty("ttl").GetUInt32());
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(TtlCases))]
    public void Ttl_is_the_clamped_minimum(uint[] ttls, uint min, uint max, uint expected)
    {
        using var keypair = Keypair.Random();
        var builder = SignedPacket.Builder();
        foreach (uint ttl in ttls)
        {
            builder.Txt("t", "x", ttl);
        }

        var packet = builder.Sign(keypair);
        Assert.Equal(expected, packet.Ttl(min, max));
    }

    [Fact]
    public void Ttl_refuses_a_minimum_above_the_maximum()
    {
        using var keypair = Keypair.Random();
        var packet = SignedPacket.Builder().Txt("t", "x", 30).Sign(keypair);
        Assert.Throws<ArgumentOutOfRangeException>(() => packet.Ttl(10, 5));
        Assert.Equal(10u, packet.Ttl(10, 10));
    }

    public static TheoryData<string, string> NormalizeCases()
    {
        var vector = Vectors.Load().RootElement.GetProperty("normalize_name");
        var data = new TheoryData<string, string>();
        foreach (var row in vector.GetProperty("cases").EnumerateArray())
        {
            data.Add(row[0].GetString()!, row[1].GetString()!);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(NormalizeCases))]
    public void Names_normalise_like_the_reference(string name, string expected)
    {
        string origin = Vectors.Load().RootElement.GetProperty("normalize_name").GetProperty("origin").GetString()!;
        Assert.Equal(expected, Names.Normalize(DnsName.Parse(origin), name));
    }

    [Theory]
    [InlineData("x..", "")]
    [InlineData("foo..", "")]
    [InlineData("a..b", "a.b.")]
    [InlineData("a.b.", "a.b.")]
    public void Queries_follow_the_text_rule_before_empty_labels_collapse(string name, string expectedPrefix)
    {
        // Spec §3.4.1 on the query's text: "x.." drops one dot, its last piece is empty, so it is the apex; the
        // builder's names never see that case because the name type collapses "x.." to "x" first.
        string origin = Vectors.Load().RootElement.GetProperty("normalize_name").GetProperty("origin").GetString()!;
        Assert.Equal(expectedPrefix + origin, Names.Normalize(DnsName.Parse(origin), name));
    }

    [Theory]
    [MemberData(nameof(NormalizeCases))]
    public void Builder_normalises_owner_names_like_the_reference(string name, string expected)
    {
        // The vector's origin is a key whose seed we lack: sign with our own and substitute it.
        string origin = Vectors.Load().RootElement.GetProperty("normalize_name").GetProperty("origin").GetString()!;
        using var keypair = Keypair.Random();
        string key = keypair.PublicKey.ToString();
        var packet = SignedPacket.Builder().Txt(name.Replace(origin, key, StringComparison.Ordinal), "x").Sign(keypair);
        Assert.Equal(expected.Replace(origin, key, StringComparison.Ordinal), Assert.Single(packet.AllResourceRecords).Name.ToString());
    }

    [Fact]
    public void Builder_refuses_packets_over_1000_bytes_with_the_size()
    {
        using var keypair = Keypair.Random();
        var builder = SignedPacket.Builder();
        for (int i = 0; i < 5; i++)
        {
            builder.Txt($"t{i}", new string('x', 200));
        }

        Assert.False(builder.TrySign(keypair, out _, out var error));
        Assert.Equal(SignedPacketErrorKind.PacketTooLarge, error.Kind);
        Assert.True(error.Length > 1000);
        var thrown = Assert.Throws<InvalidSignedPacketException>(() => builder.Sign(keypair));
        Assert.Contains("too large", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Builder_names_and_helpers_produce_expected_records()
    {
        using var keypair = Keypair.Random();
        string key = keypair.PublicKey.ToString();
        var packet = SignedPacket.Builder()
            .Address("@", System.Net.IPAddress.Parse("192.0.2.1"))
            .Address(".", System.Net.IPAddress.Parse("2001:db8::1"))
            .Cname("www.", "example.com")
            .Ns("sub", "ns1.example.com")
            .Mx("@", 10, "mail.example.com")
            .Txt("a..b", "hello")
            .Sign(keypair);

        var names = packet.AllResourceRecords.Select(r => r.Name.ToString()).ToArray();
        Assert.Equal([key, key, $"www.{key}", $"sub.{key}", key, $"a.b.{key}"], names);
        Assert.Equal(
            [RecordType.A, RecordType.AAAA, RecordType.CNAME, RecordType.NS, RecordType.MX, RecordType.TXT],
            packet.AllResourceRecords.Select(r => r.Type).ToArray());
        Assert.Equal(2, packet.ResourceRecords("@").Count(r => r.Type is RecordType.A or RecordType.AAAA));
        Assert.Throws<FormatException>(() => SignedPacket.Builder().Txt(new string('a', 64), "x"));
        Assert.Throws<FormatException>(() => SignedPacket.Builder().Cname("www", new string('a', 64)));
        string longName = string.Join('.', Enumerable.Repeat(new string('a', 50), 4)); // 205 bytes alone, 257 under the key
        var tooLong = Assert.Throws<FormatException>(() => SignedPacket.Builder().Txt(longName, "x").Sign(keypair));
        Assert.Contains("under the key", tooLong.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_txt_is_one_empty_character_string()
    {
        using var keypair = Keypair.Random();
        var packet = SignedPacket.Builder().Txt("e", "").Sign(keypair);
        var dns = packet.EncodedPacket.Span;
        // The record ends with rdlength 1 and a single zero byte.
        Assert.Equal(new byte[] { 0, 1, 0 }, dns[^3..].ToArray());
    }

    [Fact]
    public void Long_txt_is_cut_into_254_byte_strings_and_read_back_whole()
    {
        using var keypair = Keypair.Random();
        string text = new('q', 600);
        var packet = SignedPacket.FromBytes(SignedPacket.Builder().Txt("long", text).Sign(keypair).Bytes.Span);
        var txt = Assert.IsType<TxtData>(Assert.Single(packet.AllResourceRecords).Data);
        Assert.Equal([254, 254, 92], txt.Strings.Select(s => s.Length).ToArray());
        Assert.Equal(text, txt.Text);
    }

    [Fact]
    public void Checks_run_in_the_reference_order()
    {
        var vector = Packet("single_a_record");
        byte[] good = Hex(vector, "signed_packet_hex");

        AssertError(good[..103], SignedPacketErrorKind.InvalidSignedPacketBytesLength, 103);
        AssertError(new byte[1105], SignedPacketErrorKind.PacketTooLarge, 1105);

        byte[] badKey = (byte[])good.Clone();
        Convert.FromHexString("6482a31e25b0007a31038ae9a2d3835afa10df86366fb3c4bacaf70a1e9f5867").CopyTo(badKey, 0);
        AssertError(badKey, SignedPacketErrorKind.InvalidEd25519PublicKey);

        byte[] badSignature = (byte[])good.Clone();
        badSignature[40] ^= 0x01;
        AssertError(badSignature, SignedPacketErrorKind.InvalidSignature);

        byte[] badTimestamp = (byte[])good.Clone();
        badTimestamp[103] ^= 0x01;
        AssertError(badTimestamp, SignedPacketErrorKind.InvalidSignature);

        // A correctly signed value that is not DNS: only the DNS check can reject it.
        using var keypair = Keypair.FromSecretKey(Hex(vector, "seed_hex"));
        byte[] notDns = [0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x05];
        byte[] canonical = RawPackets.Sign(keypair, 7, notDns);
        AssertError(canonical, SignedPacketErrorKind.InvalidDnsPacket);
        Assert.False(SignedPacket.TryFromBytes(canonical, out _, out var dnsError));
        Assert.NotEqual(DnsErrorKind.None, dnsError.Dns.Kind);
    }

    [Fact]
    public void Display_text_is_a_zone_file_with_a_comment_header()
    {
        var vector = Packet("multi_record_compressed");
        var packet = SignedPacket.FromBytes(Hex(vector, "signed_packet_hex"));
        Assert.Equal(
            "; public_key: yqooxx9u3aemh8mo5wcqq16yufu6jitouq1o4za751dger1igghy\n"
            + "; timestamp: 1731421384123456 (Tue, 12 Nov 2024 14:23:04 GMT)\n"
            + $"; signature: {vector.GetProperty("signature_hex").GetString()}\n"
            + "; size: 420 bytes (DNS 316 of at most 1000)\n"
            + "@ 300 IN A 1.1.1.1\n"
            + "@ 300 IN AAAA 3002:bd6::ee00:33:6778\n"
            + "_derp_region.iroh 30 IN A 1.1.1.1\n"
            + "subdomain 30 IN CNAME example.com.\n"
            + "_proto 30 IN TXT \"foo=bar\"\n"
            + "@ 3600 IN HTTPS 1 . alpn=\"h2,h3\" port=6881\n"
            + "_foo 3600 IN SVCB 0 https.example.com.\n"
            + "@ 300 IN MX 10 mail.example.com.\n"
            + "sub 300 IN NS ns1.example.com.\n",
            packet.ToString());
    }

    [Theory]
    [MemberData(nameof(PacketNames))]
    public void Display_text_reads_back_as_a_zone_file_into_the_same_records(string name)
    {
        var packet = SignedPacket.FromBytes(Hex(Packet(name), "signed_packet_hex"));
        Assert.True(ZoneFile.TryParse(packet.ToString(), packet.PublicKey.ToZ32(), out var records, out var error), error.Message);
        Assert.Equal(packet.AllResourceRecords, records);
    }

    [Fact]
    public void Display_text_escapes_zone_file_specials_in_owners_and_data()
    {
        using var keypair = Keypair.FromSecretKey(new byte[32]);
        string key = keypair.PublicKey.ToZ32();
        var owner = DnsName.FromLabels(["@"u8.ToArray(), "x y"u8.ToArray(), System.Text.Encoding.ASCII.GetBytes(key)]);
        var packet = SignedPacket.Builder()
            .Record(new ResourceRecord(owner, DnsClass.IN, 60, TxtData.FromStrings("a \"b\"")))
            .Timestamp(new Timestamp(7))
            .Sign(keypair);

        string[] lines = packet.ToString().Split('\n');
        Assert.Equal(["\\@.x\\032y 60 IN TXT \"a \\\"b\\\"\"", ""], lines[4..]);
        Assert.True(ZoneFile.TryParse(packet.ToString(), key, out var records, out var error), error.Message);
        Assert.Equal(packet.AllResourceRecords, records);
    }

    private static void AssertError(byte[] bytes, SignedPacketErrorKind kind, int length = 0)
    {
        Assert.False(SignedPacket.TryFromBytes(bytes, out var packet, out var error));
        Assert.Null(packet);
        Assert.Equal(kind, error.Kind);
        Assert.Equal(length, error.Length);
        var thrown = Assert.Throws<InvalidSignedPacketException>(() => SignedPacket.FromBytes(bytes));
        Assert.Equal(kind, thrown.Error.Kind);
    }
}
