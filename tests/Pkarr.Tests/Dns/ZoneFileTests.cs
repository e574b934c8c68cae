using System.Net;
using System.Text;
using CsCheck;
using Pkarr.Dns;

namespace Pkarr.Tests.Dns;

public class ZoneFileTests
{
    private const string Origin = "yqooxx9u3aemh8mo5wcqq16yufu6jitouq1o4za751dger1igghy";
    private static readonly DnsName OriginName = DnsName.Parse(Origin);

    private static DnsName Under(string relative) => relative.Length == 0 ? OriginName : DnsName.Parse(relative + "." + Origin);

    private static IReadOnlyList<ResourceRecord> ParseOk(string text)
    {
        Assert.True(ZoneFile.TryParse(text, Origin, out var records, out var error), error.Message);
        Assert.Equal(default, error);
        Assert.Equal(records, ZoneFile.Parse(text, Origin));
        return records;
    }

    private static ZoneFileError ParseError(string text)
    {
        Assert.False(ZoneFile.TryParse(text, Origin, out var records, out var error));
        Assert.Null(records);
        Assert.NotEqual(ZoneFileErrorKind.None, error.Kind);
        Assert.Equal(error, Assert.Throws<InvalidZoneFileException>(() => ZoneFile.Parse(text, Origin)).Error);
        return error;
    }

    [Fact]
    public void Spec_example_parses()
    {
        const string zone = """
            $TTL 60
            @      IN  A     127.0.0.1
            dynv4  IN  A     203.0.113.7
            text   IN  TXT   hero=satoshi2
            www    IN  CNAME pknames.p2p.7fmjpcuuzf54hw18bsgi3zihzyh4awseeuq5tmojefaezjbd64cy.
            sub    IN  NS    ns.7fmjpcuuzf54hw18bsgi3zihzyh4awseeuq5tmojefaezjbd64cy.
            @      IN  MX    10 mail.example.com.
            """;

        ResourceRecord[] expected =
        [
            new(OriginName, DnsClass.IN, 60, new AData(IPAddress.Parse("127.0.0.1"))),
            new(Under("dynv4"), DnsClass.IN, 60, new AData(IPAddress.Parse("203.0.113.7"))),
            new(Under("text"), DnsClass.IN, 60, TxtData.FromStrings("hero=satoshi2")),
            new(Under("www"), DnsClass.IN, 60, new CnameData(DnsName.Parse("pknames.p2p.7fmjpcuuzf54hw18bsgi3zihzyh4awseeuq5tmojefaezjbd64cy"))),
            new(Under("sub"), DnsClass.IN, 60, new NsData(DnsName.Parse("ns.7fmjpcuuzf54hw18bsgi3zihzyh4awseeuq5tmojefaezjbd64cy"))),
            new(OriginName, DnsClass.IN, 60, new MxData(10, DnsName.Parse("mail.example.com"))),
        ];

        Assert.Equal(expected, ParseOk(zone));
    }

    [Fact]
    public void Placeholder_from_the_spec_is_an_error_with_its_line()
    {
        var error = ParseError("@ IN A 127.0.0.1\ndynv4  IN  A     {external_ipv4}\n");
        Assert.Equal(new ZoneFileError(ZoneFileErrorKind.InvalidRecordData, 2, "A: '{external_ipv4}' is not a valid address"), error);
        Assert.Equal("line 2: A: '{external_ipv4}' is not a valid address", error.Message);
    }

    [Fact]
    public void Default_ttl_is_300_and_ttl_and_class_come_in_either_order()
    {
        var records = ParseOk("""
            a A 192.0.2.1
            b 60 IN A 192.0.2.2
            c IN 61 A 192.0.2.3
            d 1h30m A 192.0.2.4
            e CH A 192.0.2.5
            """);

        Assert.Equal([300u, 60u, 61u, 5400u, 300u], records.Select(r => r.Ttl));
        Assert.Equal(DnsClass.CH, records[4].Class);
    }

    [Fact]
    public void Blank_owner_repeats_the_previous_owner_and_comments_are_ignored()
    {
        var records = ParseOk("""
            ; a comment line
            www  A 192.0.2.1 ; trailing comment
                 AAAA 2001:db8::1
            """);

        Assert.Equal(2, records.Count);
        Assert.All(records, r => Assert.Equal(Under("www"), r.Name));
    }

    [Fact]
    public void Parentheses_continue_a_record_over_lines()
    {
        var records = ParseOk("""
            @ 3600 IN SOA ns1 admin (
                    2024010101 ; serial
                    7200 3600
                    1209600 300 )
            next A 192.0.2.9
            """);

        var soa = Assert.IsType<SoaData>(records[0].Data);
        Assert.Equal(Under("ns1"), soa.PrimaryNameServer);
        Assert.Equal(2024010101u, soa.Serial);
        Assert.Equal(300u, soa.Minimum);
        Assert.Equal(Under("next"), records[1].Name);
    }

