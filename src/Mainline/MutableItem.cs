// BEP 44 data items (shared spec §6).
//
//   immutable target = SHA1(bencode(v))
//   mutable   target = SHA1(k ‖ salt)                    (salt omitted when absent; empty salt == absent)
//   signed buffer    = ["4:salt" <len> ":" salt] "3:seqi" <seq> "e1:v" bencode(v)
//   signature        = Ed25519(secret, signed buffer), 64 bytes; k = 32-byte public key
// Limits: raw v ≤ 1000 bytes, salt ≤ 64 bytes, seq ≥ 0 (MutableItem.MaxValueLength, MaxSaltLength).
using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using Mainline.Bencode;
using NSec.Cryptography;

namespace Mainline;

/// <summary>
/// A BEP 44 mutable item that is known to be valid: it exists only when we signed it or its signature verified,
/// so a holder never verifies it again. One buffer per field; <see cref="Value"/> is a slice of
/// <see cref="EncodedValue"/>.
/// </summary>
public sealed class MutableItem
{
    /// <summary>BEP 44: the largest value, in raw bytes of the byte string (as the reference and webtorrent count).</summary>
    public const int MaxValueLength = 1000;

    /// <summary>BEP 44: the largest salt, in bytes.</summary>
    public const int MaxSaltLength = 64;

    private readonly byte[] _key;
    private readonly byte[]? _salt;
    private readonly byte[] _encodedValue;
    private readonly byte[] _signature;

    private MutableItem(byte[] key, byte[]? salt, long seq, byte[] encodedValue, byte[] signature)
    {
        _key = key;
        _salt = salt;
        Seq = seq;
        _encodedValue = encodedValue;
        _signature = signature;
        Value = Bep44.StringContent(encodedValue);
        Target = Bep44.MutableTarget(key, salt);
    }

    /// <summary>The 32-byte Ed25519 public key.</summary>
    public ReadOnlyMemory<byte> Key => _key;

    /// <summary>The salt; empty when the item has none (BEP 44 treats an empty salt as none).</summary>
    public ReadOnlyMemory<byte> Salt => _salt;

    /// <summary>The sequence number, never negative.</summary>
    public long Seq { get; }

    /// <summary>The value as bencoded bytes, as signed (for byte-string values: <c>&lt;len&gt;:&lt;bytes&gt;</c>).</summary>
    public ReadOnlyMemory<byte> EncodedValue => _encodedValue;

    /// <summary>The value's content when it is a byte string (the usual case), else its bencoded bytes.</summary>
    public ReadOnlyMemory<byte> Value { get; }

    /// <summary>The 64-byte Ed25519 signature.</summary>
    public ReadOnlyMemory<byte> Signature => _signature;

    /// <summary>SHA1(key ‖ salt): where the item is stored.</summary>
    public NodeId Target { get; }

    // The wire codec and storage work on arrays; these never leave the library.
    internal byte[] KeyArray => _key;

    internal byte[]? SaltArray => _salt;

    internal byte[] EncodedValueArray => _encodedValue;

    internal byte[] SignatureArray => _signature;

    /// <summary>Signs <paramref name="value"/> (a byte string) with a 32-byte Ed25519 seed.</summary>
    /// <exception cref="ArgumentException">On a bad seed length, an oversized value or salt, or a negative seq.</exception>
    public static MutableItem Sign(ReadOnlySpan<byte> secretSeed, ReadOnlySpan<byte> value, long seq, ReadOnlySpan<byte> salt = default)
    {
        if (secretSeed.Length != 32)
        {
            throw Error.InvalidLength(nameof(secretSeed), 32, secretSeed.Length);
        }

        if (value.Length > MaxValueLength)
        {
            throw Error.ValueTooLarge(value.Length, nameof(value));
        }

        if (salt.Length > MaxSaltLength)
        {
            throw Error.SaltTooLarge(salt.Length, nameof(salt));
        }

        if (seq < 0)
        {
            throw Error.NegativeSeq(seq, nameof(seq));
        }

        using var key = NSec.Cryptography.Key.Import(SignatureAlgorithm.Ed25519, secretSeed, KeyBlobFormat.RawPrivateKey);
        var saltArray = salt.IsEmpty ? null : salt.ToArray();
        var encoded = Krpc.KrpcCodec.EncodeString(value);
        var signature = SignatureAlgorithm.Ed25519.Sign(key, Bep44.SignableBuffer(saltArray, seq, encoded));
        return new MutableItem(key.PublicKey.Export(KeyBlobFormat.RawPublicKey), saltArray, seq, encoded, signature);
    }

    /// <summary>The public key of a 32-byte Ed25519 seed.</summary>
    /// <exception cref="ArgumentException">On a bad seed length.</exception>
    public static byte[] PublicKeyOf(ReadOnlySpan<byte> secretSeed)
    {
        if (secretSeed.Length != 32)
        {
            throw Error.InvalidLength(nameof(secretSeed), 32, secretSeed.Length);
        }

        using var key = NSec.Cryptography.Key.Import(SignatureAlgorithm.Ed25519, secretSeed, KeyBlobFormat.RawPrivateKey);
        return key.PublicKey.Export(KeyBlobFormat.RawPublicKey);
    }

