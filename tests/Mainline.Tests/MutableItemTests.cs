using System.Text;
using CsCheck;

namespace Mainline.Tests;

public sealed class MutableItemTests
{
    private static byte[] H(string hex) => Convert.FromHexString(hex);

    private static readonly byte[] Value = Encoding.ASCII.GetBytes("Hello World!");

    [Fact]
    public void Immutable_target_vector()
    {
        Assert.Equal("e5f96f6f38320f0f33959cb4d3d656452117aadb", Bep44.ImmutableTarget(Encoding.ASCII.GetBytes("12:Hello World!")).ToString());
    }

    [Theory]
    [InlineData("", "4a533d47ec9c7d95b1ad75f576cffc641853b750", "305ac8aeb6c9c151fa120f120ea2cfb923564e11552d06a5d856091e5e853cff1260d3f39e4999684aa92eb73ffd136e6f4f3ecbfda0ce53a1608ecd7ae21f01")]
    [InlineData("foobar", "411eba73b6f087ca51a3795d9c8c938d365e32c1", "6834284b6b24c3204eb2fea824d82f88883a3d95e8b4a21b8c0ded553d17d17ddf9a8a7104b1258f30bed3787e6cb896fca78c58f8e03b5f18f14951a87d9a08")]
    public void Bep44_vectors_verify(string salt, string target, string signature)
    {
        var key = H("77ff84905a91936367c01360803104f92432fcd904a43511876df5cdf3e7e548");
        var saltBytes = Encoding.ASCII.GetBytes(salt);
        Assert.Equal(target, MutableItem.TargetOf(key, saltBytes).ToString());
        Assert.True(MutableItem.TryFromSigned(key, saltBytes, 1, Value, H(signature), out var item));
        Assert.Equal(target, item!.Target.ToString());
        Assert.False(MutableItem.TryFromSigned(key, saltBytes, 2, Value, H(signature), out _));
    }

    [Fact]
    public void Signable_buffer_layout()
    {
        Assert.Equal("3:seqi4e1:v12:Hello world!", Encoding.ASCII.GetString(Bep44.SignableBuffer(null, 4, Encoding.ASCII.GetBytes("12:Hello world!"))));
        Assert.Equal("4:salt6:foobar3:seqi4e1:v12:Hello world!", Encoding.ASCII.GetString(Bep44.SignableBuffer(Encoding.ASCII.GetBytes("foobar"), 4, Encoding.ASCII.GetBytes("12:Hello world!"))));
        Assert.Equal("3:seqi4e1:v1:x", Encoding.ASCII.GetString(Bep44.SignableBuffer([], 4, Encoding.ASCII.GetBytes("1:x"))));
    }

    [Theory]
    [InlineData("", "344cb32c2e9b728318adc57c49e2a39933bd4120", "30aad7932718219080172f75279d12d524680e121556e4e706e3cb4d22f4242cb6ac64837139179104f3a46705b8941542bac4e94729799abdf766a770dae608")]
    [InlineData("salt", "eedaa0daefc32819968fee48bffb2d0bf22b3217", "e377db45f89f94073bbe520784c15e26dd0a988c5df71b3aaf8962a3a0b9c90269850ec616f1dfb5640813e9577a769f0b4b60ca6faf05f0e6812a1bb2a4b503")]
    public void Seed_vectors_sign(string salt, string target, string signature)
    {
        var seed = H("38ab3e55693a9bd1bd083b6d895454c9dd7307e47f4604ccb6404d625cd71b67");
        var item = MutableItem.Sign(seed, Value, 1000, Encoding.ASCII.GetBytes(salt));
        Assert.Equal("cf34cfef0cd4944d1026593fcae2df346aa9f47fe776e95267af30e081300f5b", Convert.ToHexStringLower(item.Key.Span));
        Assert.Equal(target, item.Target.ToString());
        Assert.Equal(signature, Convert.ToHexStringLower(item.Signature.Span));
        Assert.Equal(Value, item.Value.ToArray());
    }

    [Fact]
    public void Limits_are_enforced()
    {
        var seed = new byte[32];
        Assert.Throws<ArgumentException>(() => MutableItem.Sign(seed, new byte[1001], 1));
        Assert.Throws<ArgumentException>(() => MutableItem.Sign(seed, Value, 1, new byte[65]));
        Assert.Throws<ArgumentException>(() => MutableItem.Sign(seed, Value, -1));
        Assert.Throws<ArgumentException>(() => MutableItem.Sign(new byte[31], Value, 1));
        MutableItem.Sign(seed, new byte[1000], 1, new byte[64]);
    }

    [Fact]
    public void Garbage_keys_and_signatures_never_throw()
    {
        Gen.Select(Gen.Byte.Array[32], Gen.Byte.Array[64]).Sample((k, s) =>
        {
            Assert.False(MutableItem.TryFromSigned(k, default, 1, Value, s, out _));
        }, iter: 2_000);
    }

    [Fact]
    public void Most_recent_order()
    {
        var seed = new byte[32];
        var a = MutableItem.Sign(seed, "a"u8, 2);
        var b = MutableItem.Sign(seed, "b"u8, 2);
        var c = MutableItem.Sign(seed, "a"u8, 3);
        Assert.True(b.IsMoreRecentThan(a));
        Assert.True(c.IsMoreRecentThan(b));
        Assert.False(a.IsMoreRecentThan(a));
    }
}
