using System.Text.Json;
using Pkarr.Keys;

namespace Pkarr.Tests.Keys;

public sealed class PublicKeyTests
{
    public static TheoryData<string, string> ZBase32Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var item in Vectors.Load().RootElement.GetProperty("zbase32").GetProperty("cases").EnumerateArray())
        {
            data.Add(item.GetProperty("bytes_hex").GetString()!, item.GetProperty("z32").GetString()!);
        }

        return data;
    }

    public static TheoryData<string, string?, string?> ParseCases()
    {
        var data = new TheoryData<string, string?, string?>();
        foreach (var item in Vectors.Load().RootElement.GetProperty("public_key_parse").EnumerateArray())
        {
            data.Add(
                item.GetProperty("input").GetString()!,
                item.TryGetProperty("ok", out var ok) ? ok.GetString() : null,
                item.TryGetProperty("error", out var error) ? error.GetString() : null);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ZBase32Cases))]
    public void ZBase32_encodes_and_decodes_the_vectors(string hex, string z32)
    {
        byte[] bytes = Convert.FromHexString(hex);
        Assert.Equal(z32, ZBase32.Encode(bytes));

        var decoded = new byte[32];
        Assert.True(ZBase32.TryDecode(z32, decoded, out int written));
        Assert.Equal(32, written);
        Assert.Equal(bytes, decoded);
    }

    [Theory]
    [MemberData(nameof(ParseCases))]
    public void Parse_accepts_and_rejects_like_the_reference(string input, string? okHex, string? error)
    {
        bool parsed = PublicKey.TryParse(input, out var key, out var failure);
        if (okHex is not null)
        {
            Assert.True(parsed, failure.Message);
            Assert.Equal(okHex, Convert.ToHexStringLower(key.Bytes));
        }
        else
        {
            Assert.False(parsed);
            Assert.Equal(error, failure.ToString());
            var thrown = Assert.Throws<InvalidPublicKeyException>(() => PublicKey.Parse(input));
            Assert.Equal(failure, thrown.Error);
        }
    }

    [Fact]
    public void Text_forms_match_the_reference_literals()
    {
        var key = PublicKey.Parse("yg4gxe7z1r7mr6orids9fh95y7gxhdsxjqi6nngsxxtakqaxr5no");
        Assert.Equal("yg4gxe7z1r7mr6orids9fh95y7gxhdsxjqi6nngsxxtakqaxr5no", key.ToString());
        Assert.Equal("pk:yg4gxe7z1r7mr6orids9fh95y7gxhdsxjqi6nngsxxtakqaxr5no", key.ToUri());

        var spki = Vectors.Load().RootElement.GetProperty("spki_der")[0];
        Assert.Equal(spki.GetProperty("der_hex").GetString(), Convert.ToHexStringLower(key.ToSpkiDer()));
    }

    [Fact]
    public void Dht_target_is_sha1_of_the_key()
    {
        foreach (var item in Vectors.Load().RootElement.GetProperty("dht_target").EnumerateArray())
        {
            var key = PublicKey.Parse(item.GetProperty("public_key_z32").GetString()!);
            Assert.Equal(item.GetProperty("target_sha1_hex").GetString(), Convert.ToHexStringLower(key.DhtTarget()));
        }
    }

    /// <summary>The 52nd character carries one data bit and four unused bits (spec §1.3): the 16 characters with
    /// the data bit of <paramref name="z32"/>'s last character, and the 16 with the other bit.</summary>
    private static (string[] Same, string[] Flipped) Spellings(string z32)
    {
        int index = ZBase32.Alphabet.IndexOf(z32[^1], StringComparison.Ordinal);
        string Spell(int i) => z32[..^1] + ZBase32.Alphabet[i];
        return ([.. Enumerable.Range(0, 16).Select(pad => Spell((index & 16) | pad))],
            [.. Enumerable.Range(0, 16).Select(pad => Spell((index & 16 ^ 16) | pad))]);
    }

    [Theory]
    [MemberData(nameof(ZBase32Cases))]
    public void Every_spelling_of_a_key_is_one_key_with_one_canonical_text(string hex, string z32)
    {
        // The reference ignores the unused bits (its vector c1bkg8…mbus decodes and fails only as a point), so
        // parsing accepts all 16 spellings; what makes them harmless is that a key is its bytes: equality,
        // hashing and every text form come from the bytes, so caches and stores keyed by the key, or by its
        // ToString(), see one entry.
        var (same, flipped) = Spellings(z32);
        Assert.Contains(z32, same);
        bool valid = PublicKey.TryFromBytes(Convert.FromHexString(hex), out var expected, out var pointError);
        var keys = new HashSet<PublicKey>();
        var texts = new HashSet<string>(StringComparer.Ordinal);
        foreach (string spelling in same)
        {
            Assert.Equal(valid, PublicKey.TryParse(spelling, out var key, out var error));
            if (!valid)
            {
                Assert.Equal(pointError, error);
                continue;
            }

            Assert.Equal(expected, key);
            Assert.Equal(expected.GetHashCode(), key.GetHashCode());
            Assert.Equal(z32, key.ToString());
            Assert.Equal("pk:" + z32, key.ToUri());
            Assert.Equal(PublicKey.Parse("pk:" + spelling), key);
            keys.Add(key);
            texts.Add(key.ToString());
        }

        Assert.Equal(valid ? 1 : 0, keys.Count);
        Assert.Equal(valid ? 1 : 0, texts.Count);

        // The other side: the data bit is not ignored, so the other 16 spellings are other bytes.
        foreach (string spelling in flipped)
        {
            var decoded = new byte[32];
            Assert.True(ZBase32.TryDecode(spelling, decoded, out _));
            Assert.NotEqual(hex, Convert.ToHexString(decoded), StringComparer.OrdinalIgnoreCase);
            if (PublicKey.TryParse(spelling, out var other, out _))
            {
                Assert.NotEqual(z32, other.ToString());
            }
        }

        // Upper case is still refused, canonical or not.
        Assert.False(PublicKey.TryParse(same[5].ToUpperInvariant(), out _, out var upper));
        Assert.Equal(PublicKeyErrorKind.InvalidPublicKeyEncoding, upper.Kind);
    }

    [Fact]
    public void Keys_sharing_a_prefix_do_not_share_hash_codes()
    {
        // Half of all 32-byte strings are valid keys, so anyone can make many keys with the same first bytes:
        // a hash read from those bytes would put them all in one bucket of a relay's or cache's hash set.
        var keys = new List<PublicKey>();
        var bytes = new byte[32];
        for (int attempt = 0; attempt < 10_000 && keys.Count < 1000; attempt++)
        {
            System.Security.Cryptography.RandomNumberGenerator.Fill(bytes);
            bytes.AsSpan(0, 8).Fill(0x42);
            if (PublicKey.TryFromBytes(bytes, out var key, out _))
            {
                keys.Add(key);
            }
        }

        Assert.Equal(1000, keys.Count);
        int distinct = keys.Select(k => k.GetHashCode()).Distinct().Count();
        Assert.True(distinct >= keys.Count - 3, $"{distinct} distinct hash codes for {keys.Count} keys");
    }

    [Fact]
    public void ISpanParsable_round_trips()
    {
        var key = Keypair.Random().PublicKey;
        Assert.Equal(key, ParseGeneric<PublicKey>(key.ToString()));
        Assert.True(key == PublicKey.FromBytes(key.Bytes));
        Assert.Equal(key.GetHashCode(), PublicKey.FromBytes(key.Bytes).GetHashCode());
    }

    [Fact]
    public void FromBytes_rejects_wrong_lengths_and_off_curve_points()
    {
        Assert.False(PublicKey.TryFromBytes(new byte[31], out _, out var shortError));
        Assert.Equal(new PublicKeyError(PublicKeyErrorKind.InvalidPublicKeyLength, 31), shortError);

        byte[] offCurve = Convert.FromHexString("6482a31e25b0007a31038ae9a2d3835afa10df86366fb3c4bacaf70a1e9f5867");
        Assert.False(PublicKey.TryFromBytes(offCurve, out _, out var pointError));
        Assert.Equal(PublicKeyErrorKind.InvalidEd25519PublicKey, pointError.Kind);
    }

    [Fact]
    public void Verify_checks_signatures()
    {
        using var keypair = Keypair.Random();
        byte[] message = "hello"u8.ToArray();
        byte[] signature = keypair.Sign(message);
        Assert.True(keypair.PublicKey.Verify(message, signature));
        signature[0] ^= 1;
        Assert.False(keypair.PublicKey.Verify(message, signature));
        Assert.False(keypair.PublicKey.Verify(message, signature.AsSpan(1)));
    }

    private static T ParseGeneric<T>(string text)
        where T : ISpanParsable<T> => T.Parse(text.AsSpan(), null);
}
