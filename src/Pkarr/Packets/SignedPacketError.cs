using Pkarr.Dns;

namespace Pkarr.Packets;

/// <summary>Why bytes are not a signed packet, or why a packet cannot be built (spec §3.2, §3.5).</summary>
public enum SignedPacketErrorKind
{
    /// <summary>Fewer than 104 canonical bytes (72 bytes of relay payload).</summary>
    InvalidSignedPacketBytesLength,

    /// <summary>More than 1104 canonical bytes, or a DNS message over 1000 bytes when building.</summary>
    PacketTooLarge,

    /// <summary>The first 32 bytes are not an Ed25519 public key.</summary>
    InvalidEd25519PublicKey,

    /// <summary>The signature does not verify over the BEP 44 signable of the timestamp and DNS bytes.</summary>
    InvalidSignature,

    /// <summary>The signed bytes are not a DNS message.</summary>
    InvalidDnsPacket,

    /// <summary>A BEP 44 item with a negative <c>seq</c>, which no pkarr timestamp can be.</summary>
    NegativeSeq,
}

/// <summary>A rejected signed packet: the first failed check of spec §3.5, with details.</summary>
/// <param name="Kind">Which check failed.</param>
/// <param name="Length">The offending length, for the two length kinds.</param>
/// <param name="Dns">The DNS parse error, for <see cref="SignedPacketErrorKind.InvalidDnsPacket"/>.</param>
public readonly record struct SignedPacketError(SignedPacketErrorKind Kind, int Length = 0, DnsError Dns = default)
{
    /// <summary>A one-line description for users.</summary>
    public string Message => Kind switch
    {
        SignedPacketErrorKind.InvalidSignedPacketBytesLength =>
            $"Invalid SignedPacket bytes length, expected at least 104 bytes but got: {Length}",
        SignedPacketErrorKind.PacketTooLarge =>
            $"DNS packet is too large: {Length} bytes, the limit is {SignedPacket.MaxDnsLength} bytes of DNS ({SignedPacket.MaxLength} bytes in all)",
        SignedPacketErrorKind.InvalidEd25519PublicKey => "Invalid Ed25519 public key",
        SignedPacketErrorKind.InvalidSignature => "Invalid signature: it does not verify over the timestamp and DNS bytes",
        SignedPacketErrorKind.InvalidDnsPacket => $"Invalid DNS packet: {Dns.Message}",
        _ => "Negative BEP 44 seq: not a pkarr timestamp",
    };

    /// <inheritdoc />
    public override string ToString() => Message;
}

/// <summary>Thrown when bytes are not a valid signed packet or a packet cannot be built; <see cref="Error"/> says why.</summary>
public sealed class InvalidSignedPacketException : FormatException
{
    internal InvalidSignedPacketException(SignedPacketError error)
        : base(error.Message)
    {
        Error = error;
    }

    /// <summary>The failed check.</summary>
    public SignedPacketError Error { get; }
}
