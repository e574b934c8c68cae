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

    [Fact]
    public void Non_canonical_last_character_decodes_but_formats_canonically()
    {
        // The 52nd character carries one data bit; its four low bits are ignored on decode (spec §1.3).
        const string canonical = "yg4gxe7z1r7mr6orids9fh95y7gxhdsxjqi6nngsxxtakqaxr5no";
        string noisy = canonical[..^1] + "y"; // 'o' = 16 (10000), 'y' = 0 (00000): differs in the data bit
        string padded = canonical[..^1] + "t"; // 't' = 17 (10001): same data bit, non-zero padding
        Assert.True(PublicKey.TryParse(padded, out var key));
        Assert.Equal(canonical, key.ToString());
        Assert.NotEqual(canonical, PublicKey.TryParse(noisy, out var other) ? other.ToString() : canonical);
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
