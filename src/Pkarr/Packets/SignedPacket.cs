// A signed pkarr packet (spec §3): one immutable buffer in canonical layout, with sliced views.
//
//   offset  size  field
//   0       32    public key (Ed25519)
//   32      64    signature over the BEP 44 signable (spec §3.3)
//   96      8     timestamp, u64 big-endian, microseconds
//   104     n     DNS message (RFC 1035), 0 <= n <= 1000
//
// An instance exists only after signing, after a decode that verified the signature, or after reading bytes whose
// signature was verified before (a cache's storage form, a DHT item Mainline verified). It is immutable and can be
// shared by any number of readers; how long ago a cache saw it lives in CachedPacket. Records are parsed lazily on
// first access; decode validates the DNS bytes without allocating.

using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using Pkarr.Dns;
using Pkarr.Keys;

namespace Pkarr.Packets;

/// <summary>A DNS packet signed by an Ed25519 key: the unit pkarr publishes and resolves.</summary>
public sealed partial class SignedPacket
{
    /// <summary>The largest DNS message a packet can carry (the BEP 44 value limit).</summary>
    public const int MaxDnsLength = 1000;

    /// <summary>Bytes before the DNS message: key, signature, timestamp.</summary>
    public const int HeaderLength = 104;

    /// <summary>The largest canonical packet: 104 + 1000 bytes.</summary>
    public const int MaxLength = HeaderLength + MaxDnsLength;

    /// <summary>The smallest relay payload: signature and timestamp with an empty DNS part.</summary>
    public const int MinRelayPayloadLength = HeaderLength - PublicKey.Length;

    private readonly byte[] _bytes;
    private DnsMessage? _message;

    private SignedPacket(byte[] canonical, PublicKey publicKey)
    {
        _bytes = canonical;
        PublicKey = publicKey;
    }

    /// <summary>The signer: the domain this packet describes.</summary>
    public PublicKey PublicKey { get; }

    /// <summary>The 64-byte Ed25519 signature.</summary>
    public ReadOnlySpan<byte> Signature => _bytes.AsSpan(PublicKey.Length, Keypair.SignatureLength);

    /// <summary>The version of this packet: microseconds since the epoch, the BEP 44 <c>seq</c>.</summary>
    public Timestamp Timestamp => Timestamp.FromBigEndian(_bytes.AsSpan(96, 8));

    /// <summary>The DNS message exactly as signed (the BEP 44 <c>v</c>).</summary>
    public ReadOnlyMemory<byte> EncodedPacket => _bytes.AsMemory(HeaderLength);

    /// <summary>The canonical bytes: key, signature, timestamp, DNS message.</summary>
    public ReadOnlyMemory<byte> Bytes => _bytes;

    /// <summary>The relay HTTP body: the canonical bytes without the key (72–1072 bytes).</summary>
    public ReadOnlyMemory<byte> RelayPayload => _bytes.AsMemory(PublicKey.Length);

    /// <summary>The full DNS message, parsed on first use.</summary>
    public DnsMessage Message => _message ?? ParseMessage();

    /// <summary>The answer records, in packet order.</summary>
    public IReadOnlyList<ResourceRecord> AllResourceRecords => Message.Answers;

    /// <summary>A builder for a new packet.</summary>
    public static SignedPacketBuilder Builder() => new();

    /// <summary>Decodes and verifies canonical bytes (key, signature, timestamp, DNS).</summary>
    /// <exception cref="InvalidSignedPacketException">The bytes are not a valid signed packet.</exception>
    public static SignedPacket FromBytes(ReadOnlySpan<byte> bytes) =>
        TryFromBytes(bytes, out var packet, out var error) ? packet : throw Error.SignedPacket(error);

    /// <summary>Decodes and verifies canonical bytes; never throws. Checks run in the order of spec §3.5.</summary>
    public static bool TryFromBytes(ReadOnlySpan<byte> bytes, [NotNullWhen(true)] out SignedPacket? packet, out SignedPacketError error)
    {
        packet = null;
        if (!CheckLength(bytes.Length, out error))
        {
            return false;
        }

        return TryCreate(bytes.ToArray(), verifySignature: true, out packet, out error);
    }

    /// <summary>Decodes and verifies a relay payload (signature, timestamp, DNS) for <paramref name="publicKey"/>.</summary>
    /// <exception cref="InvalidSignedPacketException">The payload is not a valid signed packet for this key.</exception>
    public static SignedPacket FromRelayPayload(PublicKey publicKey, ReadOnlySpan<byte> payload) =>
        TryFromRelayPayload(publicKey, payload, out var packet, out var error) ? packet : throw Error.SignedPacket(error);

