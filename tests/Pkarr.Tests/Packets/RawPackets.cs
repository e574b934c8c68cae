using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Tests.Packets;

/// <summary>Canonical packet bytes signed over arbitrary DNS bytes, bypassing the builder (for negative tests).</summary>
internal static class RawPackets
{
    internal static byte[] Sign(Keypair keypair, ulong timestamp, byte[] dns)
    {
        byte[] canonical = new byte[SignedPacket.HeaderLength + dns.Length];
        keypair.PublicKey.Bytes.CopyTo(canonical);
        new Timestamp(timestamp).WriteBigEndian(canonical.AsSpan(96));
        dns.CopyTo(canonical, SignedPacket.HeaderLength);
        keypair.Sign(SignedPacket.Signable(new Timestamp(timestamp), dns)).CopyTo(canonical, 32);
        return canonical;
    }
}