    [Fact]
    public void Names_are_relative_to_the_origin_unless_absolute()
    {
        var records = ParseOk("""
            a.b CNAME target
            @ CNAME target.example.
            x.yqooxx9u3aemh8mo5wcqq16yufu6jitouq1o4za751dger1igghy. CNAME @
            """);

        Assert.Equal(Under("a.b"), records[0].Name);
        Assert.Equal(Under("target"), Assert.IsType<CnameData>(records[0].Data).Target);
        Assert.Equal(DnsName.Parse("target.example"), Assert.IsType<CnameData>(records[1].Data).Target);
        Assert.Equal(Under("x"), records[2].Name);
        Assert.Equal(OriginName, Assert.IsType<CnameData>(records[2].Data).Target);
    }

    [Fact]
    public void Txt_strings_quoted_unquoted_and_escaped()
    {
        var records = ParseOk("""
            t TXT "hello world" plain "with \"quote\"" "semi;colon" "\065\\"
            u TXT ""
            """);

        var txt = Assert.IsType<TxtData>(records[0].Data);
        Assert.Equal(["hello world", "plain", "with \"quote\"", "semi;colon", "A\\"], txt.Strings.Select(s => Encoding.UTF8.GetString(s.Span)));
        Assert.Equal([0], records[1].Data.ToWire());
    }

    [Fact]
    public void Other_types_parse()
    {
        var records = ParseOk("""
            _sip._tcp SRV 10 5 5060 sip.example.
            @ CAA 0 issue "letsencrypt.org"
            @ PTR host
            @ HTTPS 1 . alpn=h2,h3 port=443 ipv4hint=1.2.3.4,5.6.7.8 ipv6hint=2001:db8::1 ech=AAA= mandatory=port,alpn
            _foo SVCB 0 https.example.com.
            svc SVCB 16 foo.example.org. key667="hello\210qoo" no-default-alpn
            x TYPE65280 \# 3 abcdef
            """);

        var srv = Assert.IsType<SrvData>(records[0].Data);
        Assert.Equal((10, 5, 5060), (srv.Priority, srv.Weight, srv.Port));
        var caa = Assert.IsType<CaaData>(records[1].Data);
        Assert.Equal("issue", caa.Tag);
        Assert.Equal("letsencrypt.org"u8.ToArray(), caa.Value.ToArray());
        Assert.IsType<PtrData>(records[2].Data);
        var https = Assert.IsType<SvcbData>(records[3].Data);
        Assert.Equal(RecordType.HTTPS, https.Type);
        Assert.True(https.Target.IsRoot);
        Assert.Equal(["h2", "h3"], https.Alpn);
        Assert.Equal((ushort)443, https.Port);
        Assert.Equal([IPAddress.Parse("1.2.3.4"), IPAddress.Parse("5.6.7.8")], https.Ipv4Hint);
        Assert.Equal([IPAddress.Parse("2001:db8::1")], https.Ipv6Hint);
        Assert.Equal(0, https.Ech!.Value.Length);
        Assert.Equal([(ushort)1, (ushort)3], https.Mandatory);
        var svcb = Assert.IsType<SvcbData>(records[5].Data);
        Assert.Equal(Convert.FromHexString("68656c6c6fd2716f6f"), svcb.GetParam(667)!.Value.ToArray());
        Assert.True(svcb.NoDefaultAlpn);
        var unknown = Assert.IsType<UnknownData>(records[6].Data);
        Assert.Equal((RecordType)65280, unknown.Type);
        Assert.Equal([0xab, 0xcd, 0xef], unknown.Data.ToArray());
    }

    [Fact]
    public void Rfc9460_appendix_d_wire_forms_match()
    {
        // D.2.6 and D.2.10 of RFC 9460, presentation to wire.
        var a = ParseOk("x SVCB 1 foo.example.com. key667=\"hello\\210qoo\"")[0].Data;
        Assert.Equal("0001 03666f6f076578616d706c6503636f6d00 029b0009 68656c6c6fd2716f6f".Replace(" ", "", StringComparison.Ordinal), Convert.ToHexStringLower(a.ToWire()));

        var b = ParseOk("x SVCB 16 foo.example.org. alpn=h2,h3-19 mandatory=ipv4hint,alpn ipv4hint=192.0.2.1")[0].Data;
        Assert.Equal(
            "0010 03666f6f076578616d706c65036f726700 0000000400010004 00010009026832056833 2d3139 000400 04c0000201".Replace(" ", "", StringComparison.Ordinal),
            Convert.ToHexStringLower(b.ToWire()));
    }