    /// <summary>Builds an item from already-signed parts (<paramref name="value"/> is the byte string's content);
    /// false when a part has the wrong size or the signature does not verify.</summary>
    public static bool TryFromSigned(
        ReadOnlySpan<byte> key, ReadOnlySpan<byte> salt, long seq, ReadOnlySpan<byte> value, ReadOnlySpan<byte> signature,
        [NotNullWhen(true)] out MutableItem? item)
    {
        item = null;
        return value.Length <= MaxValueLength
            && TryFromEncoded(key.ToArray(), salt.IsEmpty ? null : salt.ToArray(), seq, Krpc.KrpcCodec.EncodeString(value), signature.ToArray(), out item);
    }

    /// <summary>Builds an item from wire fields (<paramref name="encodedValue"/> as received); false unless it verifies.</summary>
    internal static bool TryFromEncoded(byte[] key, byte[]? salt, long seq, byte[] encodedValue, byte[] signature, [NotNullWhen(true)] out MutableItem? item)
    {
        item = null;
        if (salt is { Length: 0 })
        {
            salt = null;
        }

        if (key.Length != 32 || signature.Length != 64 || seq < 0 || (salt?.Length ?? 0) > MaxSaltLength
            || !Bep44.Verify(key, Bep44.SignableBuffer(salt, seq, encodedValue), signature))
        {
            return false;
        }

        item = new MutableItem(key, salt, seq, encodedValue, signature);
        return true;
    }

    /// <summary>The target of a mutable item: SHA1(key ‖ salt).</summary>
    public static NodeId TargetOf(ReadOnlySpan<byte> key, ReadOnlySpan<byte> salt = default) => Bep44.MutableTarget(key, salt);

    /// <summary>Same key, seq, value and signature (salt and target follow from the key and the lookup).</summary>
    internal bool HasFields(ReadOnlySpan<byte> key, long seq, ReadOnlySpan<byte> encodedValue, ReadOnlySpan<byte> signature) =>
        Seq == seq && _signature.AsSpan().SequenceEqual(signature) && _encodedValue.AsSpan().SequenceEqual(encodedValue)
        && _key.AsSpan().SequenceEqual(key);

    /// <summary>"More recent" order of the reference: higher seq, then the byte-wise greater value.</summary>
    internal bool IsMoreRecentThan(MutableItem other) =>
        Seq != other.Seq ? Seq > other.Seq : _encodedValue.AsSpan().SequenceCompareTo(other._encodedValue) > 0;
}

/// <summary>BEP 44 targets, signable buffers and signature checks.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA5350", Justification = "BEP 44 defines targets as SHA-1; not a security choice of ours.")]
internal static class Bep44
{
    public static NodeId ImmutableTarget(ReadOnlySpan<byte> encodedValue) => new(SHA1.HashData(encodedValue));

    public static NodeId MutableTarget(ReadOnlySpan<byte> key, ReadOnlySpan<byte> salt)
    {
        var buffer = new byte[key.Length + salt.Length];
        key.CopyTo(buffer);
        salt.CopyTo(buffer.AsSpan(key.Length));
        return new NodeId(SHA1.HashData(buffer));
    }

    public static byte[] SignableBuffer(byte[]? salt, long seq, ReadOnlySpan<byte> encodedValue)
    {
        var w = new ArrayBufferWriter<byte>(encodedValue.Length + 32);
        if (salt is { Length: > 0 })
        {
            w.Write("4:salt"u8);
            BencodeWriter.WriteString(w, salt);
        }

        w.Write("3:seqi"u8);
        BencodeWriter.WriteDecimal(w, seq);
        w.Write("e1:v"u8);
        w.Write(encodedValue);
        return w.WrittenSpan.ToArray();
    }

    /// <summary>Verifies an Ed25519 signature; an undecodable key is simply invalid (never throws).</summary>
    public static bool Verify(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        try
        {
            return PublicKey.TryImport(SignatureAlgorithm.Ed25519, key, KeyBlobFormat.RawPublicKey, out var pk)
                && pk is not null && SignatureAlgorithm.Ed25519.Verify(pk, data, signature);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or CryptographicException)
        {
            return false;
        }
    }

    /// <summary>The content of a bencoded byte string, or null when the value is another type.</summary>
    public static byte[]? TryStringContent(byte[] encoded) =>
        IsString(encoded, out var content) ? content.ToArray() : null;

    /// <summary>The content of a bencoded byte string as a slice of <paramref name="encoded"/>, or all of it when
    /// the value is another type.</summary>
    public static ReadOnlyMemory<byte> StringContent(byte[] encoded) => IsString(encoded, out var content) ? content : encoded;

    private static bool IsString(byte[] encoded, out ReadOnlyMemory<byte> content)
    {
        var ok = BencodeReader.TryDecode(encoded, out var v) && v!.Kind == BKind.Bytes && v.Raw.Length == encoded.Length;
        content = ok ? v!.Bytes : default;
        return ok;
    }
}
