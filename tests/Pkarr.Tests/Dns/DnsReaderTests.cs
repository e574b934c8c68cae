using System.Net;
using Pkarr.Dns;

namespace Pkarr.Tests.Dns;

/// <summary>Hand-made packets for every acceptance and rejection rule of shared spec §3.5.</summary>
public class DnsReaderTests
{
    private const string ResponseOneAnswer = "0000 8000 0000 0001 0000 0000";

    /// <summary>Hex with spaces allowed, for readable packets.</summary>
    internal static byte[] Hex(params string[] parts) => Convert.FromHexString(string.Concat(parts).Replace(" ", "", StringComparison.Ordinal));

    private static DnsMessage AssertAccepted(byte[] packet)
    {
        Assert.True(DnsMessage.TryValidate(packet, out var validateError), validateError.Message);
        Assert.True(DnsMessage.TryParse(packet, out var message, out var error), error.Message);
        return message;
    }

    private static DnsError AssertRejected(byte[] packet, DnsErrorKind kind, int? offset = null)
    {
        Assert.False(DnsMessage.TryParse(packet, out var message, out var error));
        Assert.Null(message);
        Assert.False(DnsMessage.TryValidate(packet, out var validateError));
        Assert.Equal(error, validateError);
        Assert.Equal(kind, error.Kind);
        if (offset is { } expected)
        {
            Assert.Equal(expected, error.Offset);
        }

        Assert.False(string.IsNullOrEmpty(error.Message));
        return error;
    }

    [Theory]
    [InlineData("")]
    [InlineData("00")]
    [InlineData("0000 8000 0000 0000 0000 00")]
    public void Short_header_is_truncated(string hex) => AssertRejected(Hex(hex), DnsErrorKind.Truncated);

    [Fact]
    public void Bare_header_is_the_smallest_message()
    {
        var message = AssertAccepted(Hex("1234 8180 0000 0000 0000 0000"));
        Assert.Equal(0x1234, message.Id);
        Assert.Equal(0x8180, message.Flags);
    }

    [Fact]
    public void Z_bit_is_rejected() => AssertRejected(Hex("0000 8040 0000 0000 0000 0000"), DnsErrorKind.ReservedFlagSet, 2);

    [Fact]
    public void Every_other_flag_is_accepted() => AssertAccepted(Hex("ffff ffbf 0000 0000 0000 0000"));

    [Fact]
    public void Class_5_is_rejected()
        => AssertRejected(Hex(ResponseOneAnswer, "0161 00", "0001 0005 0000001e 0004 01020304"), DnsErrorKind.InvalidClass, 17);

    [Theory]
    [InlineData("0001", DnsClass.IN)]
    [InlineData("0002", DnsClass.CS)]
    [InlineData("0003", DnsClass.CH)]
    [InlineData("0004", DnsClass.HS)]
    [InlineData("00fe", DnsClass.NONE)]
    public void Allowed_classes_are_accepted(string classHex, DnsClass expected)
    {
        var record = AssertAccepted(Hex(ResponseOneAnswer, "0161 00", "0001", classHex, "0000001e 0004 01020304")).Answers[0];
        Assert.Equal(expected, record.Class);
        Assert.False(record.CacheFlush);
    }

    [Fact]
    public void Class_any_is_rejected_in_records_but_accepted_in_questions()
    {
        AssertRejected(Hex(ResponseOneAnswer, "0161 00", "0001 00ff 0000001e 0004 01020304"), DnsErrorKind.InvalidClass);
        var question = AssertAccepted(Hex("0000 0000 0001 0000 0000 0000", "0161 00", "0001 00ff")).Questions[0];
        Assert.Equal(DnsClass.ANY, question.Class);
    }

    [Fact]
    public void Question_with_class_5_is_rejected()
        => AssertRejected(Hex("0000 0000 0001 0000 0000 0000", "0161 00", "0001 0005"), DnsErrorKind.InvalidClass, 17);

