// Hostile bytes for the page's decoder (spec §3.5): truncations at every length, crafted pointers, lying counts,
// malformed rdata, random mutations and garbage, and bad relay payloads. decodeMessage and parseRelayPayload
// must answer { ok: false, error } without throwing or hanging, and accept exactly what the C# core accepts.

using System.Text.Json;
using Pkarr.Dns;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Web.Tests.Codec;

[Collection(WebCollection.Name)]
public sealed class HostileInputTests(WebFixture web)
{
    // Each input is decoded inside its own try, so a throw is reported as such rather than ending the run.
    private const string DecodeAll = """
        return JSON.stringify(arg.map((h) => {
          try {
            const r = dns.decodeMessage(bytes(h));
            if (typeof r.ok !== 'boolean') return { threw: 'no ok field' };
            return r.ok
              ? { ok: true, records: r.records.map((x) => `${x.name} ${x.ttl} ${x.type} ${dns.presentation(x)}`) }
              : { ok: false, error: r.error };
          } catch (e) {
            return { threw: String(e) };
          }
        }));
        """;

    private const string Header = "0000 8000 0000 0001 0000 0000";
    private const string RecordA = "0001 0001 0000012c 0004 c0000201";

    public static TheoryData<string, string> Refused => new()
    {
        { "forward pointer", $"{Header} c00e {RecordA}" },
        { "pointer to itself", $"{Header} c00c {RecordA}" },
        { "pointer loop", $"{Header} 0161 c00c {RecordA}" },
        { "pointer into the middle of a label", "0000 8000 0001 0001 0000 0000 0161 c00d 00010001 c00c " + RecordA },
        { "second hop not before the first target", "0000 8000 0001 0001 0000 0000 0100 c00d 00010001 c00c " + RecordA },
        { "pointer cut off", $"{Header} c0" },
        { "label length 0x40", $"{Header} 40{new string('a', 128)} 00 {RecordA}" },
        { "label length 0x80", $"{Header} 8001 00 {RecordA}" },
        { "name of 256 bytes", $"{Header} {string.Concat(Enumerable.Repeat("3f" + new string('b', 126), 4))} 00 {RecordA}" },
        {
            "name of 256 bytes through pointers",
            "0000 8000 0004 0000 0000 0000 3f" + new string('a', 126) + "00 00010001 3f" + new string('a', 126)
                + "c00c 00010001 3f" + new string('a', 126) + "c051 00010001 3f" + new string('a', 126) + "c097 00010001"
        },
        { "huge counts, few bytes", "0000 8000 ffff ffff ffff ffff 00 00010001 00 00010001 00" },
        { "huge answer count, no bytes", "0000 8000 0000 ffff 0000 0000" },
        { "reserved Z flag", $"0000 8040 0000 0001 0000 0000 00 {RecordA}" },
        { "class 5", $"{Header} 00 0001 0005 0000012c 0004 c0000201" },
        { "question class 6", "0000 8000 0001 0000 0000 0000 00 0001 0006" },
        { "OPT record not at the root", $"{Header} 016100 0029 1000 00000000 0000" },
        { "OPT option past its record", $"{Header} 00 0029 1000 00000000 0004 000a 0005" },
        { "rdlength past the end", $"{Header} 00 0001 0001 0000012c 0008 c0000201" },
        { "short A record", $"{Header} 00 0001 0001 0000012c 0003 c00002" },
        { "TXT string past its record", $"{Header} 00 0010 0001 0000012c 0003 056162" },
        { "SvcParams out of order", $"{Header} 00 0041 0001 0000012c 0010 0001 00 0003 0002 01bb 0001 0003 026832" },
        { "SvcParam repeated", $"{Header} 00 0040 0001 0000012c 000f 0001 00 0003 0002 01bb 0003 0002 01bb" },
        { "SvcParam past its record", $"{Header} 00 0041 0001 0000012c 0009 0001 00 0003 0004 01bb" },
        { "ech length prefix wrong", $"{Header} 00 0041 0001 0000012c 000a 0001 00 0005 0003 0005aa" },
        { "alpn string past its value", $"{Header} 00 0041 0001 0000012c 000a 0001 00 0001 0003 0568 32" },
        { "mandatory of odd length", $"{Header} 00 0041 0001 0000012c 0008 0001 00 0000 0001 01" },
        { "CNAME running past its rdata", $"{Header} 00 0005 0001 0000012c 0002 0361 6263 00" },
        { "MX without exchange", $"{Header} 00 000f 0001 0000012c 0002 000a" },
        { "CAA tag past its record", $"{Header} 00 0101 0001 0000012c 0003 0005 61" },
        { "SOA cut short", $"{Header} 00 0006 0001 0000012c 0006 00 00 00000001" },
        { "empty", string.Empty },
        { "header cut", "0000 8000 0000 00" },
    };

