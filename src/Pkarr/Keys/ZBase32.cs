// z-base32 as the reference uses it (spec §1.3): alphabet "ybndrfg8ejkmcpqxot1uwisza345h769", RFC 4648
// bit order (most significant bit first), no padding. Decoding is lowercase-only and yields
// floor(chars * 5 / 8) bytes, ignoring (not checking) leftover bits, exactly like the `base32` crate.
// SimpleBase does the bit arithmetic; it is case-insensitive and length-lenient, so the rules are enforced here.

using SimpleBase;

namespace Pkarr.Keys;

internal static class ZBase32
{
    internal const string Alphabet = "ybndrfg8ejkmcpqxot1uwisza345h769";

    /// <summary>Encodes bytes to canonical z-base32 text.</summary>
    internal static string Encode(ReadOnlySpan<byte> bytes) => Base32.ZBase32.Encode(bytes, padding: false);

    /// <summary>Number of bytes a z-base32 text of <paramref name="chars"/> characters decodes to.</summary>
    internal static int DecodedLength(int chars) => (int)((long)chars * 5 / 8);

    /// <summary>True when every character is in the lowercase z-base32 alphabet.</summary>
    internal static bool IsValidText(ReadOnlySpan<char> text)
    {
        foreach (char c in text)
        {
            if (c >= 128 || Alphabet.IndexOf(c, StringComparison.Ordinal) < 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Decodes z-base32 text with the reference's rules into <paramref name="destination"/>, which must hold
    /// <see cref="DecodedLength"/> bytes. Returns false for any character outside the lowercase alphabet.
    /// </summary>
    internal static bool TryDecode(ReadOnlySpan<char> text, Span<byte> destination, out int written)
    {
        written = 0;
        if (!IsValidText(text))
        {
            return false;
        }

        int expected = DecodedLength(text.Length);
        if (destination.Length < expected)
        {
            return false;
        }

        // SimpleBase wants whole 5-bit groups; any leftover bits are ignored by both, so trimming to the
        // characters that contribute to whole bytes makes its output length match the reference's.
        int safe = Base32.ZBase32.GetSafeByteCountForDecoding(text) + 8;
        Span<byte> scratch = safe <= 256 ? stackalloc byte[256] : new byte[safe];
        if (!Base32.ZBase32.TryDecode(text, scratch, out int decoded) || decoded < expected)
        {
            return false;
        }

        scratch[..expected].CopyTo(destination);
        written = expected;
        return true;
    }
}