    [Fact]
    public void Cache_flush_bit_is_accepted_and_remembered()
    {
        byte[] packet = Hex(ResponseOneAnswer, "0161 00", "0001 8001 0000001e 0004 01020304");
        var message = AssertAccepted(packet);

        Assert.True(message.Answers[0].CacheFlush);
        Assert.Equal(DnsClass.IN, message.Answers[0].Class);
        Assert.Equal(packet, message.Encode());
    }

    [Fact]
    public void Cache_flush_bit_does_not_rescue_a_bad_class()
        => AssertRejected(Hex(ResponseOneAnswer, "0161 00", "0001 8005 0000001e 0004 01020304"), DnsErrorKind.InvalidClass);

    [Theory]
    [InlineData("40")]
    [InlineData("7f")]
    [InlineData("80")]
    [InlineData("bf")]
    public void Label_over_63_and_reserved_label_types_are_rejected(string lengthByte)
        => AssertRejected(Hex(ResponseOneAnswer, lengthByte, new string('6', 2 * 70), "00 0001 0001 0000001e 0004 01020304"), DnsErrorKind.LabelTooLong, 12);

    [Fact]
    public void Label_of_63_is_accepted()
    {
        var record = AssertAccepted(Hex(ResponseOneAnswer, "3f", string.Concat(Enumerable.Repeat("61", 63)), "00 0001 0001 0000001e 0004 01020304")).Answers[0];
        Assert.Equal(new string('a', 63), record.Name.ToString());
    }

    private static string LongName(int totalLabelBytes)
    {
        // Labels of 63 bytes (64 with the length byte) and one remainder label: totalLabelBytes = sum(1 + len).
        var parts = new List<string>();
        int left = totalLabelBytes;
        while (left > 0)
        {
            int len = Math.Min(63, left - 1);
            parts.Add(len.ToString("x2", System.Globalization.CultureInfo.InvariantCulture) + string.Concat(Enumerable.Repeat("62", len)));
            left -= 1 + len;
        }

        return string.Concat(parts) + "00";
    }

    [Fact]
    public void Name_of_255_wire_bytes_is_accepted()
    {
        var record = AssertAccepted(Hex(ResponseOneAnswer, LongName(254), "0001 0001 0000001e 0004 01020304")).Answers[0];
        Assert.Equal(255, record.Name.WireLength);
    }

    [Fact]
    public void Name_of_256_wire_bytes_is_rejected()
        => AssertRejected(Hex(ResponseOneAnswer, LongName(255), "0001 0001 0000001e 0004 01020304"), DnsErrorKind.NameTooLong);

    [Fact]
    public void Name_made_too_long_by_pointers_is_rejected()
    {
        // Question 1 holds a 200-byte name at offset 12; question 2 adds 60 bytes and points at it.
        byte[] packet = Hex("0000 0000 0002 0000 0000 0000", LongName(200), "0001 0001", "3b", string.Concat(Enumerable.Repeat("63", 59)), "c00c 0001 0001");
        AssertRejected(packet, DnsErrorKind.NameTooLong);
    }

    [Fact]
    public void Backward_pointer_in_owner_name_is_accepted()
    {
        var message = AssertAccepted(Hex(
            "0000 8000 0000 0002 0000 0000",
            "0161 0162 00 0001 0001 0000001e 0004 01020304",
            "0178 c00c 0001 0001 0000001e 0004 05060708"));

        Assert.Equal("a.b", message.Answers[0].Name.ToString());
        Assert.Equal("x.a.b", message.Answers[1].Name.ToString());
    }

    [Fact]
    public void Pointer_to_header_bytes_is_followed()
    {
        // Offset 0 holds ID 0x0000, i.e. the root name.
        var message = AssertAccepted(Hex(ResponseOneAnswer, "c000 0001 0001 0000001e 0004 01020304"));
        Assert.True(message.Answers[0].Name.IsRoot);
    }

    [Fact]
    public void Forward_pointer_is_rejected()
        => AssertRejected(Hex(ResponseOneAnswer, "c00e", "0161 00 0001 0001 0000001e 0004 01020304"), DnsErrorKind.InvalidCompressionPointer, 12);

    [Fact]
    public void Self_pointer_is_rejected()
        => AssertRejected(Hex(ResponseOneAnswer, "c00c 0001 0001 0000001e 0004 01020304"), DnsErrorKind.InvalidCompressionPointer, 12);