    [Theory]
    [InlineData("x NAPTR 100 10 \"u\" \"E2U+sip\" \"!^.*$!sip:info@example.com!\" .", 1, ZoneFileErrorKind.UnsupportedType, "NAPTR")]
    [InlineData("x A 1.2.3", 1, ZoneFileErrorKind.InvalidRecordData, "'1.2.3' is not a valid address")]
    [InlineData("\n\nx A 1.2.3.4.5", 3, ZoneFileErrorKind.InvalidRecordData, "'1.2.3.4.5' is not a valid address")]
    [InlineData("x AAAA 1.2.3.4", 1, ZoneFileErrorKind.InvalidRecordData, "'1.2.3.4' is not a valid address")]
    [InlineData("x MX mail.example.", 1, ZoneFileErrorKind.InvalidRecordData, "expected 2 fields, found 1")]
    [InlineData("  A 1.2.3.4", 1, ZoneFileErrorKind.MissingOwner, "no owner name")]
    [InlineData("x\n", 1, ZoneFileErrorKind.MissingType, "missing record type")]
    [InlineData("x TXT \"unterminated", 1, ZoneFileErrorKind.Syntax, "unterminated quoted string")]
    [InlineData("x A (1.2.3.4", 1, ZoneFileErrorKind.Syntax, "unbalanced '('")]
    [InlineData("x A 1.2.3.4 )", 1, ZoneFileErrorKind.Syntax, "unbalanced ')'")]
    [InlineData("x A 1.2.3.4\n$INCLUDE other.zone", 2, ZoneFileErrorKind.UnsupportedDirective, "'$INCLUDE'")]
    [InlineData("x HTTPS 1 . alpn=h2 alpn=h3", 1, ZoneFileErrorKind.InvalidRecordData, "'alpn' appears twice")]
    [InlineData("x HTTPS 1 . port=99999", 1, ZoneFileErrorKind.InvalidRecordData, "invalid value for 'port'")]
    [InlineData("x HTTPS 1 . bogus=1", 1, ZoneFileErrorKind.InvalidRecordData, "unknown SvcParamKey 'bogus'")]
    [InlineData("x HTTPS 1 . ech=AA==", 1, ZoneFileErrorKind.InvalidRecordData, "invalid value for 'ech'")]
    [InlineData("x TYPE65280 \\# 2 abcdef", 1, ZoneFileErrorKind.InvalidRecordData, "has 3 bytes, not 2")]
    [InlineData("x OPT \\# 0", 1, ZoneFileErrorKind.UnsupportedType, "'OPT'")]
    [InlineData("x CAA 0 is-sue \"x\"", 1, ZoneFileErrorKind.InvalidRecordData, "'is-sue' is not a valid tag")]
    [InlineData("x CNAME a\\", 1, ZoneFileErrorKind.Syntax, "backslash at the end")]
    [InlineData("x CNAME a\\1", 1, ZoneFileErrorKind.InvalidName, "bad escape in name")]
    public void Errors_say_which_line_and_what_is_wrong(string zone, int line, ZoneFileErrorKind kind, string detail)
    {
        var error = ParseError(zone);
        Assert.Equal(kind, error.Kind);
        Assert.Equal(line, error.Line);
        Assert.Contains(detail, error.Detail, StringComparison.Ordinal);
        Assert.Equal($"line {line}: {error.Detail}", error.Message);
    }

