using Pkarr.Keys;

namespace Pkarr.Tests.Keys;

public sealed class KeypairTests
{
    // RFC 8032 §7.1, tests 1–3 and the 1023-byte test: secret key, public key, message, signature.
    public static TheoryData<string, string, string, string> Rfc8032 => new()
    {
        {
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "",
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        },
        {
            "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            "72",
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
        },
        {
            "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
            "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
            "af82",
            "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"
        },
    };

    [Theory]
    [MemberData(nameof(Rfc8032))]
    public void Rfc8032_vectors_sign_and_verify(string secretHex, string publicHex, string messageHex, string signatureHex)
    {
        using var keypair = Keypair.FromSecretKey(Convert.FromHexString(secretHex));
        Assert.Equal(publicHex, Convert.ToHexStringLower(keypair.PublicKey.Bytes));
        byte[] message = Convert.FromHexString(messageHex);
        byte[] signature = keypair.Sign(message);
        Assert.Equal(signatureHex, Convert.ToHexStringLower(signature));
        Assert.True(keypair.PublicKey.Verify(message, signature));
        Assert.Equal(secretHex, Convert.ToHexStringLower(keypair.SecretKey()));
    }

    [Fact]
    public void Keys_from_seed_match_the_vectors()
    {
        foreach (var item in Vectors.Load().RootElement.GetProperty("keys_from_seed").EnumerateArray())
        {
            byte[] seed = Convert.FromHexString(item.GetProperty("seed_hex").GetString()!);
            if (item.TryGetProperty("seed_z32", out var seedZ32))
            {
                // pkdns' legacy seed files hold the seed as z-base32.
                var decoded = new byte[32];
                Assert.True(ZBase32.TryDecode(seedZ32.GetString(), decoded, out _));
                Assert.Equal(seed, decoded);
            }

            using var keypair = Keypair.FromSecretKey(seed);
            if (item.TryGetProperty("public_key_hex", out var publicHex))
            {
                Assert.Equal(publicHex.GetString(), Convert.ToHexStringLower(keypair.PublicKey.Bytes));
            }

            Assert.Equal(item.GetProperty("public_key_z32").GetString(), keypair.PublicKey.ToString());
            if (item.TryGetProperty("spki_der_hex", out var der))
            {
                Assert.Equal(der.GetString(), Convert.ToHexStringLower(keypair.PublicKey.ToSpkiDer()));
            }
        }
    }

    [Fact]
    public void FromSecretKey_rejects_wrong_lengths()
    {
        Assert.Throws<ArgumentException>(() => Keypair.FromSecretKey(new byte[31]));
        Assert.Throws<ArgumentException>(() => Keypair.FromSecretKey(new byte[64]));
    }

    [Fact]
    public void Random_keypairs_differ()
    {
        using var a = Keypair.Random();
        using var b = Keypair.Random();
        Assert.NotEqual(a.PublicKey, b.PublicKey);
    }

    [Fact]
    public void Secret_key_file_round_trips_with_mode_0600()
    {
        string path = Path.Combine(Path.GetTempPath(), $"pkarr-test-{Guid.NewGuid():N}.key");
        try
        {
            File.WriteAllText(path, "stale content");
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
            using var keypair = Keypair.Random();
            keypair.WriteSecretKeyFile(path);

            string text = File.ReadAllText(path);
            Assert.Equal(64, text.Length);
            Assert.Equal(text, text.ToLowerInvariant());
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));

            using var read = Keypair.FromSecretKeyFile(path);
            Assert.Equal(keypair.PublicKey, read.PublicKey);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("  000102030405060708090A0B0C0D0E0F101112131415161718191a1b1c1d1e1f\n", null)]
    [InlineData("0001020", "Invalid hex string length")]
    [InlineData("zz", "Invalid hex string")]
    [InlineData("0001", "Invalid secret key length")]
    [InlineData("", "Invalid secret key length")]
    public void Secret_key_text_errors_are_the_reference_ones(string text, string? reason)
    {
        bool ok = Keypair.TryParseSecretKeyText(text, out var keypair, out string? error);
        Assert.Equal(reason is null, ok);
        Assert.Equal(reason, error);
        if (ok)
        {
            Assert.Equal("yqooxx9u3aemh8mo5wcqq16yufu6jitouq1o4za751dger1igghy", keypair!.PublicKey.ToString());
        }
    }

    [Fact]
    public void Reading_a_bad_file_throws_invalid_data_naming_the_file()
    {
        string path = Path.Combine(Path.GetTempPath(), $"pkarr-test-{Guid.NewGuid():N}.key");
        try
        {
            File.WriteAllText(path, "abc");
            var error = Assert.Throws<InvalidDataException>(() => Keypair.FromSecretKeyFile(path));
            Assert.Contains("Invalid hex string length", error.Message, StringComparison.Ordinal);
            Assert.Contains(path, error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