    [Fact]
    public void Pointer_loop_is_rejected()
    {
        // Name at 12: label "a" then a pointer back to 12. The first hop goes backwards, the second does not
        // go before the first target, which would loop forever.
        AssertRejected(Hex(ResponseOneAnswer, "0161 c00c 0001 0001 0000001e 0004 01020304"), DnsErrorKind.InvalidCompressionPointer, 14);
    }

    [Fact]
    public void Two_hop_chain_going_backwards_is_accepted()
    {
        var message = AssertAccepted(Hex(
            "0000 8000 0000 0003 0000 0000",
            "0163 00 0001 0001 0000001e 0004 01020304",        // 12: "c"
            "0162 c00c 0001 0001 0000001e 0004 01020304",      // 29: "b" -> 12
            "0161 c01d 0001 0001 0000001e 0004 01020304"));    // 47: "a" -> 29 -> 12
        Assert.Equal("a.b.c", message.Answers[2].Name.ToString());
    }

    /// <summary>An answer of private type 0xFF00 whose rdata (at offset 23) is a root name followed by a chain of
    /// <paramref name="hops"/> − 1 pointers, each to the one before; a second answer's owner name points at the
    /// last of them, so reading that name follows exactly <paramref name="hops"/> pointers.</summary>
    internal static byte[] PointerChain(int hops)
    {
        const int rdataAt = 23;
        var chain = new List<byte> { 0 };
        for (var k = 0; k < hops - 1; k++)
        {
            var target = k == 0 ? rdataAt : rdataAt + 1 + (2 * (k - 1));
            chain.Add((byte)(0xC0 | (target >> 8)));
            chain.Add((byte)target);
        }

        var last = hops == 1 ? rdataAt : rdataAt + 1 + (2 * (hops - 2));
        return Hex(
            "0000 8000 0000 0002 0000 0000",
            $"00 ff00 0001 0000001e {chain.Count:x4}", Convert.ToHexString([.. chain]),
            $"{0xC000 | last:x4} 0001 0001 0000001e 0004 01020304");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(DnsReader.MaxPointerHops)]
    public void A_name_may_follow_up_to_128_pointers(int hops)
    {
        var message = AssertAccepted(PointerChain(hops));
        Assert.True(message.Answers[1].Name.IsRoot);
    }

    [Theory]
    [InlineData(DnsReader.MaxPointerHops + 1)]
    [InlineData(8_000)] // about the most a pointer's 14-bit offset can reach
    public void A_name_following_more_than_128_pointers_is_rejected(int hops)
    {
        var packet = PointerChain(hops);

        // The owner pointer is hop 1, the chain's last pointer hop 2, and so on backwards: hop 129 sits 128
        // pointers before the end of the rdata, which is where the owner name starts.
        var rdataEnd = packet.Length - 16;
        AssertRejected(packet, DnsErrorKind.InvalidCompressionPointer, rdataEnd - (2 * DnsReader.MaxPointerHops));
    }

    [Fact]
    public void Truncated_pointer_is_rejected()
        => AssertRejected(Hex(ResponseOneAnswer, "c0"), DnsErrorKind.Truncated);

    [Fact]
    public void Truncated_label_is_rejected()
        => AssertRejected(Hex(ResponseOneAnswer, "0561 62"), DnsErrorKind.Truncated);

    [Fact]
    public void Missing_fixed_fields_are_rejected()
        => AssertRejected(Hex(ResponseOneAnswer, "00 0001 0001 0000"), DnsErrorKind.Truncated);

    [Fact]
    public void Rdlength_past_the_end_is_rejected()
        => AssertRejected(Hex(ResponseOneAnswer, "00 0001 0001 0000001e 0005 01020304"), DnsErrorKind.Truncated, 21);

    [Fact]
    public void Missing_records_are_rejected()
        => AssertRejected(Hex("0000 8000 0000 0002 0000 0000", "00 0001 0001 0000001e 0004 01020304"), DnsErrorKind.Truncated);

