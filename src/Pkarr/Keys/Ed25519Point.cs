// Ed25519 point decompression check (RFC 8032 §5.1.3), with the leniency of ed25519-dalek's
// `CompressedEdwardsY::decompress`, which the reference uses (spec §1.1): the y coordinate is the low 255
// bits reduced mod p (non-canonical encodings pass), the sign bit is never checked against x = 0, and
// small-order points are accepted. A key is valid when (y^2 - 1) / (d*y^2 + 1) is a square mod p.
//
// NSec's PublicKey.TryImport does not check this, so we do, on every key parsed from text or bytes (a relay
// parses one per request). The square-root test is RFC 8032's: with u = y^2 - 1 and v = d*y^2 + 1,
// x = u*v^3 * (u*v^7)^((p-5)/8); the point exists iff v*x^2 = ±u. Field arithmetic is in radix 2^51
// (five limbs, 128-bit products), about 260 multiplications per check.

using System.Buffers.Binary;

namespace Pkarr.Keys;

internal static class Ed25519Point
{
    // d = -121665/121666 mod p, little-endian.
    private static readonly FieldElement D = FieldElement.FromBytes(
        Convert.FromHexString("a3785913ca4deb75abd841414d0a700098e879777940c78c73fe6f2bee6c0352"));

    /// <summary>True when the 32 bytes decompress to a point on the Ed25519 curve.</summary>
    internal static bool IsOnCurve(ReadOnlySpan<byte> encoded)
    {
        if (encoded.Length != 32)
        {
            return false;
        }

        var y = FieldElement.FromBytes(encoded);
        var y2 = y.Square();
        var u = y2 - FieldElement.One;
        var v = (D * y2) + FieldElement.One;

        var v3 = v.Square() * v;
        var v7 = v3.Square() * v;
        var x = u * v3 * (u * v7).Pow22523();
        var vx2 = v * x.Square();

        return vx2.IsEqualTo(u) || vx2.IsEqualTo(FieldElement.Zero - u);
    }

