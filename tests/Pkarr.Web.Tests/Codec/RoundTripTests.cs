// Many random record sets signed in the page and by the C# core: the bytes are identical (same normalisation, same
// compression), the page's packets verify and decode in the core to exactly the records entered, and the page
// decodes the core's packets (compressed or not) to the same names and presentation strings as ToString().

using System.Text.Json;
using System.Text.Json.Nodes;
using Pkarr.Dns;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Web.Tests.Codec;

[Collection(WebCollection.Name)]
public sealed class RoundTripTests(WebFixture web)
{
    private const int SetCount = 200;

    private const string SignAndDecode = """
        const sets = revive(arg);
        const out = [];
        const line = (r) => ({ name: r.name, type: r.type, ttl: r.ttl, text: r.data.text ?? null, presentation: dns.presentation(r) });
        for (const set of sets) {
          const signer = await ed25519.signerFromSeed(bytes(set.seed));
          const origin = zbase32.encode(signer.publicKey);
          const built = await packet.buildPacket(signer, set.records, { timestamp: BigInt(set.timestamp) });
          const size = packet.encodedSize(origin, set.records);
          const inputPresentations = set.records.map((r) => dns.presentation(r));
          const invalid = set.records.map((r) => dns.validateRecord(r, origin)).filter((v) => v !== null);
          const own = await packet.parseRelayPayload(signer.publicKey, built.payload);
          const theirs = set.uncompressed ? await packet.parseRelayPayload(signer.publicKey, bytes(set.uncompressed)) : { ok: true, records: null };
          out.push({
            payload: hex(built.payload),
            timestamp: String(built.timestamp),
            size,
            inputPresentations,
            invalid,
            own: own.ok ? own.records.map(line) : own.error,
            reencoded: own.ok ? hex(dns.encodeMessage(origin, own.records)) : null,
            theirs: theirs.ok ? theirs.records?.map(line) ?? null : theirs.error,
          });
        }
        return JSON.stringify(out);
        """;

    [Theory]
    [InlineData(CryptoMode.Native, 20261202)]
    [InlineData(CryptoMode.NoSubtle, 7)]
    public async Task Random_record_sets_sign_identically_in_the_page_and_the_core(CryptoMode mode, int seed)
    {
        var sets = new RecordSets(seed).Generate(SetCount);
        AssertCoverage(sets);
        var input = new JsonArray([.. sets.Select(s =>
        {
            var page = s.ToPage();
            var uncompressed = s.TrySign(compress: false);
            page["uncompressed"] = uncompressed is null ? null : Convert.ToHexStringLower(uncompressed.RelayPayload.Span);
            return (JsonNode)page;
        })]);
        await using var page = await CodecPage.OpenAsync(web, mode);

        var results = (await page.RunAsync(SignAndDecode, input.ToJsonString())).EnumerateArray().ToArray();

        Assert.Equal(sets.Count, results.Length);
        int uncompressedChecked = 0;
        for (int i = 0; i < sets.Count; i++)
        {
            var set = sets[i];
            var result = results[i];
            string context = $"set {i}: {set.ToPage().ToJsonString()}";
            var expected = set.Sign();
            using var keypair = Keypair.FromSecretKey(set.Seed);

            // Byte-identical to the core's packet: normalisation, compression and signature all agree.
            Assert.True(Convert.ToHexStringLower(expected.RelayPayload.Span) == result.GetProperty("payload").GetString(), context);
            Assert.Equal(set.Timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture), result.GetProperty("timestamp").GetString());
            Assert.Equal(expected.EncodedPacket.Length, result.GetProperty("size").GetInt32());
            Assert.Equal(0, result.GetProperty("invalid").GetArrayLength());

            // The page's packet verifies in the core and holds exactly the records entered.
            Assert.True(SignedPacket.TryFromRelayPayload(keypair.PublicKey, Convert.FromHexString(result.GetProperty("payload").GetString()!), out var fromPage, out var error), $"{error} {context}");
            var records = fromPage.AllResourceRecords;
            Assert.Equal(set.Records.Count, records.Count);
            for (int r = 0; r < records.Count; r++)
            {
                Assert.Equal(expected.AllResourceRecords[r].Name, records[r].Name);
                Assert.Equal(set.Records[r].Ttl, records[r].Ttl);
                Assert.Equal(DnsClass.IN, records[r].Class);
                Assert.True(set.Records[r].Data.Equals(records[r].Data), $"record {r}: {records[r]} {context}");
            }

            // Presentation of the entered data, of the page's decoding of its own packet and of the core's
            // uncompressed packet: all as the core's ToString().
            Assert.Equal(set.Records.Select(r => r.Data.ToString()), result.GetProperty("inputPresentations").EnumerateArray().Select(e => e.GetString()));
            AssertSameRecords(records, result.GetProperty("own"), context);
            if (result.GetProperty("theirs").ValueKind != JsonValueKind.Null)
            {
                uncompressedChecked++;
                AssertSameRecords(records, result.GetProperty("theirs"), context);
            }

            // Decoded records re-encode to the same message: decoding gave back exactly what was entered.
            Assert.Equal(Convert.ToHexStringLower(expected.EncodedPacket.Span), result.GetProperty("reencoded").GetString());
            var texts = result.GetProperty("own").EnumerateArray().Select(e => e.GetProperty("text")).ToArray();
            for (int r = 0; r < records.Count; r++)
            {
                if (records[r].Data is TxtData txt)
                {
                    Assert.Equal(txt.Text, texts[r].GetString());
                }
            }
        }