    [Fact]
    public void A_with_rdlength_6_uses_the_first_4_bytes()
    {
        var data = Assert.IsType<AData>(AssertAccepted(Hex(ResponseOneAnswer, "00 0001 0001 0000001e 0006 01020304 0506")).Answers[0].Data);
        Assert.Equal(IPAddress.Parse("1.2.3.4"), data.Address);
    }

    [Theory]
    [InlineData("0001", "0002 0102")]
    [InlineData("001c", "0004 01020304")]
    [InlineData("000f", "0001 00")]
    [InlineData("0006", "0002 0000")]
    public void Rdata_shorter_than_its_type_needs_is_rejected(string type, string rdata)
        => AssertRejected(Hex(ResponseOneAnswer, "00", type, "0001 0000001e", rdata), DnsErrorKind.Truncated);

    [Theory]
    [InlineData(RecordType.A)]
    [InlineData(RecordType.AAAA)]
    [InlineData(RecordType.CNAME)]
    [InlineData(RecordType.TXT)]
    [InlineData(RecordType.MX)]
    [InlineData(RecordType.HTTPS)]
    [InlineData(RecordType.SOA)]
    [InlineData(RecordType.OPT)]
    [InlineData((RecordType)999)]
    public void Rdlength_0_is_kept_and_reencoded(RecordType type)
    {
        byte[] packet = Hex(ResponseOneAnswer, "00", ((ushort)type).ToString("x4", System.Globalization.CultureInfo.InvariantCulture), "0001 0000001e 0000");
        var record = AssertAccepted(packet).Answers[0];

        Assert.Equal(type, record.Type);
        Assert.Equal(0, Assert.IsType<UnknownData>(record.Data).Data.Length);
        Assert.Equal(packet, DnsMessage.Parse(packet).Encode());
    }

    [Fact]
    public void Trailing_bytes_are_ignored()
    {
        var message = AssertAccepted(Hex(ResponseOneAnswer, "00 0001 0001 0000001e 0004 01020304", "deadbeef"));
        Assert.Single(message.Answers);
    }

    [Fact]
    public void Unknown_type_is_kept_byte_identical()
    {
        byte[] packet = Hex(ResponseOneAnswer, "0161 00 fde8 0001 0000001e 0005 0102030405");
        var message = AssertAccepted(packet);
        var data = Assert.IsType<UnknownData>(message.Answers[0].Data);

        Assert.Equal((RecordType)65000, data.Type);
        Assert.Equal(Hex("0102030405"), data.Data.ToArray());
        Assert.Equal(packet, message.Encode(compress: true));
        Assert.Equal(packet, message.Encode(compress: false));
    }

    [Fact]
    public void Upper_case_names_are_kept()
    {
        var message = AssertAccepted(Hex(ResponseOneAnswer, "03414243 00 0001 0001 0000001e 0004 01020304"));
        Assert.Equal("ABC", message.Answers[0].Name.ToString());
    }

    [Fact]
    public void Pointer_inside_rdata_is_followed()
    {
        // CNAME at "a" pointing to "x" + pointer to the owner name at 12.
        var message = AssertAccepted(Hex(ResponseOneAnswer, "0161 00 0005 0001 0000001e 0004 0178c00c"));
        Assert.Equal("x.a", Assert.IsType<CnameData>(message.Answers[0].Data).Target.ToString());
    }

    [Fact]
    public void Forward_pointer_inside_rdata_is_rejected()
        => AssertRejected(Hex(ResponseOneAnswer, "0161 00 0005 0001 0000001e 0002 c01d"), DnsErrorKind.InvalidCompressionPointer, 25);

    [Fact]
    public void Name_in_rdata_must_end_inside_the_rdata()
        => AssertRejected(Hex(ResponseOneAnswer, "0161 00 0002 0001 0000001e 0002 0178 00"), DnsErrorKind.Truncated);

    [Theory]
    [InlineData("0005 0361626364")]
    [InlineData("0003 036162")]
    [InlineData("0001 01")]
    public void Txt_string_past_its_rdata_is_rejected(string rdata)
    {
        byte[] packet = Hex(ResponseOneAnswer, "00 0010 0001 0000001e", rdata.Trim(), "ffffffff");
        AssertRejected(packet, DnsErrorKind.InvalidCharacterString);
    }

