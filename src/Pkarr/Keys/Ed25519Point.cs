// Ed25519 point decompression check (RFC 8032 §5.1.3), with the leniency of ed25519-dalek's
// `CompressedEdwardsY::decompress`, which the reference uses (spec §1.1): the y coordinate is the low 255
// bits reduced mod p (non-canonical encodings pass), the sign bit is never checked against x = 0, and
// small-order points are accepted. A key is valid when (y^2 - 1) / (d*y^2 + 1) is a square mod p.
//
// NSec's PublicKey.TryImport does not check this, so we do. It runs only when a key is parsed from text or
// raw bytes; signed-packet decoding verifies with libsodium first (which decompresses anyway) and runs this
// check only to classify a failure.

using System.Numerics;

namespace Pkarr.Keys;

internal static class Ed25519Point
{
    private static readonly BigInteger P = BigInteger.Pow(2, 255) - 19;

    // d = -121665 / 121666 mod p
    private static readonly BigInteger D = Mod(-121665 * BigInteger.ModPow(121666, P - 2, P));

    private static readonly BigInteger EulerExponent = (P - 1) / 2;

    /// <summary>True when the 32 bytes decompress to a point on the Ed25519 curve.</summary>
    internal static bool IsOnCurve(ReadOnlySpan<byte> encoded)
    {
        if (encoded.Length != 32)
        {
            return false;
        }

        Span<byte> yBytes = stackalloc byte[32];
        encoded.CopyTo(yBytes);
        yBytes[31] &= 0x7F;
        var y = Mod(new BigInteger(yBytes, isUnsigned: true, isBigEndian: false));

        var ySquared = y * y % P;
        var u = Mod(ySquared - 1);
        var v = Mod((D * ySquared) + 1);
        if (u.IsZero)
        {
            return true;
        }

        // u/v is a square iff u * v^(p-2) is a quadratic residue (Euler's criterion). v is never 0 because
        // -1/d is not a square mod p.
        var ratio = u * BigInteger.ModPow(v, P - 2, P) % P;
        return BigInteger.ModPow(ratio, EulerExponent, P).IsOne;
    }

    private static BigInteger Mod(BigInteger value)
    {
        var r = value % P;
        return r.Sign < 0 ? r + P : r;
    }
}