    /// <summary>Decodes and verifies a relay payload for <paramref name="publicKey"/>; never throws.</summary>
    public static bool TryFromRelayPayload(PublicKey publicKey, ReadOnlySpan<byte> payload, [NotNullWhen(true)] out SignedPacket? packet, out SignedPacketError error)
    {
        packet = null;
        if (!CheckLength(PublicKey.Length + payload.Length, out error))
        {
            return false;
        }

        byte[] canonical = new byte[PublicKey.Length + payload.Length];
        publicKey.Bytes.CopyTo(canonical);
        payload.CopyTo(canonical.AsSpan(PublicKey.Length));
        return TryCreate(canonical, verifySignature: true, out packet, out error);
    }

    /// <summary>
    /// Builds and verifies a packet from the parts of a BEP 44 mutable item (spec §4.3): <c>k</c>, <c>seq</c>,
    /// <c>sig</c> and <c>v</c>, without salt. A negative <c>seq</c> is rejected.
    /// </summary>
    public static bool TryFromMutableItem(PublicKey publicKey, long seq, ReadOnlySpan<byte> signature, ReadOnlySpan<byte> value, [NotNullWhen(true)] out SignedPacket? packet, out SignedPacketError error) =>
        TryFromMutableItem(publicKey, seq, signature, value, verifySignature: true, out packet, out error);

    /// <summary>
    /// <see cref="TryFromMutableItem(PublicKey, long, ReadOnlySpan{byte}, ReadOnlySpan{byte}, out SignedPacket?, out SignedPacketError)"/>
    /// without the Ed25519 verification, which costs as much as the rest of a decode many times over: every other
    /// check (negative <c>seq</c>, lengths, the DNS message) still runs.
    /// <para>
    /// Only for the parts of a Mainline <c>MutableItem</c>, passed on unchanged: that type exists only once its
    /// signature has verified over exactly these <c>k</c>, <c>seq</c> and <c>v</c> without salt (a salted item
    /// lives at another target and is never a pkarr packet). The one caller is Pkarr.Client (hence internal, with
    /// <c>InternalsVisibleTo</c>), which gets items only from Mainline. Anything else, such as bytes from a relay,
    /// a file or a user, goes through the verifying method.
    /// </para>
    /// </summary>
    internal static bool TryFromVerifiedMutableItem(PublicKey publicKey, long seq, ReadOnlySpan<byte> signature, ReadOnlySpan<byte> value, [NotNullWhen(true)] out SignedPacket? packet, out SignedPacketError error) =>
        TryFromMutableItem(publicKey, seq, signature, value, verifySignature: false, out packet, out error);

    /// <summary>
    /// Reads canonical bytes this process verified before (a cache's storage form, spec §3.1): lengths and the DNS
    /// message are checked, the signature is not, as the reference does for its trusted storage.
    /// </summary>
    internal static bool TryFromStorage(ReadOnlySpan<byte> canonical, [NotNullWhen(true)] out SignedPacket? packet, out SignedPacketError error)
    {
        packet = null;
        return CheckLength(canonical.Length, out error)
            && TryCreate(canonical.ToArray(), verifySignature: false, out packet, out error);
    }

    private static bool TryFromMutableItem(PublicKey publicKey, long seq, ReadOnlySpan<byte> signature, ReadOnlySpan<byte> value, bool verifySignature, [NotNullWhen(true)] out SignedPacket? packet, out SignedPacketError error)
    {
        packet = null;
        if (seq < 0)
        {
            error = new SignedPacketError(SignedPacketErrorKind.NegativeSeq);
            return false;
        }

        if (signature.Length != Keypair.SignatureLength)
        {
            error = new SignedPacketError(SignedPacketErrorKind.InvalidSignature);
            return false;
        }

        if (!CheckLength(HeaderLength + value.Length, out error))
        {
            return false;
        }

        byte[] canonical = new byte[HeaderLength + value.Length];
        publicKey.Bytes.CopyTo(canonical);
        signature.CopyTo(canonical.AsSpan(PublicKey.Length));
        BinaryPrimitives.WriteUInt64BigEndian(canonical.AsSpan(96), (ulong)seq);
        value.CopyTo(canonical.AsSpan(HeaderLength));
        return TryCreate(canonical, verifySignature, out packet, out error);
    }