    public static TheoryData<string, string> Accepted => new()
    {
        { "trailing bytes", $"{Header} 00 {RecordA} deadbeef" },
        { "cache-flush bit", $"{Header} 00 0001 8001 0000012c 0004 c0000201" },
        { "rdlength 0", $"{Header} 00 0001 0001 0000012c 0000" },
        { "A with extra rdata", $"{Header} 00 0001 0001 0000012c 0006 c0000201 ffff" },
        { "backward pointer in CNAME rdata", $"{Header} 0378797a 00 0005 0001 0000012c 0006 03616263 c00c" },
        { "upper-case name, no key", $"{Header} 03414243 00 {RecordA}" },
        { "any flags but Z, all sections", "1234 fbbf 0001 0001 0001 0001 00 0010 00ff 00 " + RecordA + " 00 0002 0001 00000001 0001 00 00 0001 0004 00000000 0004 7f000001" },
        { "OPT at the root in additional", "0000 8000 0000 0000 0000 0001 00 0029 1000 00000000 0008 000a 0004 01020304" },
        { "unknown type", $"{Header} 00 ff00 0001 00000001 0003 010203" },
        { "legacy name type (MB) with a pointer", $"{Header} 0378797a 00 0007 0001 0000012c 0002 c00c" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task Crafted_bad_messages_are_refused_in_words_as_the_core_refuses_them(string what, string hex)
    {
        byte[] message = Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal));
        Assert.False(DnsMessage.TryParse(message, out _, out _), $"the core accepts '{what}'");
        await using var page = await CodecPage.OpenAsync(web);

        var result = (await page.RunAsync(DecodeAll, new[] { Convert.ToHexStringLower(message) }))[0];

        Assert.False(result.TryGetProperty("threw", out var threw), $"{what}: threw {threw}");
        Assert.False(result.GetProperty("ok").GetBoolean(), what);
        Assert.StartsWith("not a valid DNS message: ", result.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Accepted))]
    public async Task Odd_but_valid_messages_are_accepted_as_the_core_accepts_them(string what, string hex)
    {
        byte[] message = Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal));
        Assert.True(DnsMessage.TryParse(message, out var parsed, out var error), $"the core refuses '{what}': {error}");
        await using var page = await CodecPage.OpenAsync(web);

        var result = (await page.RunAsync(DecodeAll, new[] { Convert.ToHexStringLower(message) }))[0];

        Assert.True(result.TryGetProperty("ok", out var ok) && ok.GetBoolean(), $"{what}: {result}");
        Assert.Equal(Lines(parsed), result.GetProperty("records").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task Every_truncation_and_random_mutation_is_judged_as_the_core_judges_it()
    {
        using var vectors = Pkarr.Tests.Vectors.Load();
        var originals = vectors.RootElement.GetProperty("signed_packets").EnumerateObject()
            .Select(p => Convert.FromHexString(p.Value.GetProperty("dns_packet_hex").GetString()!))
            .Where(d => d.Length > 12)
            .ToList();
        originals.AddRange(new RecordSets(99).Generate(6).Select(s => s.Sign().EncodedPacket.ToArray()));

        var random = new Random(1202);
        var inputs = new List<byte[]>();
        foreach (byte[] original in originals)
        {
            for (int length = 0; length < original.Length; length++)
            {
                inputs.Add(original[..length]);
            }

            for (int i = 0; i < 300; i++)
            {
                byte[] mutated = [.. original];
                for (int flips = random.Next(1, 4); flips > 0; flips--)
                {
                    mutated[random.Next(mutated.Length)] = (byte)random.Next(256);
                }

                inputs.Add(mutated);
            }
        }

        for (int i = 0; i < 500; i++)
        {
            // Garbage with a plausible header: small counts, so that the walk goes deep before failing.
            byte[] garbage = new byte[random.Next(0, 200)];
            random.NextBytes(garbage);
            if (garbage.Length >= 12)
            {
                garbage[2] &= 0xbf;
                for (int at = 4; at < 12; at += 2)
                {
                    garbage[at] = 0;
                    garbage[at + 1] = (byte)random.Next(4);
                }
            }

            inputs.Add(garbage);
        }

        await using var page = await CodecPage.OpenAsync(web);
        var results = (await page.RunAsync(DecodeAll, inputs.Select(Convert.ToHexStringLower).ToArray())).EnumerateArray().ToArray();

        Assert.Equal(inputs.Count, results.Length);
        int accepted = 0;
        int refused = 0;
        for (int i = 0; i < inputs.Count; i++)
        {
            var result = results[i];
            string hex = Convert.ToHexStringLower(inputs[i]);
            Assert.False(result.TryGetProperty("threw", out var threw), $"{hex}: threw {threw}");
            bool core = DnsMessage.TryParse(inputs[i], out var parsed, out var error);
            Assert.True(core == result.GetProperty("ok").GetBoolean(), $"{hex}: core {core} ({error}), page {result}");
            if (core)
            {
                accepted++;
                Assert.Equal(Lines(parsed!), result.GetProperty("records").EnumerateArray().Select(e => e.GetString()));
            }
            else
            {
                refused++;
                Assert.False(string.IsNullOrEmpty(result.GetProperty("error").GetString()));
            }
        }

        // Both sides of the rule are exercised.
        Assert.True(accepted > 100, $"{accepted} accepted");
        Assert.True(refused > 1000, $"{refused} refused");
    }

    [Theory]
    [InlineData(CryptoMode.Native)]
    [InlineData(CryptoMode.NoEd25519)]
    public async Task Bad_relay_payloads_are_refused_without_throwing(CryptoMode mode)
    {
        using var keypair = Keypair.FromSecretKey(Convert.FromHexString("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"));
        using var other = Keypair.Random();
        var timestamp = new Timestamp(1_700_000_000_000_000);
        var good = SignedPacket.Builder().Timestamp(timestamp).Txt("_t", "hello", 30).Sign(keypair).RelayPayload.ToArray();
        byte[] Flip(int at)
        {
            byte[] copy = [.. good];
            copy[at] ^= 0x01;
            return copy;
        }

        byte[] notPoint = Convert.FromHexString("6482a31e25b0007a31038ae9a2d3835afa10df86366fb3c4bacaf70a1e9f5867");
        var cases = new List<(string What, byte[] Key, byte[] Payload, string Error)>
        {
            ("good", keypair.PublicKey.Bytes.ToArray(), good, string.Empty),
            ("empty", keypair.PublicKey.Bytes.ToArray(), [], "at least 72"),
            ("71 bytes", keypair.PublicKey.Bytes.ToArray(), good[..71], "at least 72"),
            ("oversize", keypair.PublicKey.Bytes.ToArray(), [.. good, .. new byte[1073 - good.Length]], "at most 1072"),
            ("signature bit", keypair.PublicKey.Bytes.ToArray(), Flip(3), "signature"),
            ("timestamp bit", keypair.PublicKey.Bytes.ToArray(), Flip(70), "signature"),
            ("dns bit", keypair.PublicKey.Bytes.ToArray(), Flip(good.Length - 1), "signature"),
            ("other key", other.PublicKey.Bytes.ToArray(), good, "signature"),
            ("key not a point", notPoint, good, "not an Ed25519 public key"),
            ("signed garbage", keypair.PublicKey.Bytes.ToArray(), RoundTripTests.Payload(keypair, timestamp, [0, 0, 0x80, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0xc0, 0x0c]), "not a valid DNS message"),
            ("signed 12 bytes", keypair.PublicKey.Bytes.ToArray(), RoundTripTests.Payload(keypair, timestamp, [0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0]), string.Empty),
        };
        for (int length = 72; length < good.Length; length++)
        {
            cases.Add(($"cut at {length}", keypair.PublicKey.Bytes.ToArray(), good[..length], "signature"));
        }

        await using var page = await CodecPage.OpenAsync(web, mode);
        var results = (await page.RunAsync("""
            const out = [];
            for (const c of arg) {
              try {
                const r = await packet.parseRelayPayload(bytes(c.key), bytes(c.payload));
                out.push(r.ok ? { ok: true, records: r.records.length, timestamp: String(r.timestamp) } : { ok: false, error: r.error });
              } catch (e) {
                out.push({ threw: String(e) });
              }
            }
            for (const odd of [null, undefined, 'text', [1, 2, 3], new ArrayBuffer(100)]) {
              try {
                const r = await packet.parseRelayPayload(new Uint8Array(32), odd);
                out.push(r.ok ? { ok: true } : { ok: false, error: r.error });
              } catch (e) {
                out.push({ threw: String(e) });
              }
            }
            return JSON.stringify(out);
            """, cases.Select(c => new { key = Convert.ToHexStringLower(c.Key), payload = Convert.ToHexStringLower(c.Payload) }).ToArray()))
            .EnumerateArray().ToArray();

        Assert.Equal(cases.Count + 5, results.Length);
        for (int i = 0; i < results.Length; i++)
        {
            Assert.False(results[i].TryGetProperty("threw", out var threw), $"{i}: threw {threw}");
        }

        for (int i = 0; i < cases.Count; i++)
        {
            var (what, key, payload, error) = cases[i];
            bool core = PublicKey.TryFromBytes(key, out var publicKey, out _)
                && SignedPacket.TryFromRelayPayload(publicKey, payload, out _, out _);
            bool inPage = results[i].GetProperty("ok").GetBoolean();
            Assert.True(core == inPage, $"{what}: core {core}, page {results[i]}");
            Assert.True(inPage == (error.Length == 0), $"{what}: {results[i]}");
            if (!inPage)
            {
                Assert.Contains(error, results[i].GetProperty("error").GetString(), StringComparison.Ordinal);
            }
        }

        Assert.Equal("1700000000000000", results[0].GetProperty("timestamp").GetString());
        Assert.All(results[^5..], r => Assert.False(r.GetProperty("ok").GetBoolean()));
    }

    private static IEnumerable<string> Lines(DnsMessage message)
        => message.Answers.Select(r => $"{r.Name} {r.Ttl} {r.TypeName} {r.Data}");
}
