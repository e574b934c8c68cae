// An Ed25519 signing key pair (RFC 8032, pure Ed25519) through NSec/libsodium. The secret key is the 32-byte
// RFC 8032 seed (spec §1.1), not libsodium's 64-byte seed||public form.

using System.Security.Cryptography;
using NSec.Cryptography;

namespace Pkarr.Keys;

/// <summary>An Ed25519 key pair: the owner of a pkarr domain. Dispose it to wipe the secret from memory.</summary>
public sealed partial class Keypair : IDisposable
{
    /// <summary>Length of the secret key (the RFC 8032 seed) in bytes.</summary>
    public const int SecretKeyLength = 32;

    /// <summary>Length of an Ed25519 signature in bytes.</summary>
    public const int SignatureLength = 64;

    private readonly Key _key;

    private Keypair(Key key)
    {
        _key = key;
        PublicKey = PublicKey.FromTrustedBytes(key.PublicKey.Export(KeyBlobFormat.RawPublicKey));
    }

    /// <summary>The public half: the key's pkarr domain.</summary>
    public PublicKey PublicKey { get; }

    /// <summary>The key as a one-label DNS name: the origin of every packet this key pair signs.</summary>
    internal Dns.DnsName Origin => field ??= Dns.DnsName.Parse(PublicKey.ToZ32());

    /// <summary>A new key pair from 32 bytes of the operating system's CSPRNG.</summary>
    public static Keypair Random()
    {
        Span<byte> seed = stackalloc byte[SecretKeyLength];
        RandomNumberGenerator.Fill(seed);
        try
        {
            return FromSecretKey(seed);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>The key pair of a 32-byte RFC 8032 seed.</summary>
    /// <exception cref="ArgumentException">The seed is not 32 bytes long.</exception>
    public static Keypair FromSecretKey(ReadOnlySpan<byte> secretKey)
    {
        if (secretKey.Length != SecretKeyLength)
        {
            throw Error.SecretKeyLength(secretKey.Length, nameof(secretKey));
        }

        var exportable = new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport };
        return new Keypair(Key.Import(SignatureAlgorithm.Ed25519, secretKey, KeyBlobFormat.RawPrivateKey, in exportable));
    }

    /// <summary>The 32-byte secret key (seed). Keep it secret.</summary>
    public byte[] SecretKey() => _key.Export(KeyBlobFormat.RawPrivateKey);

    /// <summary>Signs <paramref name="message"/>; Ed25519 is deterministic, so equal inputs give equal signatures.</summary>
    public byte[] Sign(ReadOnlySpan<byte> message) => SignatureAlgorithm.Ed25519.Sign(_key, message);

    /// <summary>Signs <paramref name="message"/> into a 64-byte <paramref name="signature"/> buffer.</summary>
    public void Sign(ReadOnlySpan<byte> message, Span<byte> signature) =>
        SignatureAlgorithm.Ed25519.Sign(_key, message, signature);

    /// <inheritdoc />
    public void Dispose() => _key.Dispose();

    /// <summary>The public key's z-base32 form (never the secret).</summary>
    public override string ToString() => PublicKey.ToString();
}