        Assert.True(uncompressedChecked > sets.Count / 2, $"{uncompressedChecked} uncompressed packets decoded");
    }

    [Fact]
    public async Task The_page_decodes_any_packet_the_core_accepts_as_the_core_prints_it()
    {
        using var keypair = Keypair.FromSecretKey(Convert.FromHexString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
        string origin = keypair.PublicKey.ToString();
        var key = DnsName.Parse(origin);
        DnsName Under(params string[] labels) => DnsName.FromLabels(labels.Select(System.Text.Encoding.UTF8.GetBytes)).Append(key);
        var odd = DnsName.FromLabels([[(byte)'a', (byte)'.', (byte)'b'], [(byte)' ', (byte)'"', (byte)'\\', (byte)';'], [0x80, 0xff, (byte)'x'], [.. System.Text.Encoding.UTF8.GetBytes("é\u00a0")]]).Append(key);
        RecordData[] data =
        [
            new SrvData(10, 20, 443, DnsName.Parse("srv.example.com")),
            new SoaData(DnsName.Parse("ns.example.com"), DnsName.Parse("admin.example.com"), 2026120201, 7200, 3600, 1209600, 300),
            new CaaData(0, "issue", "letsencrypt.org"u8),
            new CaaData(128, "iodef", [0x6d, 0xff, 0x22]),
            new PtrData(odd),
            new CnameData(odd),
            new UnknownData((RecordType)65280, [1, 2, 3]),
            new UnknownData(RecordType.A, []),
            new UnknownData(RecordType.TXT, []),
            new UnknownData((RecordType)99, [0xde, 0xad]),
            new TxtData([[0xff, 0xfe], [], [.. "\"q\"\\"u8], [0xe2, 0x82], [0xac]]),
            TxtData.FromStrings("one", "two", ""),
            SvcbData.Https(1, DnsName.Root).WithParam(0, [0, 3, 0, 1]).WithParam(1, [0, 2, (byte)'h', (byte)'2']).WithParam(3, [1, 187, 0]),
            SvcbData.Svcb(0, odd).WithParam(1, [2, 0xc3, 0x28]).WithParam(4, []).WithParam(6, []).WithParam(65535, [0x22, 0x20]),
            SvcbData.Https(2, DnsName.Parse("x.example")).WithMandatory(1, 65000).WithAlpn("h2", "a,b\\c", "\u00e9").WithEch([]),
            new AaaaData(System.Net.IPAddress.Parse("::ffff:0:0")),
            new AaaaData(System.Net.IPAddress.Parse("0:0:0:0:ffff:0:1.2.3.4")),
            new AaaaData(System.Net.IPAddress.Parse("1:0:0:2:0:0:0:3")),
            new AaaaData(System.Net.IPAddress.Parse("1:0:2:3:4:5:6:7")),
            new AaaaData(System.Net.IPAddress.Parse("fe80::5efe:0:0")),
            new MxData(0, DnsName.Root),
        ];
        var answers = data.Select((d, i) => new ResourceRecord(i % 3 == 0 ? odd : Under($"r{i}"), DnsClass.IN, (uint)i, d)).ToList();
        answers.Add(new ResourceRecord(key, DnsClass.CH, 5, new AData(System.Net.IPAddress.Parse("10.0.0.1"))) { CacheFlush = true });

        // A few records per message, so that each fits a packet even uncompressed; every message also carries a
        // question, an authority and an additional record, which the page must read past.
        var payloads = new List<string>();
        foreach (var chunk in answers.Chunk(4))
        {
            var message = new DnsMessage
            {
                Id = 0x1234,
                Flags = 0x8400,
                Questions = [new DnsQuestion(key, RecordType.TXT, DnsClass.IN)],
                Answers = chunk,
                Authorities = [new ResourceRecord(Under("ns"), DnsClass.IN, 1, new NsData(DnsName.Parse("ns1.example.com")))],
                Additionals = [new ResourceRecord(Under("glue"), DnsClass.IN, 1, new AData(System.Net.IPAddress.Parse("192.0.2.53")))],
            };
            foreach (bool compress in new[] { true, false })
            {
                byte[] dns = message.Encode(compress);
                Assert.True(dns.Length <= SignedPacket.MaxDnsLength, $"{dns.Length} bytes");
                payloads.Add(Convert.ToHexStringLower(Payload(keypair, new Timestamp(1_764_633_600_000_000), dns)));
            }
        }

        await using var page = await CodecPage.OpenAsync(web);

        var result = await page.RunAsync("""
            const out = [];
            for (const payload of arg.payloads) {
              const parsed = await packet.parseRelayPayload(bytes(arg.key), bytes(payload));
              out.push(parsed.ok ? parsed.records.map((r) => ({ name: r.name, type: r.type, ttl: r.ttl, presentation: dns.presentation(r),
                relative: dns.relativeName(arg.origin, r.name) })) : parsed.error);
            }
            return JSON.stringify(out);
            """, new { key = Convert.ToHexStringLower(keypair.PublicKey.Bytes), origin, payloads });

        var relative = new List<string?>();
        Assert.Equal(payloads.Count, result.GetArrayLength());
        foreach (var (decoded, payload) in result.EnumerateArray().Zip(payloads))
        {
            var packet = SignedPacket.FromRelayPayload(keypair.PublicKey, Convert.FromHexString(payload));
            AssertSameRecords(packet.AllResourceRecords, decoded, payload);
            relative.AddRange(decoded.EnumerateArray().Select(e => e.GetProperty("relative").GetString()));
        }

        // Names as a form shows them: '@' for the key, the part before it, and the name itself for labels
        // holding a dot (which text cannot tell apart from two labels).
        Assert.Contains("r1", relative);
        Assert.Contains("@", relative);
    }

    [Fact]
    public async Task Decoded_records_encode_back_to_the_same_bytes_whatever_their_type()
    {
        // The editor hands records it does not edit back as they were decoded: re-publishing must not change them.
        using var keypair = Keypair.FromSecretKey(Convert.FromHexString("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7"));
        var packet = SignedPacket.Builder()
            .Timestamp(new Timestamp(42))
            .Record("_sip._tcp", new SrvData(10, 20, 5060, DnsName.Parse("sip.example.com")), 60)
            .Record("@", new SoaData(DnsName.Parse("ns.example.com"), DnsName.Parse("admin.example.com"), 1, 2, 3, 4, 5), 60)
            .Record("@", new CaaData(0, "issue", "ca.example"u8), 60)
            .Record("@", new CaaData(0, "issue", [0xff, 0x00]), 60)
            .Record("@", new CaaData(0, "is-sue", "x"u8), 60)
            .Record("ptr", new PtrData(DnsName.Parse("ptr.example.com")), 60)
            .Record("@", new MxData(0, DnsName.Root), 60)
            .Record("@", new UnknownData((RecordType)65280, [1, 2, 3]), 60)
            .Record("@", new UnknownData(RecordType.A, []), 60)
            .Record("t", new TxtData([[0xff, 0xfe], [], [.. "ok"u8], [0xe2, 0x82], [0xac]]), 60)
            .Record("t", TxtData.FromStrings("a", "b"), 60)
            .Record("s", SvcbData.Https(1, DnsName.Root).WithParam(0, [0, 3, 0, 1]).WithParam(1, [0, 2, (byte)'h', (byte)'2']).WithParam(3, [1, 187, 0]), 60)
            .Record("s", SvcbData.Svcb(2, DnsName.Parse("svc.example")).WithMandatory(1, 3).WithAlpn("h2", "a,b").WithPort(8443).WithEch([1, 2, 3]).WithParam(65000, [9]), 60)
            .Sign(keypair);
        await using var page = await CodecPage.OpenAsync(web);

        var result = await page.RunAsync("""
            const key = bytes(arg.key);
            const parsed = await packet.parseRelayPayload(key, bytes(arg.payload));
            if (!parsed.ok) return JSON.stringify({ error: parsed.error });
            // Through JSON-like copies too, as a form keeps them (the decoded objects are not reused).
            const copied = parsed.records.map((r) => ({ ...r, data: { ...r.data } }));
            return JSON.stringify({
              again: hex(dns.encodeMessage(zbase32.encode(key), parsed.records)),
              copied: hex(dns.encodeMessage(zbase32.encode(key), copied)),
              presentations: parsed.records.map((r) => dns.presentation(r)),
              copiedPresentations: copied.map((r) => dns.presentation(r)),
            });
            """, new { key = Convert.ToHexStringLower(keypair.PublicKey.Bytes), payload = Convert.ToHexStringLower(packet.RelayPayload.Span) });

        string expected = Convert.ToHexStringLower(packet.EncodedPacket.Span);
        Assert.True(result.TryGetProperty("again", out var again), result.ToString());
        Assert.Equal(expected, again.GetString());
        Assert.Equal(expected, result.GetProperty("copied").GetString());
        var presentations = packet.AllResourceRecords.Select(r => r.Data.ToString()).ToArray();
        Assert.Equal(presentations, result.GetProperty("presentations").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(presentations, result.GetProperty("copiedPresentations").EnumerateArray().Select(e => e.GetString()));
    }

    /// <summary>A relay payload signed by the core for any DNS bytes: signature ‖ timestamp ‖ dns.</summary>
    internal static byte[] Payload(Keypair keypair, Timestamp timestamp, byte[] dns)
    {
        byte[] payload = new byte[72 + dns.Length];
        keypair.Sign(SignedPacket.Signable(timestamp, dns)).CopyTo(payload, 0);
        timestamp.WriteBigEndian(payload.AsSpan(64, 8));
        dns.CopyTo(payload, 72);
        return payload;
    }

    private static void AssertSameRecords(IReadOnlyList<ResourceRecord> expected, JsonElement actual, string context)
    {
        Assert.True(actual.ValueKind == JsonValueKind.Array, $"{actual} {context}");
        var lines = actual.EnumerateArray().ToArray();
        Assert.Equal(expected.Count, lines.Length);
        for (int r = 0; r < lines.Length; r++)
        {
            Assert.Equal(expected[r].Name.ToString(), lines[r].GetProperty("name").GetString());
            Assert.Equal(expected[r].TypeName, lines[r].GetProperty("type").GetString());
            Assert.Equal(expected[r].Ttl, lines[r].GetProperty("ttl").GetUInt32());
            Assert.True(expected[r].Data.ToString() == lines[r].GetProperty("presentation").GetString(),
                $"record {r}: C# [{expected[r].Data}] page [{lines[r].GetProperty("presentation").GetString()}] {context}");
        }
    }

    private static void AssertCoverage(List<RecordSet> sets)
    {
        // The generator must reach every case the issue names, or the comparison proves less than it claims.
        var records = sets.SelectMany(s => s.Records).ToList();
        foreach (string type in new[] { "A", "AAAA", "CNAME", "NS", "MX", "TXT", "HTTPS", "SVCB" })
        {
            Assert.Contains(records, r => r.Type == type);
        }

        var texts = records.Select(r => r.Data).OfType<TxtData>().Select(t => t.Text).ToList();
        Assert.Contains(texts, t => t.Length == 0);
        Assert.Contains(texts, t => System.Text.Encoding.UTF8.GetByteCount(t) > 255 && t.Any(c => c > 0x7f));
        var parameters = records.Select(r => r.Data).OfType<SvcbData>().SelectMany(s => s.Params).Select(p => p.Key).ToHashSet();
        Assert.Superset(new HashSet<ushort> { 0, 1, 2, 3, 4, 5, 6 }, parameters);
        Assert.Contains(parameters, k => k > 6);
        Assert.Contains(records, r => r.Name == "@");
        Assert.Contains(records, r => r.Name == "www");
        Assert.Contains(sets, s => s.Records.Any(r => r.Name.Length > 52 && r.Name.Contains(s.Sign().PublicKey.ToString(), StringComparison.Ordinal)));
    }
}
