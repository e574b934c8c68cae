using System.Numerics;
using CsCheck;
using Pkarr.Keys;

namespace Pkarr.Tests.Keys;

public sealed class Ed25519PointTests
{
    private static readonly BigInteger P = BigInteger.Pow(2, 255) - 19;
    private static readonly BigInteger D = Mod(-121665 * BigInteger.ModPow(121666, P - 2, P));

    /// <summary>The textbook check with big integers: is (y^2 - 1) / (d y^2 + 1) a square mod p (Euler's criterion)?</summary>
    private static bool Oracle(ReadOnlySpan<byte> encoded)
    {
        Span<byte> yBytes = stackalloc byte[32];
        encoded.CopyTo(yBytes);
        yBytes[31] &= 0x7F;
        var y = Mod(new BigInteger(yBytes, isUnsigned: true));
        var y2 = y * y % P;
        var u = Mod(y2 - 1);
        var v = Mod((D * y2) + 1);
        if (u.IsZero)
        {
            return true;
        }

        var ratio = u * BigInteger.ModPow(v, P - 2, P) % P;
        return BigInteger.ModPow(ratio, (P - 1) / 2, P).IsOne;
    }

    private static BigInteger Mod(BigInteger value)
    {
        var r = value % P;
        return r.Sign < 0 ? r + P : r;
    }

    [Fact]
    public void Agrees_with_the_big_integer_oracle_on_random_bytes()
    {
        Gen.Byte.Array[32].Sample(bytes => Assert.Equal(Oracle(bytes), Ed25519Point.IsOnCurve(bytes)), iter: 20_000);
    }

    [Theory]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000")] // y = 0: x^2 = -1 has a root
    [InlineData("0100000000000000000000000000000000000000000000000000000000000000")] // the identity (0, 1)
    [InlineData("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")] // y = p - 1
    [InlineData("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")] // y = p: non-canonical 0
    [InlineData("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")] // y = p + 1: non-canonical 1
    [InlineData("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff")] // all ones, sign bit set
    [InlineData("6482a31e25b0007a31038ae9a2d3835afa10df86366fb3c4bacaf70a1e9f5867")] // the vector's off-curve key
    [InlineData("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")] // a small-order point
    public void Edge_cases_match_the_oracle(string hex)
    {
        byte[] bytes = Convert.FromHexString(hex);
        Assert.Equal(Oracle(bytes), Ed25519Point.IsOnCurve(bytes));
    }

    [Fact]
    public void Real_keys_are_on_the_curve()
    {
        for (int i = 0; i < 100; i++)
        {
            using var keypair = Keypair.Random();
            Assert.True(Ed25519Point.IsOnCurve(keypair.PublicKey.Bytes));
            Assert.True(Oracle(keypair.PublicKey.Bytes));
        }
    }

    [Fact]
    public void Wrong_lengths_are_not_points()
    {
        Assert.False(Ed25519Point.IsOnCurve(new byte[31]));
        Assert.False(Ed25519Point.IsOnCurve(new byte[33]));
    }
}