    [Fact]
    public void An_origin_that_is_not_a_name_is_its_own_error()
    {
        Assert.False(ZoneFile.TryParse("@ A 1.2.3.4", new string('k', 64), out _, out var error));
        Assert.Equal(ZoneFileErrorKind.InvalidOrigin, error.Kind);
        Assert.Equal(0, error.Line);
        Assert.StartsWith("the origin ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Txt_strings_over_255_bytes_are_an_error()
    {
        ParseError($"x TXT \"{new string('a', 256)}\"");
        Assert.Single(ParseOk($"x TXT \"{new string('a', 255)}\""));
    }

    [Fact]
    public void Origin_directive_changes_relative_names()
    {
        var records = ParseOk("$ORIGIN sub\nwww A 192.0.2.1\n$ORIGIN other.example.\n@ A 192.0.2.2");
        Assert.Equal(Under("www.sub"), records[0].Name);
        Assert.Equal(DnsName.Parse("other.example"), records[1].Name);
    }

    public static TheoryData<RecordData, string> Presentations() => new()
    {
        { new AData(IPAddress.Parse("1.2.3.4")), "1.2.3.4" },
        { new AaaaData(IPAddress.Parse("2001:db8::1")), "2001:db8::1" },
        { new NsData(DnsName.Parse("ns.example")), "ns.example." },
        { new CnameData(DnsName.Root), "." },
        { new PtrData(DnsName.FromLabels(["a.b"u8.ToArray(), "c d"u8.ToArray()])), "a\\.b.c\\032d." },
        { new MxData(10, DnsName.Parse("mail.example")), "10 mail.example." },
        { new TxtData("foo=bar"), "\"foo=bar\"" },
        { new TxtData(""), "\"\"" },
        { new TxtData([[0x22, 0x5c, 0x01], [0xc3, 0xa9]]), "\"\\\"\\\\\\001\" \"é\"" },
        { new SrvData(1, 2, 3, DnsName.Parse("t.example")), "1 2 3 t.example." },
        { new CaaData(128, "issue", "ca.example"u8), "128 issue \"ca.example\"" },
        { new SoaData(DnsName.Parse("ns"), DnsName.Parse("admin"), 1, 2, 3, 4, 5), "ns. admin. 1 2 3 4 5" },
        { SvcbData.Https(1, DnsName.Root).WithAlpn("h2", "h3").WithPort(6881), "1 . alpn=\"h2,h3\" port=6881" },
        { SvcbData.Svcb(0, DnsName.Parse("https.example.com")), "0 https.example.com." },
        { SvcbData.Https(1, DnsName.Root).WithParam(3, [0x1a, 0xe1, 0xff]), "1 . key3=\"\\026\\225\\255\"" },
        { new UnknownData((RecordType)999, [1, 2, 0xff]), "\\# 3 0102ff" },
        { new UnknownData(RecordType.A, []), "\\# 0" },
    };

    [Theory]
    [MemberData(nameof(Presentations))]
    public void Presentation_is_as_expected_and_round_trips(RecordData data, string expected)
    {
        Assert.Equal(expected, data.ToString());
        Assert.True(ZoneFile.TryParseRecordData(data.Type, data.ToString(), OriginName, out var parsed, out var error), error.Message);
        Assert.Equal(data, parsed);
    }

    [Fact]
    public void Record_presentation_is_a_zone_line()
    {
        var record = new ResourceRecord(Under("www"), DnsClass.IN, 30, new AData(IPAddress.Parse("1.1.1.1")));
        Assert.Equal($"www.{Origin}. 30 IN A 1.1.1.1", record.ToString());
        Assert.Equal([record], ParseOk(record.ToString()));
    }

    [Fact]
    public void Random_rdata_presentation_round_trips()
    {
        DnsMessageTests.GenRecordData.Sample(
            data =>
            {
                string text = data.ToString();
                Assert.True(ZoneFile.TryParseRecordData(data.Type, text, OriginName, out var parsed, out var error), $"{text}: {error.Message}");
                Assert.Equal(data, parsed);
            },
            iter: 20_000);
    }

    [Fact]
    public void Random_records_round_trip_through_zone_text()
    {
        DnsMessageTests.GenRecord.Select(r => r with { CacheFlush = false }).Array[1, 6].Sample(
            records =>
            {
                string zone = string.Join('\n', records.Select(r => r.ToString()));
                Assert.True(ZoneFile.TryParse(zone, Origin, out var parsed, out var error), $"{zone}\n{error.Message}");
                Assert.Equal(records, parsed);
            },
            iter: 5_000);
    }

    [Fact]
    public void Random_text_is_parsed_or_refused_with_a_line_in_the_text()
    {
        int accepted = 0;
        int refused = 0;
        void Check(string text)
        {
            if (ZoneFile.TryParse(text, Origin, out var records, out var error))
            {
                // Whatever was accepted prints as zone text that reads back as the same records.
                Assert.Equal(default, error);
                Assert.Equal(records, ZoneFile.Parse(string.Join('\n', records.Select(r => r.ToString())), Origin));
                accepted++;
            }
            else
            {
                Assert.Null(records);
                Assert.NotEqual(ZoneFileErrorKind.None, error.Kind);
                Assert.InRange(error.Line, 1, text.Count(c => c == '\n') + 1);
                Assert.StartsWith($"line {error.Line}: ", error.Message, StringComparison.Ordinal);
                refused++;
            }
        }

        Gen.String[0, 80].Sample(Check, iter: 20_000, threads: 1);
        Gen.OneOfConst("@ A ", "x TXT \"", "( ", ") ", "\\", "\\0", "\\999", "$TTL ", "1h", "HTTPS 1 . ", "alpn=", "\n", " ", ";", "\"", "key65535=", ".", "1.2.3.4", "x CNAME a")
            .Array[0, 10].Sample(parts => Check(string.Concat(parts)), iter: 20_000, threads: 1);

        // Both sides are exercised: the generators produce valid zones as well as broken ones.
        Assert.Equal(40_000, accepted + refused);
        Assert.True(accepted > 1_000, $"only {accepted} accepted");
        Assert.True(refused > 1_000, $"only {refused} refused");
    }
}