    /// <summary>
    /// The BEP 44 signable of a pkarr packet (spec §3.3): <c>3:seqi{timestamp}e1:v{len}:{dns}</c>, the bencoded
    /// dictionary body without salt and without the surrounding <c>d…e</c>.
    /// </summary>
    public static byte[] Signable(Timestamp timestamp, ReadOnlySpan<byte> dns)
    {
        Span<byte> buffer = stackalloc byte[SignablePrefixMax];
        int prefix = WriteSignablePrefix(timestamp.Microseconds, dns.Length, buffer);
        return [.. buffer[..prefix], .. dns];
    }

    // "3:seqi" + 20 digits + "e1:v" + 10 digits + ":" fits in 48 bytes.
    internal const int SignablePrefixMax = 48;

    internal static int WriteSignablePrefix(ulong timestamp, int dnsLength, Span<byte> destination)
    {
        "3:seqi"u8.CopyTo(destination);
        int at = 6;
        timestamp.TryFormat(destination[at..], out int digits, provider: System.Globalization.CultureInfo.InvariantCulture);
        at += digits;
        "e1:v"u8.CopyTo(destination[at..]);
        at += 4;
        dnsLength.TryFormat(destination[at..], out digits, provider: System.Globalization.CultureInfo.InvariantCulture);
        at += digits;
        destination[at++] = (byte)':';
        return at;
    }

    private static bool CheckLength(int length, out SignedPacketError error)
    {
        if (length < HeaderLength)
        {
            error = new SignedPacketError(SignedPacketErrorKind.InvalidSignedPacketBytesLength, length);
            return false;
        }

        if (length > MaxLength)
        {
            error = new SignedPacketError(SignedPacketErrorKind.PacketTooLarge, length);
            return false;
        }

        error = default;
        return true;
    }

    /// <summary>
    /// Checks canonical bytes this method takes ownership of, in the order of spec §3.5: the signature (unless the
    /// caller knows it verified already), then the DNS message. The length is already checked.
    /// </summary>
    private static bool TryCreate(byte[] canonical, bool verifySignature, [NotNullWhen(true)] out SignedPacket? packet, out SignedPacketError error)
    {
        packet = null;
        var publicKey = PublicKey.FromTrustedBytes(canonical.AsSpan(0, PublicKey.Length));
        if (verifySignature && !TryVerify(canonical, publicKey, out error))
        {
            return false;
        }

        if (!DnsMessage.TryValidate(canonical.AsSpan(HeaderLength), out var dnsError))
        {
            error = new SignedPacketError(SignedPacketErrorKind.InvalidDnsPacket, Dns: dnsError);
            return false;
        }

        packet = new SignedPacket(canonical, publicKey);
        error = default;
        return true;
    }

    private static bool TryVerify(byte[] canonical, PublicKey publicKey, out SignedPacketError error)
    {
        var dns = canonical.AsSpan(HeaderLength);
        Span<byte> signable = stackalloc byte[SignablePrefixMax + MaxDnsLength];
        int prefix = WriteSignablePrefix(BinaryPrimitives.ReadUInt64BigEndian(canonical.AsSpan(96, 8)), dns.Length, signable);
        dns.CopyTo(signable[prefix..]);
        signable = signable[..(prefix + dns.Length)];

        // libsodium decompresses the key while verifying, so a valid signature proves a valid point; the
        // (slower) exact point check only runs to tell a bad key from a bad signature (spec §3.5 order).
        if (publicKey.Verify(signable, canonical.AsSpan(PublicKey.Length, Keypair.SignatureLength)))
        {
            error = default;
            return true;
        }

        error = Ed25519Point.IsOnCurve(publicKey.Bytes)
            ? new SignedPacketError(SignedPacketErrorKind.InvalidSignature)
            : new SignedPacketError(SignedPacketErrorKind.InvalidEd25519PublicKey);
        return false;
    }

    /// <summary>Wraps canonical bytes just produced by signing (records are parsed from them on first use).</summary>
    internal static SignedPacket FromSigned(byte[] canonical, PublicKey publicKey) => new(canonical, publicKey);

    private DnsMessage ParseMessage()
    {
        // The bytes were validated when this instance was created, so parsing cannot fail here.
        if (!DnsMessage.TryParse(EncodedPacket.Span, out var message, out var error))
        {
            throw Error.ValidatedDnsFailed(error);
        }

        return Interlocked.CompareExchange(ref _message, message, null) ?? message;
    }
}
