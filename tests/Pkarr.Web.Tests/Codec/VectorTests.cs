// The browser modules against the shared vectors (spec §10) and the C# core: z-base32, the key parse cascade,
// secret-key files, the signable, and the computed signed packets, which Ed25519's determinism lets us reproduce
// byte for byte with each backend (WebCrypto, and the noble fallback with and without crypto.subtle).

using System.Text.Json;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Web.Tests.Codec;

[Collection(WebCollection.Name)]
public sealed class VectorTests(WebFixture web)
{
    [Fact]
    public async Task Zbase32_matches_the_vectors_both_ways_and_refuses_what_the_reference_refuses()
    {
        using var vectors = Pkarr.Tests.Vectors.Load();
        var cases = vectors.RootElement.GetProperty("zbase32").GetProperty("cases").EnumerateArray()
            .Select(c => new { hex = c.GetProperty("bytes_hex").GetString(), z32 = c.GetProperty("z32").GetString() })
            .ToArray();
        Assert.NotEmpty(cases);
        await using var page = await CodecPage.OpenAsync(web);

        var result = await page.RunAsync("""
            const decoded = (t) => { const b = zbase32.decode(t); return b === null ? null : hex(b); };
            return JSON.stringify({
              encoded: arg.map((c) => zbase32.encode(bytes(c.hex))),
              decoded: arg.map((c) => decoded(c.z32)),
              upper: decoded(arg[0].z32.toUpperCase()),
              padded: decoded(arg[0].z32 + '='),
              nonCanonical: decoded('c1bkg8tfsyy8wcedtmw4fwhdmm7bbzhgg3z58tf43m5ow8w9mbus'),
              lengths: [0, 1, 2, 7, 8, 51, 52, 53].map((n) => zbase32.decode('y'.repeat(n)).length),
              empty: zbase32.encode(new Uint8Array(0)),
            });
            """, cases);

        Assert.Equal(cases.Select(c => c.z32), result.GetProperty("encoded").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(cases.Select(c => c.hex), result.GetProperty("decoded").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(JsonValueKind.Null, result.GetProperty("upper").ValueKind);
        Assert.Equal(JsonValueKind.Null, result.GetProperty("padded").ValueKind);

        // Leftover bits are ignored, as the reference does: the non-canonical spelling still gives 32 bytes.
        Assert.Equal("6482a31e25b0007a31038ae9a2d3835afa10df86366fb3c4bacaf70a1e9f5867", result.GetProperty("nonCanonical").GetString());
        Assert.Equal([0, 0, 1, 4, 5, 31, 32, 33], result.GetProperty("lengths").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(string.Empty, result.GetProperty("empty").GetString());
    }

    [Fact]
    public async Task Public_keys_parse_as_the_vectors_and_the_csharp_core_say()
    {
        using var vectors = Pkarr.Tests.Vectors.Load();
        var cases = vectors.RootElement.GetProperty("public_key_parse").EnumerateArray().Select(c => new
        {
            input = c.GetProperty("input").GetString()!,
            ok = c.TryGetProperty("ok", out var ok) ? ok.GetString() : null,
            error = c.TryGetProperty("error", out var error) ? error.GetString() : null,
        }).ToArray();
        Assert.Contains(cases, c => c.ok is not null);
        Assert.Contains(cases, c => c.error is not null);

        // Whitespace around a key is not part of it; URLs with user-info, ports, paths and subdomains reduce to it.
        string key = cases.First(c => c.ok is not null).input;
        string[] extra = [$"  {key}\n", $"pk:{key}", $"https://a.b.{key}.:443/x?y#z", key[..51], key + "=", "pk:" + key[..49]];
        string[] inputs = [.. cases.Select(c => c.input), .. extra];
        await using var page = await CodecPage.OpenAsync(web);

        var result = await page.RunAsync("""
            return JSON.stringify(arg.map((t) => {
              const r = keys.parsePublicKey(t);
              return r.ok ? { ok: true, hex: hex(r.key), z32: r.z32 } : { ok: false, error: r.error };
            }));
            """, inputs);

        var answers = result.EnumerateArray().ToArray();
        Assert.Equal(inputs.Length, answers.Length);
        for (int i = 0; i < inputs.Length; i++)
        {
            var answer = answers[i];
            bool csharp = PublicKey.TryParse(inputs[i].Trim(), out var parsed, out var csError);
            Assert.True(csharp == answer.GetProperty("ok").GetBoolean(), $"'{inputs[i]}': C# {csharp}, page {answer}");
            if (csharp)
            {
                Assert.Equal(Convert.ToHexStringLower(parsed.Bytes), answer.GetProperty("hex").GetString());
                Assert.Equal(parsed.ToString(), answer.GetProperty("z32").GetString());
                continue;
            }

            // The page words the same error kind as the core's.
            string words = answer.GetProperty("error").GetString()!;
            Assert.StartsWith("not a key: ", words, StringComparison.Ordinal);
            string expected = csError.ToString() switch
            {
                "InvalidEd25519PublicKey" => "not an Ed25519 public key",
                "InvalidPublicKeyEncoding" => "is not a z-base32 character",
                "InvalidPublicKeyLength(0)" => "the text is empty",
                _ => "characters, a key is 52",
            };
            Assert.Contains(expected, words, StringComparison.Ordinal);
        }

        for (int i = 0; i < cases.Length; i++)
        {
            if (cases[i].ok is { } hex)
            {
                Assert.Equal(hex, answers[i].GetProperty("hex").GetString());
            }
            else
            {
                Assert.False(answers[i].GetProperty("ok").GetBoolean(), cases[i].input);
            }
        }

        Assert.Contains("(keys are lowercase)", answers.Single(a => !a.GetProperty("ok").GetBoolean()
            && a.GetProperty("error").GetString()!.Contains("'Y'", StringComparison.Ordinal)).GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(CryptoMode.Native, "webcrypto")]
    [InlineData(CryptoMode.NoEd25519, "noble")]
    [InlineData(CryptoMode.NoSubtle, "noble")]
    public async Task Signed_packet_vectors_are_reproduced_byte_for_byte(CryptoMode mode, string backend)
    {
        using var vectors = Pkarr.Tests.Vectors.Load();
        var packets = vectors.RootElement.GetProperty("signed_packets").EnumerateObject().Select(p => new
        {
            name = p.Name,
            seed = p.Value.GetProperty("seed_hex").GetString(),
            publicKey = p.Value.GetProperty("public_key_hex").GetString(),
            z32 = p.Value.GetProperty("public_key_z32").GetString(),
            timestamp = p.Value.GetProperty("timestamp").GetUInt64().ToString(System.Globalization.CultureInfo.InvariantCulture),
            compressed = p.Value.GetProperty("compressed").GetBoolean(),
            records = JsonSerializer.Serialize(p.Value.GetProperty("records").EnumerateArray().Select(PageRecord).ToArray()),
            dns = p.Value.GetProperty("dns_packet_hex").GetString(),
            signable = p.Value.GetProperty("signable_hex").GetString(),
            signature = p.Value.GetProperty("signature_hex").GetString(),
            payload = p.Value.GetProperty("relay_payload_hex").GetString(),
        }).ToArray();
        Assert.Contains(packets, p => !p.compressed);
        var seeds = vectors.RootElement.GetProperty("keys_from_seed").EnumerateArray()
            .Select(k => new
            {
                seed = k.GetProperty("seed_hex").GetString(),
                seedZ32 = k.TryGetProperty("seed_z32", out var z32) ? z32.GetString() : null,
                publicKey = k.GetProperty("public_key_z32").GetString(),
            })
            .ToArray();
        Assert.Contains(seeds, s => s.seedZ32 is not null);
        await using var page = await CodecPage.OpenAsync(web, mode);

        var result = await page.RunAsync("""
            const out = { backend: await ed25519.backend(), subtle: typeof crypto.subtle, keys: [], packets: [] };
            for (const k of arg.seeds) {
              const signer = await ed25519.signerFromSeed(bytes(k.seed));
              // The legacy pkdns seed file (z-base32 of the seed) reads to the same seed.
              const legacy = k.seedZ32 === null ? null : keys.parseSecretKey(k.seedZ32);
              out.keys.push({ publicKey: zbase32.encode(signer.publicKey), backend: signer.backend,
                legacy: legacy && (legacy.ok ? hex(legacy.seed) : legacy.error) });
            }
            for (const p of arg.packets) {
              const signer = await ed25519.signerFromSeed(bytes(p.seed));
              const records = revive(p.records);
              const built = p.compressed ? await packet.buildPacket(signer, records, { timestamp: BigInt(p.timestamp) }) : null;
              const parsed = await packet.parseRelayPayload(signer.publicKey, bytes(p.payload));
              out.packets.push({
                z32: zbase32.encode(signer.publicKey),
                signable: hex(packet.signable(BigInt(p.timestamp), bytes(p.dns))),
                signature: hex(await signer.sign(bytes(p.signable))),
                verifies: await ed25519.verify(signer.publicKey, bytes(p.signature), bytes(p.signable)),
                payload: built && hex(built.payload),
                dns: built && hex(built.dns),
                builtTimestamp: built && String(built.timestamp),
                parsed: parsed.ok ? { timestamp: String(parsed.timestamp), size: parsed.size, dns: hex(parsed.dns),
                  signature: hex(parsed.signature),
                  records: parsed.records.map((r) => `${r.name} ${r.ttl} IN ${r.type} ${dns.presentation(r)}`) } : parsed.error,
              });
            }
            return JSON.stringify(out);
            """, new { seeds, packets });

        Assert.Equal(backend, result.GetProperty("backend").GetString());
        Assert.Equal(mode == CryptoMode.NoSubtle ? "undefined" : "object", result.GetProperty("subtle").GetString());
        var keysOut = result.GetProperty("keys").EnumerateArray().ToArray();
        Assert.Equal(seeds.Select(s => s.publicKey), keysOut.Select(k => k.GetProperty("publicKey").GetString()));
        Assert.All(keysOut, k => Assert.Equal(backend, k.GetProperty("backend").GetString()));
        Assert.Equal(
            seeds.Select(s => s.seedZ32 is null ? null : s.seed),
            keysOut.Select(k => k.GetProperty("legacy").ValueKind == JsonValueKind.Null ? null : k.GetProperty("legacy").GetString()));

        var outs = result.GetProperty("packets").EnumerateArray().ToArray();
        Assert.Equal(packets.Length, outs.Length);
        for (int i = 0; i < packets.Length; i++)
        {
            var expected = packets[i];
            var actual = outs[i];
            Assert.Equal(expected.z32, actual.GetProperty("z32").GetString());
            Assert.Equal(expected.signable, actual.GetProperty("signable").GetString());
            Assert.Equal(expected.signature, actual.GetProperty("signature").GetString());
            Assert.True(actual.GetProperty("verifies").GetBoolean(), expected.name);
            if (expected.compressed)
            {
                Assert.Equal(expected.dns, actual.GetProperty("dns").GetString());
                Assert.Equal(expected.payload, actual.GetProperty("payload").GetString());
                Assert.Equal(expected.timestamp, actual.GetProperty("builtTimestamp").GetString());
            }

            // The page reads the vector's payload as the C# core does: same timestamp, records and presentation.
            var packet = SignedPacket.FromRelayPayload(PublicKey.Parse(expected.z32!), Convert.FromHexString(expected.payload!));
            var parsed = actual.GetProperty("parsed");
            Assert.True(parsed.ValueKind == JsonValueKind.Object, $"{expected.name}: {parsed}");
            Assert.Equal(expected.timestamp, parsed.GetProperty("timestamp").GetString());
            Assert.Equal(expected.dns, parsed.GetProperty("dns").GetString());
            Assert.Equal(expected.signature, parsed.GetProperty("signature").GetString());
            Assert.Equal(packet.EncodedPacket.Length, parsed.GetProperty("size").GetInt32());
            Assert.Equal(
                packet.AllResourceRecords.Select(r => $"{r.Name} {r.Ttl} IN {r.TypeName} {r.Data}"),
                parsed.GetProperty("records").EnumerateArray().Select(e => e.GetString()));
        }
    }

    [Theory]
    [InlineData(CryptoMode.Native)]
    [InlineData(CryptoMode.NoSubtle)]
    public async Task Secret_key_files_read_and_write_as_the_cli_does(CryptoMode mode)
    {
        using var keypair = Keypair.Random();
        byte[] seed = keypair.SecretKey();
        string directory = Directory.CreateTempSubdirectory("pkarr-web-codec-").FullName;
        try
        {
            string csFile = Path.Combine(directory, "cs.key");
            keypair.WriteSecretKeyFile(csFile);
            string written = await File.ReadAllTextAsync(csFile);
            string legacy = ZBase32Text(seed);
            string[] accepted = [written, $"  {written.ToUpperInvariant()}\r\n", $"\t{legacy}\n"];
            string[] refused = ["", "abc", written[..62], written + "00", "zz" + written[2..], written[..63]];
            await using var page = await CodecPage.OpenAsync(web, mode);

            var result = await page.RunAsync("""
                const read = (t) => { const r = keys.parseSecretKey(t); return r.ok ? { ok: true, seed: hex(r.seed) } : { ok: false, error: r.error }; };
                const seed = bytes(arg.seed);
                const signer = await ed25519.signerFromSeed(seed);
                const random = [ed25519.randomSeed(), ed25519.randomSeed()];
                return JSON.stringify({
                  accepted: arg.accepted.map(read),
                  refused: arg.refused.map(read),
                  file: keys.secretKeyFile(seed),
                  publicKey: hex(signer.publicKey),
                  random: random.map(hex),
                });
                """, new { seed = Convert.ToHexStringLower(seed), accepted, refused });

            Assert.All(result.GetProperty("accepted").EnumerateArray(), r =>
            {
                Assert.True(r.GetProperty("ok").GetBoolean(), r.ToString());
                Assert.Equal(Convert.ToHexStringLower(seed), r.GetProperty("seed").GetString());
            });
            Assert.All(result.GetProperty("refused").EnumerateArray(), r =>
            {
                Assert.False(r.GetProperty("ok").GetBoolean(), r.ToString());
                Assert.StartsWith("not a secret key: ", r.GetProperty("error").GetString(), StringComparison.Ordinal);
            });

            // What the page saves is what `pkarr keygen` writes, and the C# core reads it back to the same key.
            string pageFile = result.GetProperty("file").GetString()!;
            Assert.Equal(written, pageFile);
            string pagePath = Path.Combine(directory, "page.key");
            await File.WriteAllTextAsync(pagePath, pageFile);
            using var reread = Keypair.FromSecretKeyFile(pagePath);
            Assert.Equal(keypair.PublicKey, reread.PublicKey);
            Assert.Equal(Convert.ToHexStringLower(keypair.PublicKey.Bytes), result.GetProperty("publicKey").GetString());

            var random = result.GetProperty("random").EnumerateArray().Select(e => e.GetString()!).ToArray();
            Assert.All(random, r => Assert.Equal(64, r.Length));
            Assert.NotEqual(random[0], random[1]);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>A vector record in the page's form (spec vectors spell rdata as text or an object).</summary>
    private static object PageRecord(JsonElement record)
    {
        string type = record.GetProperty("type").GetString()!;
        var rdata = record.GetProperty("rdata");
        object data = type switch
        {
            "A" or "AAAA" => new { address = rdata.GetString() },
            "CNAME" or "NS" or "PTR" => new { target = rdata.GetString() },
            "TXT" => new { text = rdata.GetString() },
            _ => JsonSerializer.Deserialize<JsonElement>(rdata.GetRawText()),
        };
        return new { name = record.GetProperty("name").GetString(), type, ttl = record.GetProperty("ttl").GetUInt32(), data };
    }

    private static string ZBase32Text(byte[] bytes)
    {
        // The legacy pkdns seed file holds the seed in z-base32; the C# core's encoder is internal, so spell it here.
        const string alphabet = "ybndrfg8ejkmcpqxot1uwisza345h769";
        var text = new System.Text.StringBuilder();
        int buffer = 0;
        int bits = 0;
        foreach (byte b in bytes)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                bits -= 5;
                text.Append(alphabet[(buffer >> bits) & 31]);
            }

            buffer &= (1 << bits) - 1;
        }

        if (bits > 0)
        {
            text.Append(alphabet[(buffer << (5 - bits)) & 31]);
        }

        return text.ToString();
    }
}