    [Fact]
    public void Txt_with_several_strings_parses_and_reencodes()
    {
        byte[] packet = Hex(ResponseOneAnswer, "00 0010 0001 0000001e 0007 03616263 00 0164");
        var data = Assert.IsType<TxtData>(AssertAccepted(packet).Answers[0].Data);

        Assert.Equal(3, data.Strings.Count);
        Assert.Equal("abcd", data.Text);
        Assert.Equal(packet, DnsMessage.Parse(packet).Encode());
    }

    private static byte[] Https(string parameters)
    {
        byte[] rdata = Hex("0001 00", parameters);
        return Hex(ResponseOneAnswer, "00 0041 0001 0000001e", rdata.Length.ToString("x4", System.Globalization.CultureInfo.InvariantCulture), Convert.ToHexString(rdata));
    }

    [Fact]
    public void Svcb_params_in_order_are_accepted()
    {
        byte[] packet = Https("0001 0006 026832 026833 0003 0002 1ae1 0004 0004 01020304 0005 0004 0002 abcd 0006 0010 20010db8000000000000000000000001 fde8 0002 abcd");
        var data = Assert.IsType<SvcbData>(AssertAccepted(packet).Answers[0].Data);

        Assert.Equal(["h2", "h3"], data.Alpn);
        Assert.Equal((ushort)6881, data.Port);
        Assert.Equal([IPAddress.Parse("1.2.3.4")], data.Ipv4Hint);
        Assert.Equal(Hex("abcd"), data.Ech!.Value.ToArray());
        Assert.Equal([IPAddress.Parse("2001:db8::1")], data.Ipv6Hint);
        Assert.Equal(Hex("abcd"), data.GetParam(65000)!.Value.ToArray());
        Assert.Equal(packet, DnsMessage.Parse(packet).Encode());
    }

    [Theory]
    [InlineData("0003 0002 1ae1 0001 0003 026832")]
    [InlineData("0003 0002 1ae1 0003 0002 1ae1")]
    public void Svcb_params_not_strictly_ascending_are_rejected(string parameters)
        => AssertRejected(Https(parameters), DnsErrorKind.SvcParamsNotAscending);

    [Fact]
    public void Svcb_alpn_running_past_its_value_is_rejected()
        => AssertRejected(Https("0001 0003 036832 0003 0002 1ae1"), DnsErrorKind.InvalidCharacterString);

    [Theory]
    [InlineData("0000 0003 000100")]
    [InlineData("0003 0001 1a")]
    [InlineData("0004 0003 010203")]
    [InlineData("0005 0004 0003 abcd")]
    [InlineData("0005 0001 00")]
    [InlineData("0006 0004 20010db8")]
    public void Malformed_svcb_param_values_are_rejected(string parameters)
        => AssertRejected(Https(parameters), DnsErrorKind.InvalidSvcParam);

    [Fact]
    public void Svcb_param_running_past_the_rdata_is_rejected()
        => AssertRejected(Https("0003 0004 1ae1"), DnsErrorKind.Truncated);

    [Fact]
    public void Svcb_lenient_values_are_kept_byte_identical()
    {
        // A 3-byte port and a no-default-alpn with a value are accepted by the reference and must survive re-encoding.
        byte[] packet = Https("0002 0001 ff 0003 0003 1ae1ff");
        var data = Assert.IsType<SvcbData>(AssertAccepted(packet).Answers[0].Data);

        Assert.Equal((ushort)6881, data.Port);
        Assert.True(data.NoDefaultAlpn);
        Assert.Equal(packet, DnsMessage.Parse(packet).Encode());
    }

    [Fact]
    public void Opt_record_with_payload_size_class_is_accepted()
    {
        byte[] packet = Hex("0000 8000 0000 0000 0000 0001", "00 0029 04d0 00000000 0008 000a 0004 01020304");
        var record = AssertAccepted(packet).Additionals[0];

        Assert.Equal(RecordType.OPT, record.Type);
        Assert.Equal(1232, (int)record.Class);
        Assert.Equal(packet, DnsMessage.Parse(packet).Encode());
    }