    /// <summary>An element of GF(2^255 - 19) as five 51-bit limbs (loosely reduced between operations).</summary>
    private readonly struct FieldElement
    {
        private const ulong Mask51 = (1UL << 51) - 1;

        private readonly ulong _l0, _l1, _l2, _l3, _l4;

        private FieldElement(ulong l0, ulong l1, ulong l2, ulong l3, ulong l4)
        {
            _l0 = l0;
            _l1 = l1;
            _l2 = l2;
            _l3 = l3;
            _l4 = l4;
        }

        internal static FieldElement Zero => default;

        internal static FieldElement One => new(1, 0, 0, 0, 0);

        /// <summary>Loads 32 little-endian bytes, ignoring bit 255 (the sign of x).</summary>
        internal static FieldElement FromBytes(ReadOnlySpan<byte> bytes)
        {
            ulong w0 = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
            ulong w1 = BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]);
            ulong w2 = BinaryPrimitives.ReadUInt64LittleEndian(bytes[16..]);
            ulong w3 = BinaryPrimitives.ReadUInt64LittleEndian(bytes[24..]);
            return new FieldElement(
                w0 & Mask51,
                ((w0 >> 51) | (w1 << 13)) & Mask51,
                ((w1 >> 38) | (w2 << 26)) & Mask51,
                ((w2 >> 25) | (w3 << 39)) & Mask51,
                (w3 >> 12) & Mask51);
        }

        public static FieldElement operator +(FieldElement a, FieldElement b) =>
            Carry(a._l0 + b._l0, a._l1 + b._l1, a._l2 + b._l2, a._l3 + b._l3, a._l4 + b._l4);

        // a - b computed as a + 4p - b, so limbs never underflow for loosely reduced inputs.
        public static FieldElement operator -(FieldElement a, FieldElement b) =>
            Carry(
                a._l0 + 0x1FFFFFFFFFFFB4 - b._l0,
                a._l1 + 0x1FFFFFFFFFFFFC - b._l1,
                a._l2 + 0x1FFFFFFFFFFFFC - b._l2,
                a._l3 + 0x1FFFFFFFFFFFFC - b._l3,
                a._l4 + 0x1FFFFFFFFFFFFC - b._l4);

        public static FieldElement operator *(FieldElement a, FieldElement b)
        {
            ulong b1x19 = b._l1 * 19, b2x19 = b._l2 * 19, b3x19 = b._l3 * 19, b4x19 = b._l4 * 19;

            UInt128 r0 = Mul(a._l0, b._l0) + Mul(a._l1, b4x19) + Mul(a._l2, b3x19) + Mul(a._l3, b2x19) + Mul(a._l4, b1x19);
            UInt128 r1 = Mul(a._l0, b._l1) + Mul(a._l1, b._l0) + Mul(a._l2, b4x19) + Mul(a._l3, b3x19) + Mul(a._l4, b2x19);
            UInt128 r2 = Mul(a._l0, b._l2) + Mul(a._l1, b._l1) + Mul(a._l2, b._l0) + Mul(a._l3, b4x19) + Mul(a._l4, b3x19);
            UInt128 r3 = Mul(a._l0, b._l3) + Mul(a._l1, b._l2) + Mul(a._l2, b._l1) + Mul(a._l3, b._l0) + Mul(a._l4, b4x19);
            UInt128 r4 = Mul(a._l0, b._l4) + Mul(a._l1, b._l3) + Mul(a._l2, b._l2) + Mul(a._l3, b._l1) + Mul(a._l4, b._l0);

            r1 += (ulong)(r0 >> 51);
            ulong c0 = (ulong)r0 & Mask51;
            r2 += (ulong)(r1 >> 51);
            ulong c1 = (ulong)r1 & Mask51;
            r3 += (ulong)(r2 >> 51);
            ulong c2 = (ulong)r2 & Mask51;
            r4 += (ulong)(r3 >> 51);
            ulong c3 = (ulong)r3 & Mask51;
            ulong carry = (ulong)(r4 >> 51);
            ulong c4 = (ulong)r4 & Mask51;
            return Carry(c0 + (carry * 19), c1, c2, c3, c4);
        }

        internal FieldElement Square() => this * this;

        private FieldElement SquareTimes(int n)
        {
            var r = this;
            for (int i = 0; i < n; i++)
            {
                r = r.Square();
            }

            return r;
        }

        /// <summary>this^((p-5)/8) = this^(2^252 - 3), by the usual addition chain.</summary>
        internal FieldElement Pow22523()
        {
            var z2 = Square();                        // 2
            var z9 = z2.SquareTimes(2) * this;        // 9
            var z11 = z9 * z2;                        // 11
            var z5_0 = z11.Square() * z9;             // 2^5 - 1
            var z10_0 = z5_0.SquareTimes(5) * z5_0;   // 2^10 - 1
            var z20_0 = z10_0.SquareTimes(10) * z10_0;
            var z40_0 = z20_0.SquareTimes(20) * z20_0;
            var z50_0 = z40_0.SquareTimes(10) * z10_0;
            var z100_0 = z50_0.SquareTimes(50) * z50_0;
            var z200_0 = z100_0.SquareTimes(100) * z100_0;
            var z250_0 = z200_0.SquareTimes(50) * z50_0;
            return z250_0.SquareTimes(2) * this;      // 2^252 - 3
        }

        /// <summary>Equality of the values mod p (both sides fully reduced first).</summary>
        internal bool IsEqualTo(FieldElement other)
        {
            var a = Reduce();
            var b = other.Reduce();
            return a._l0 == b._l0 && a._l1 == b._l1 && a._l2 == b._l2 && a._l3 == b._l3 && a._l4 == b._l4;
        }

        /// <summary>The canonical representative in [0, p).</summary>
        private FieldElement Reduce()
        {
            var h = Carry(_l0, _l1, _l2, _l3, _l4);

            // q = 1 exactly when h >= p: adding 19 then overflows bit 255.
            ulong q = (h._l0 + 19) >> 51;
            q = (h._l1 + q) >> 51;
            q = (h._l2 + q) >> 51;
            q = (h._l3 + q) >> 51;
            q = (h._l4 + q) >> 51;

            ulong l0 = h._l0 + (19 * q);
            ulong l1 = h._l1 + (l0 >> 51);
            l0 &= Mask51;
            ulong l2 = h._l2 + (l1 >> 51);
            l1 &= Mask51;
            ulong l3 = h._l3 + (l2 >> 51);
            l2 &= Mask51;
            ulong l4 = h._l4 + (l3 >> 51);
            l3 &= Mask51;
            l4 &= Mask51;
            return new FieldElement(l0, l1, l2, l3, l4);
        }

        private static UInt128 Mul(ulong a, ulong b) => (UInt128)a * b;

        private static FieldElement Carry(ulong l0, ulong l1, ulong l2, ulong l3, ulong l4)
        {
            l1 += l0 >> 51;
            l0 &= Mask51;
            l2 += l1 >> 51;
            l1 &= Mask51;
            l3 += l2 >> 51;
            l2 &= Mask51;
            l4 += l3 >> 51;
            l3 &= Mask51;
            l0 += 19 * (l4 >> 51);
            l4 &= Mask51;
            l1 += l0 >> 51;
            l0 &= Mask51;
            return new FieldElement(l0, l1, l2, l3, l4);
        }
    }
}
