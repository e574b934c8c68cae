// The storage form used by persistent caches (spec §3.1): last_seen (u64 big-endian µs) || canonical bytes.

using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using Pkarr.Dns;
using Pkarr.Keys;

namespace Pkarr.Packets;

public sealed partial class SignedPacket
{
    private const ulong FutureToleranceMicros = 60_000_000;

    /// <summary>The storage form: <see cref="LastSeen"/> (8 bytes big-endian) followed by the canonical bytes.</summary>
    public byte[] Serialize()
    {
        byte[] stored = new byte[8 + _bytes.Length];
        BinaryPrimitives.WriteUInt64BigEndian(stored, LastSeen.Microseconds);
        _bytes.CopyTo(stored, 8);
        return stored;
    }

    /// <summary>
    /// Reads the storage form written by <see cref="Serialize"/>. Storage is trusted, so the signature is not
    /// verified again (as the reference), but lengths and the DNS message are checked. A <c>last_seen</c> more
    /// than 60 s in the future (for example an older little-endian form) is reset to 0. Never throws.
    /// </summary>
    public static bool TryDeserialize(ReadOnlySpan<byte> stored, [NotNullWhen(true)] out SignedPacket? packet, out SignedPacketError error)
    {
        packet = null;
        if (stored.Length < 8)
        {
            error = new SignedPacketError(SignedPacketErrorKind.InvalidSignedPacketBytesLength, stored.Length);
            return false;
        }

        var canonical = stored[8..];
        if (!CheckLength(canonical.Length, out error))
        {
            return false;
        }

        if (!DnsMessage.TryValidate(canonical[HeaderLength..], out var dnsError))
        {
            error = new SignedPacketError(SignedPacketErrorKind.InvalidDnsPacket, Dns: dnsError);
            return false;
        }

        ulong lastSeen = BinaryPrimitives.ReadUInt64BigEndian(stored);
        if (lastSeen > Timestamp.WallClockMicros() + FutureToleranceMicros)
        {
            lastSeen = 0;
        }

        var key = PublicKey.FromTrustedBytes(canonical[..PublicKey.Length]);
        packet = new SignedPacket(canonical.ToArray(), key, new Timestamp(lastSeen));
        return true;
    }
}
