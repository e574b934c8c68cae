// Signed packets as BEP 44 mutable items (shared spec pkarr.md §4.1, §4.3):
//
//   k   = the packet's public key            seq = the packet's timestamp (µs, as a signed 64-bit integer)
//   sig = the packet's signature             v   = the DNS message, as a bencoded byte string; no salt
//
// A pkarr signature is the BEP 44 signature of exactly these fields, so a packet is put without signing again,
// and an item that Mainline has verified is a packet whose signature needs no second check.

using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Mainline;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client;

/// <summary>Converts between <see cref="SignedPacket"/> and Mainline's <see cref="MutableItem"/>.</summary>
internal static class DhtPackets
{
    /// <summary>The item that publishes <paramref name="packet"/>; false when its timestamp is not a BEP 44 seq (≥ 2^63).</summary>
    public static bool TryToMutableItem(SignedPacket packet, [NotNullWhen(true)] out MutableItem? item)
    {
        ArgumentNullException.ThrowIfNull(packet);
        item = null;
        long seq = packet.Timestamp.AsSeq;
        return seq >= 0
            && MutableItem.TryFromSigned(packet.PublicKey.Bytes, default, seq, packet.EncodedPacket.Span, packet.Signature, out item);
    }

    /// <summary>
    /// The packet an item found on the DHT carries. The Ed25519 signature is not verified again: a
    /// <see cref="MutableItem"/> exists only after Mainline verified it over (seq, v) with its key, and that is the
    /// pkarr signable of the same timestamp and DNS bytes. Every other check of the core runs (seq, sizes, DNS).
    /// </summary>
    public static bool TryToSignedPacket(MutableItem item, [NotNullWhen(true)] out SignedPacket? packet, out SignedPacketError error)
    {
        ArgumentNullException.ThrowIfNull(item);
        if (!item.Salt.IsEmpty || !IsByteString(item))
        {
            // The item's signature covers a salt or a value that is not a byte string, so it is not the signature of
            // a pkarr signable: verifying it as one would fail.
            packet = null;
            error = new SignedPacketError(SignedPacketErrorKind.InvalidSignature);
            return false;
        }

        return SignedPacket.TryFromVerifiedMutableItem(
            PublicKey.FromTrustedBytes(item.Key.Span), item.Seq, item.Signature.Span, item.Value.Span, out packet, out error);
    }

    /// <summary>Whether the item's value is a bencoded byte string (<c>len:bytes</c>), as every pkarr value is.</summary>
    private static bool IsByteString(MutableItem item)
    {
        var encoded = item.EncodedValue.Span;
        var value = item.Value.Span;
        Span<byte> prefix = stackalloc byte[12];
        return value.Length.TryFormat(prefix, out int digits, provider: CultureInfo.InvariantCulture)
            && encoded.Length == digits + 1 + value.Length
            && encoded.StartsWith(prefix[..digits])
            && encoded[digits] == (byte)':'
            && encoded[(digits + 1)..].SequenceEqual(value);
    }
}
