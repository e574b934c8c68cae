// A pkarr identity: an Ed25519 public key (RFC 8032), 32 bytes, written as 52 characters of z-base32
// (spec §1.3) or as a `pk:` URI, and accepted inside URLs by the reference's heuristic cut cascade (spec §1.4).

using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using NSec.Cryptography;

namespace Pkarr.Keys;

/// <summary>
/// An Ed25519 public key: a pkarr "sovereign top-level domain". Always a valid curve point.
/// </summary>
public readonly struct PublicKey : IEquatable<PublicKey>, ISpanParsable<PublicKey>, ISpanFormattable
{
    /// <summary>Length of a raw public key in bytes.</summary>
    public const int Length = 32;

    /// <summary>Length of the z-base32 form in characters.</summary>
    public const int TextLength = 52;

    private static readonly byte[] SpkiPrefix = Convert.FromHexString("302a300506032b6570032100");

    private readonly byte[]? _bytes;

    private PublicKey(byte[] bytes) => _bytes = bytes;

    /// <summary>The 32 raw key bytes.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes ?? new byte[Length];

    /// <summary>Creates a key from 32 raw bytes; throws <see cref="InvalidPublicKeyException"/> if they are not a key.</summary>
    public static PublicKey FromBytes(ReadOnlySpan<byte> bytes) =>
        TryFromBytes(bytes, out var key, out var error) ? key : throw Error.PublicKey(error);

    /// <summary>Creates a key from 32 raw bytes that must decompress to an Ed25519 point. Never throws.</summary>
    public static bool TryFromBytes(ReadOnlySpan<byte> bytes, out PublicKey key, out PublicKeyError error)
    {
        key = default;
        if (bytes.Length != Length)
        {
            error = new PublicKeyError(PublicKeyErrorKind.InvalidPublicKeyLength, bytes.Length);
            return false;
        }

        if (!Ed25519Point.IsOnCurve(bytes))
        {
            error = new PublicKeyError(PublicKeyErrorKind.InvalidEd25519PublicKey);
            return false;
        }

        key = new PublicKey(bytes.ToArray());
        error = default;
        return true;
    }

    /// <summary>Wraps bytes already known to be a valid key (verified by libsodium or read from trusted storage).</summary>
    internal static PublicKey FromTrustedBytes(ReadOnlySpan<byte> bytes) => new(bytes.ToArray());

    /// <summary>
    /// Parses a key from its z-base32 form, a <c>pk:</c> URI, or a URL whose host ends in the key (spec §1.4).
    /// </summary>
    /// <exception cref="InvalidPublicKeyException">The text is not a key.</exception>
    public static PublicKey Parse(string text) => Parse(text.AsSpan());

    /// <summary>Parses a key from text (see <see cref="Parse(string)"/>).</summary>
    /// <exception cref="InvalidPublicKeyException">The text is not a key.</exception>
    public static PublicKey Parse(ReadOnlySpan<char> text) =>
        TryParse(text, out var key, out var error) ? key : throw Error.PublicKey(error);

    /// <summary>Parses a key from text; never throws.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out PublicKey key) =>
        TryParse(text.AsSpan(), out key, out _);

    /// <summary>Parses a key from text; never throws; <paramref name="error"/> says why it failed.</summary>
    /// <remarks>
    /// As the reference, the four unused bits of the 52nd character are ignored, so 16 spellings give one key.
    /// That is harmless because a key is its bytes: equality, hashing and every text form
    /// (<see cref="ToZ32"/>, <see cref="ToUri"/>) come from the bytes, so anything keyed by the key or by its
    /// text sees one canonical entry. Never key anything on the text a caller passed in.
    /// </remarks>
    public static bool TryParse(ReadOnlySpan<char> text, out PublicKey key, out PublicKeyError error)
    {
        key = default;
        var candidate = CutToKey(text);

        if (!ZBase32.IsValidText(candidate))
        {
            error = new PublicKeyError(PublicKeyErrorKind.InvalidPublicKeyEncoding);
            return false;
        }

        int length = ZBase32.DecodedLength(candidate.Length);
        if (length != Length)
        {
            error = new PublicKeyError(PublicKeyErrorKind.InvalidPublicKeyLength, length);
            return false;
        }

        Span<byte> bytes = stackalloc byte[Length];
        if (!ZBase32.TryDecode(candidate, bytes, out _))
        {
            error = new PublicKeyError(PublicKeyErrorKind.InvalidPublicKeyEncoding);
            return false;
        }

        return TryFromBytes(bytes, out key, out error);
    }

    /// <summary>
    /// The reference's cascade of cheap cuts, each applied only while the text is longer than 52 characters
    /// (spec §1.4 steps 1–8). Deliberately not a URL parser: it defines exactly which odd inputs are accepted.
    /// </summary>
    internal static ReadOnlySpan<char> CutToKey(ReadOnlySpan<char> s)
    {
        if (s.Length > TextLength && s.IndexOf(':') is int scheme and >= 0)
        {
            s = s[(scheme + 1)..];
        }

        if (s.Length > TextLength && s.StartsWith("//", StringComparison.Ordinal))
        {
            s = s[2..];
        }

        if (s.Length > TextLength && s.IndexOf('@') is int at and >= 0)
        {
            s = s[(at + 1)..];
        }

        foreach (char stop in ":/?#")
        {
            if (s.Length > TextLength && s.IndexOf(stop) is int cut and >= 0)
            {
                s = s[..cut];
            }
        }

        // Step 8: only the last DNS label (the TLD) counts; a trailing root dot is stripped first.
        if (s.Length > TextLength)
        {
            s = s.Trim('.');
            if (s.LastIndexOf('.') is int dot and >= 0)
            {
                s = s[(dot + 1)..];
            }
        }

        return s;
    }

    /// <summary>The 52-character z-base32 form.</summary>
    public string ToZ32() => ZBase32.Encode(Bytes);

    /// <summary>The <c>pk:</c> URI form.</summary>
    public string ToUri() => "pk:" + ToZ32();

    /// <summary>The DER SubjectPublicKeyInfo (44 bytes), as used for TLS raw public keys (RFC 7250).</summary>
    public byte[] ToSpkiDer() => [.. SpkiPrefix, .. Bytes];

    /// <summary>The BEP 44 target and cache key: SHA-1 of the 32 key bytes (no salt).</summary>
#pragma warning disable CA5350 // SHA-1 is what BEP 44 specifies for targets; it is an address, not a security boundary.
    public byte[] DhtTarget() => SHA1.HashData(Bytes);
#pragma warning restore CA5350

    /// <summary>Verifies an Ed25519 signature by this key over <paramref name="message"/> (libsodium).</summary>
    public bool Verify(ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != Keypair.SignatureLength)
        {
            return false;
        }

        if (!NSec.Cryptography.PublicKey.TryImport(SignatureAlgorithm.Ed25519, Bytes, KeyBlobFormat.RawPublicKey, out var nsecKey) || nsecKey is null)
        {
            return false;
        }

        return SignatureAlgorithm.Ed25519.Verify(nsecKey, message, signature);
    }

    /// <summary>The z-base32 form.</summary>
    public override string ToString() => ToZ32();

    /// <inheritdoc />
    public string ToString(string? format, IFormatProvider? formatProvider) => ToZ32();

    /// <inheritdoc />
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
    {
        string text = ToZ32();
        if (text.AsSpan().TryCopyTo(destination))
        {
            charsWritten = text.Length;
            return true;
        }

        charsWritten = 0;
        return false;
    }

    /// <inheritdoc />
    public bool Equals(PublicKey other) => Bytes.SequenceEqual(other.Bytes);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is PublicKey other && Equals(other);

    /// <summary>A hash of all 32 bytes, seeded at random per process (<see cref="HashCode"/>).</summary>
    /// <remarks>Half of all 32-byte strings are valid keys, so anyone can make many keys that share their first
    /// bytes: a fixed function of a few bytes would let them fill one bucket of every hash set of keys.</remarks>
    public override int GetHashCode()
    {
        var hash = default(HashCode);
        hash.AddBytes(Bytes);
        return hash.ToHashCode();
    }

    /// <summary>Byte-wise equality.</summary>
    public static bool operator ==(PublicKey left, PublicKey right) => left.Equals(right);

    /// <summary>Byte-wise inequality.</summary>
    public static bool operator !=(PublicKey left, PublicKey right) => !left.Equals(right);

    static PublicKey IParsable<PublicKey>.Parse(string s, IFormatProvider? provider) => Parse(s);

    static bool IParsable<PublicKey>.TryParse([NotNullWhen(true)] string? s, IFormatProvider? provider, out PublicKey result) =>
        TryParse(s, out result);

    static PublicKey ISpanParsable<PublicKey>.Parse(ReadOnlySpan<char> s, IFormatProvider? provider) => Parse(s);

    static bool ISpanParsable<PublicKey>.TryParse(ReadOnlySpan<char> s, IFormatProvider? provider, out PublicKey result) =>
        TryParse(s, out result, out _);
}
