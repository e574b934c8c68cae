// What the publish form relies on: invalid input is refused with the record and the field it concerns (and the
// same input passes when corrected), the size limit is enforced with the size, names normalise as the vectors say,
// timestamps only go up, and 32-byte keys are judged as the C# core judges them.

using System.Text.Json;
using Pkarr.Keys;

namespace Pkarr.Web.Tests.Codec;

[Collection(WebCollection.Name)]
public sealed class InputTests(WebFixture web)
{
    public static TheoryData<string, string, string> Invalid => new()
    {
        { """{ "name": "www", "type": "A", "ttl": 60, "data": { "address": "192.0.2.300" } }""", "address", "not an IPv4 address" },
        { """{ "name": "www", "type": "A", "ttl": 60, "data": { "address": "2001:db8::1" } }""", "address", "not an IPv4 address" },
        { """{ "name": "www", "type": "AAAA", "ttl": 60, "data": { "address": "2001:db8:::1" } }""", "address", "not an IPv6 address" },
        { """{ "name": "www", "type": "AAAA", "ttl": 60, "data": { "address": "fe80::1%eth0" } }""", "address", "not an IPv6 address" },
        { """{ "name": "www", "type": "A", "ttl": -1, "data": { "address": "192.0.2.1" } }""", "ttl", "0 to 4294967295" },
        { """{ "name": "www", "type": "A", "ttl": 4294967296, "data": { "address": "192.0.2.1" } }""", "ttl", "0 to 4294967295" },
        { """{ "name": "www", "type": "A", "ttl": 1.5, "data": { "address": "192.0.2.1" } }""", "ttl", "whole number" },
        { """{ "name": "www", "type": "NOPE", "ttl": 60, "data": {} }""", "type", "not a record type" },
        { $$"""{ "name": "{{new string('a', 64)}}", "type": "A", "ttl": 60, "data": { "address": "192.0.2.1" } }""", "name", "the limit is 63" },
        { $$"""{ "name": "{{string.Join('.', Enumerable.Repeat(new string('a', 60), 4))}}", "type": "A", "ttl": 60, "data": { "address": "192.0.2.1" } }""", "name", "255 bytes" },
        { """{ "name": "my host", "type": "A", "ttl": 60, "data": { "address": "192.0.2.1" } }""", "name", "space" },
        { $$"""{ "name": "@", "type": "CNAME", "ttl": 60, "data": { "target": "{{new string('c', 64)}}.example" } }""", "target", "the limit is 63" },
        { """{ "name": "@", "type": "MX", "ttl": 60, "data": { "preference": 65536, "exchange": "mail.example.com" } }""", "preference", "0 to 65535" },
        { """{ "name": "@", "type": "HTTPS", "ttl": 60, "data": { "priority": 1, "target": ".", "params": { "port": 70000 } } }""", "port", "0 to 65535" },
        { """{ "name": "@", "type": "HTTPS", "ttl": 60, "data": { "priority": -1, "target": ".", "params": {} } }""", "priority", "0 to 65535" },
        { """{ "name": "@", "type": "HTTPS", "ttl": 60, "data": { "priority": 1, "target": ".", "params": { "alpn": [] } } }""", "alpn", "at least one" },
        { """{ "name": "@", "type": "HTTPS", "ttl": 60, "data": { "priority": 1, "target": ".", "params": { "alpn": ["h2", ""] } } }""", "alpn", "1 to 255 bytes" },
        { """{ "name": "@", "type": "HTTPS", "ttl": 60, "data": { "priority": 1, "target": ".", "params": { "ipv4hint": ["192.0.2.1", "nope"] } } }""", "ipv4hint", "not an IPv4 address" },
        { """{ "name": "@", "type": "HTTPS", "ttl": 60, "data": { "priority": 1, "target": ".", "params": { "ipv6hint": "192.0.2.1" } } }""", "ipv6hint", "not an IPv6 address" },
        { """{ "name": "@", "type": "HTTPS", "ttl": 60, "data": { "priority": 1, "target": ".", "params": { "ech": "%%%" } } }""", "ech", "not base64" },
        { """{ "name": "@", "type": "HTTPS", "ttl": 60, "data": { "priority": 1, "target": ".", "params": { "ech": "AAUB" } } }""", "ech", "ECHConfigList" },
        { """{ "name": "@", "type": "HTTPS", "ttl": 60, "data": { "priority": 1, "target": ".", "params": { "mandatory": ["nope"] } } }""", "mandatory", "unknown key" },
        { """{ "name": "@", "type": "HTTPS", "ttl": 60, "data": { "priority": 1, "target": ".", "params": { "colour": "blue" } } }""", "colour", "not a SvcParam key" },
        { """{ "name": "@", "type": "HTTPS", "ttl": 60, "data": { "priority": 1, "target": ".", "params": { "port": 443, "key3": "x" } } }""", "key3", "given twice" },
        { """{ "name": "@", "type": "TXT", "ttl": 60, "data": {} }""", "text", "needs text" },
        { """{ "name": "@", "type": "TXT", "ttl": 60, "data": null }""", "rdata", "no data" },
        { """{ "name": "@", "type": "TYPE65280", "ttl": 60, "data": {} }""", "rdata", "raw rdata" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public async Task Invalid_records_are_refused_with_the_record_and_field(string record, string field, string words)
    {
        await using var page = await CodecPage.OpenAsync(web);
        var result = await page.RunAsync("""
            const bad = JSON.parse(arg);
            const good = { name: 'ok', type: 'TXT', ttl: 1, data: { text: 'fine' } };
            const origin = zbase32.encode(new Uint8Array(32));
            let thrown = null;
            try {
              dns.encodeMessage(origin, [good, bad]);
            } catch (e) {
              thrown = { name: e.name, isInputError: e instanceof dns.DnsInputError, index: e.index, field: e.field, message: e.message };
            }
            let sizeThrown = null;
            try {
              packet.encodedSize(origin, [bad]);
            } catch (e) {
              sizeThrown = e instanceof dns.DnsInputError;
            }
            return JSON.stringify({ thrown, sizeThrown, check: dns.validateRecord(bad, origin), goodCheck: dns.validateRecord(good) });
            """, record);

        var thrown = result.GetProperty("thrown");
        Assert.True(thrown.ValueKind == JsonValueKind.Object, "encodeMessage accepted it");
        Assert.True(thrown.GetProperty("isInputError").GetBoolean(), thrown.ToString());
        Assert.Equal(1, thrown.GetProperty("index").GetInt32());
        Assert.Equal(field, thrown.GetProperty("field").GetString());
        Assert.Contains(words, thrown.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.True(result.GetProperty("sizeThrown").GetBoolean());
        Assert.Equal(field, result.GetProperty("check").GetProperty("field").GetString());
        Assert.Equal(thrown.GetProperty("message").GetString(), result.GetProperty("check").GetProperty("message").GetString());
        Assert.Equal(JsonValueKind.Null, result.GetProperty("goodCheck").ValueKind);
    }

    [Fact]
    public async Task Form_values_in_text_are_read_and_lists_may_be_comma_separated()
    {
        await using var page = await CodecPage.OpenAsync(web);
        var result = await page.RunAsync("""
            const origin = zbase32.encode(new Uint8Array(32));
            const typed = [
              { name: 'www', type: 'A', ttl: '300', data: { address: ' 192.0.2.1 ' } },
              { name: '@', type: 'HTTPS', ttl: 60, data: { priority: '1', target: '.', params: {
                alpn: 'h2, h3', port: '443', ipv4hint: '192.0.2.1,192.0.2.2', 'no-default-alpn': false, ech: null, mandatory: undefined } } },
            ];
            const parsed = [
              { name: 'www', type: 'A', ttl: 300, data: { address: '192.0.2.1' } },
              { name: '@', type: 'HTTPS', ttl: 60, data: { priority: 1, target: '.', params: { alpn: ['h2', 'h3'], port: 443, ipv4hint: ['192.0.2.1', '192.0.2.2'] } } },
            ];
            return JSON.stringify({
              typed: hex(dns.encodeMessage(origin, typed)),
              parsed: hex(dns.encodeMessage(origin, parsed)),
              presentation: typed.map((r) => dns.presentation(r)),
            });
            """);

        Assert.Equal(result.GetProperty("parsed").GetString(), result.GetProperty("typed").GetString());
        Assert.Equal(["192.0.2.1", "1 . alpn=\"h2,h3\" port=443 ipv4hint=192.0.2.1,192.0.2.2"], result.GetProperty("presentation").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task Packets_over_1000_bytes_are_refused_with_their_size_and_1000_bytes_pass()
    {
        await using var page = await CodecPage.OpenAsync(web);
        var result = await page.RunAsync("""
            const signer = await ed25519.signerFromSeed(new Uint8Array(32).fill(7));
            const origin = zbase32.encode(signer.publicKey);
            // One apex TXT record of n bytes of text: the largest n that fits is found by measuring.
            const records = (n) => [{ name: '@', type: 'TXT', ttl: 60, data: { text: 'x'.repeat(n) } }];
            let fits = 0;
            for (let n = 0; packet.encodedSize(origin, records(n)) <= packet.MAX_DNS_BYTES; n++) fits = n;
            const atLimit = await packet.buildPacket(signer, records(fits), { timestamp: 5n });
            let error = null;
            try {
              await packet.buildPacket(signer, records(fits + 1), { timestamp: 5n });
            } catch (e) {
              error = { isTooLarge: e instanceof packet.PacketTooLargeError, size: e.size, message: e.message };
            }
            const times = Array.from({ length: 2000 }, () => packet.nowMicros());
            const increasing = times.every((t, i) => i === 0 || t > times[i - 1]);
            const wall = BigInt(Date.now()) * 1000n;
            return JSON.stringify({ atLimit: atLimit.dns.length, payload: atLimit.payload.length, error, increasing,
              nearWall: times[times.length - 1] > wall - 5000000n && times[times.length - 1] < wall + 5000000n,
              defaultTimestamp: String((await packet.buildPacket(signer, [])).timestamp > times[times.length - 1]) });
            """);

        Assert.Equal(1000, result.GetProperty("atLimit").GetInt32());
        Assert.Equal(1072, result.GetProperty("payload").GetInt32());
        var error = result.GetProperty("error");
        Assert.True(error.GetProperty("isTooLarge").GetBoolean());
        Assert.Equal(1001, error.GetProperty("size").GetInt32());
        Assert.Contains("1001 bytes", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.True(result.GetProperty("increasing").GetBoolean());
        Assert.True(result.GetProperty("nearWall").GetBoolean());
        Assert.Equal("true", result.GetProperty("defaultTimestamp").GetString());
    }

    [Fact]
    public async Task Owner_names_normalise_as_the_vectors_say_and_read_back_relative()
    {
        using var vectors = Pkarr.Tests.Vectors.Load();
        var normalize = vectors.RootElement.GetProperty("normalize_name");
        string origin = normalize.GetProperty("origin").GetString()!;
        var cases = normalize.GetProperty("cases").EnumerateArray().Select(c => new[] { c[0].GetString()!, c[1].GetString()! }).ToArray();
        Assert.NotEmpty(cases);
        await using var page = await CodecPage.OpenAsync(web);

        var result = await page.RunAsync("""
            const o = arg.origin;
            return JSON.stringify({
              normalized: arg.cases.map(([name]) => dns.normalizeName(o, name)),
              relative: [o, `www.${o}`, `a.b.${o}`, 'example.com', '', `x${o}`].map((n) => dns.relativeName(o, n)),
              extra: ['a..b', 'x..', `x.${o.toUpperCase()}`, 'foo.@', '@.'].map((n) => dns.normalizeName(o, n)),
            });
            """, new { origin, cases });

        Assert.Equal(cases.Select(c => c[1]), result.GetProperty("normalized").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["@", "www", "a.b", "example.com.", ".", $"x{origin}."], result.GetProperty("relative").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(
            [$"a.b.{origin}", $"x.{origin}", $"x.{origin.ToUpperInvariant()}.{origin}", origin, origin],
            result.GetProperty("extra").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task Random_32_byte_keys_are_judged_as_the_core_judges_them()
    {
        var random = new Random(32);
        var candidates = new List<byte[]>();
        for (int i = 0; i < 400; i++)
        {
            byte[] bytes = new byte[32];
            random.NextBytes(bytes);
            candidates.Add(bytes);
        }

        // Edge encodings: y = 0, 1, p - 1, p, p + 1 (non-canonical), 2^255 - 1, each with and without the sign bit.
        foreach (string y in new[]
        {
            "0000000000000000000000000000000000000000000000000000000000000000",
            "0100000000000000000000000000000000000000000000000000000000000000",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        })
        {
            byte[] bytes = Convert.FromHexString(y);
            candidates.Add(bytes);
            byte[] signed = [.. bytes];
            signed[31] |= 0x80;
            candidates.Add(signed);
        }

        await using var page = await CodecPage.OpenAsync(web);
        var result = await page.RunAsync("""
            return JSON.stringify(arg.map((h) => {
              const r = keys.parsePublicKey(zbase32.encode(bytes(h)));
              return { direct: ed25519.isPublicKey(bytes(h)), parsed: r.ok };
            }));
            """, candidates.Select(Convert.ToHexStringLower).ToArray());

        var answers = result.EnumerateArray().ToArray();
        int valid = 0;
        for (int i = 0; i < candidates.Count; i++)
        {
            bool core = PublicKey.TryFromBytes(candidates[i], out _, out _);
            valid += core ? 1 : 0;
            string hex = Convert.ToHexStringLower(candidates[i]);
            Assert.True(core == answers[i].GetProperty("direct").GetBoolean(), $"{hex}: core {core}");
            Assert.True(core == answers[i].GetProperty("parsed").GetBoolean(), $"{hex}: core {core}");
        }

        Assert.InRange(valid, 100, candidates.Count - 100);
    }
}