    [Fact]
    public void Opt_record_with_a_name_is_rejected()
        => AssertRejected(Hex("0000 8000 0000 0000 0000 0001", "0161 00 0029 04d0 00000000 0000"), DnsErrorKind.InvalidOptRecord, 12);

    [Theory]
    [InlineData("0003 000a00")]
    [InlineData("0006 000a 0004 0102")]
    public void Opt_option_running_past_the_rdata_is_rejected(string rdata)
        => AssertRejected(Hex("0000 8000 0000 0000 0000 0001", "00 0029 04d0 00000000", rdata), DnsErrorKind.InvalidOptRecord);

    [Fact]
    public void All_sections_are_parsed_and_reencoded()
    {
        var a = new ResourceRecord(DnsName.Parse("a.example"), DnsClass.IN, 60, new AData(IPAddress.Parse("192.0.2.1")));
        var ns = new ResourceRecord(DnsName.Parse("example"), DnsClass.IN, 60, new NsData(DnsName.Parse("ns.example")));
        var soa = new ResourceRecord(DnsName.Parse("example"), DnsClass.IN, 60, new SoaData(DnsName.Parse("ns.example"), DnsName.Parse("admin.example"), 1, 2, 3, 4, 5));
        var message = new DnsMessage
        {
            Id = 7,
            Flags = 0x8400,
            Questions = [new DnsQuestion(DnsName.Parse("a.example"), RecordType.A, DnsClass.IN) { UnicastResponse = true }],
            Answers = [a],
            Authorities = [ns, soa],
            Additionals = [new ResourceRecord(DnsName.Parse("ns.example"), DnsClass.CH, 1, new AaaaData(IPAddress.Parse("2001:db8::53")))],
        };

        byte[] bytes = message.Encode();
        var parsed = AssertAccepted(bytes);

        Assert.Equal(message.Questions, parsed.Questions);
        Assert.Equal(message.Answers, parsed.Answers);
        Assert.Equal(message.Authorities, parsed.Authorities);
        Assert.Equal(message.Additionals, parsed.Additionals);
        Assert.Equal(bytes, parsed.Encode());
        Assert.True(bytes.Length < message.Encode(compress: false).Length);
    }

    [Fact]
    public void Legacy_name_types_follow_pointers_and_keep_expanded_names()
    {
        // MB (7) whose rdata is a pointer to the owner name.
        byte[] packet = Hex(ResponseOneAnswer, "0161 00 0007 0001 0000001e 0002 c00c");
        var data = Assert.IsType<UnknownData>(AssertAccepted(packet).Answers[0].Data);
        Assert.Equal(Hex("016100"), data.Data.ToArray());

        AssertRejected(Hex(ResponseOneAnswer, "0161 00 0007 0001 0000001e 0002 c01d"), DnsErrorKind.InvalidCompressionPointer);
    }

    [Fact]
    public void Legacy_rdata_that_would_grow_past_65535_bytes_is_kept_as_sent()
    {
        // AFSDB (18) = u16 + name; the name is a pointer to a 201-byte owner name and the rdata is padded to 65535.
        string rdata = "0001 c00c" + new string('0', 2 * (65535 - 4));
        byte[] packet = Hex(ResponseOneAnswer, LongName(200), "0012 0001 0000001e ffff", rdata);
        var data = Assert.IsType<UnknownData>(AssertAccepted(packet).Answers[0].Data);
        Assert.Equal(65535, data.Data.Length);
    }

    [Fact]
    public void Caa_tag_past_the_rdata_is_rejected()
        => AssertRejected(Hex(ResponseOneAnswer, "00 0101 0001 0000001e 0003 00 05 69"), DnsErrorKind.InvalidCharacterString);

    [Fact]
    public void Error_messages_name_the_offset()
    {
        var error = AssertRejected(Hex(ResponseOneAnswer, "c00c 0001 0001 0000001e 0004 01020304"), DnsErrorKind.InvalidCompressionPointer);
        Assert.Equal("compression pointer at offset 12 does not point backwards", error.Message);
    }
}
