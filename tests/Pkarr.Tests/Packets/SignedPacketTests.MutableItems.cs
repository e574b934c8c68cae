using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Tests.Packets;

/// <summary>BEP 44 items to packets (spec §4.3): the verifying public path and the client's path for items Mainline verified.</summary>
public sealed class SignedPacketMutableItemTests
{
    private delegate bool FromItem(PublicKey key, long seq, ReadOnlySpan<byte> signature, ReadOnlySpan<byte> value, out SignedPacket? packet, out SignedPacketError error);

    private static readonly FromItem Verifying = (PublicKey k, long s, ReadOnlySpan<byte> sig, ReadOnlySpan<byte> v, out SignedPacket? p, out SignedPacketError e) =>
        SignedPacket.TryFromMutableItem(k, s, sig, v, out p, out e);

    private static readonly FromItem Trusting = (PublicKey k, long s, ReadOnlySpan<byte> sig, ReadOnlySpan<byte> v, out SignedPacket? p, out SignedPacketError e) =>
        SignedPacket.TryFromVerifiedMutableItem(k, s, sig, v, out p, out e);

    private static (PublicKey Key, long Seq, byte[] Signature, byte[] Value) Item(string name)
    {
        var vector = Vectors.Load().RootElement.GetProperty("signed_packets").GetProperty(name);
        return (
            PublicKey.Parse(vector.GetProperty("public_key_z32").GetString()!),
            vector.GetProperty("timestamp").GetInt64(),
            Convert.FromHexString(vector.GetProperty("signature_hex").GetString()!),
            Convert.FromHexString(vector.GetProperty("dns_packet_hex").GetString()!));
    }

    [Theory]
    [MemberData(nameof(SignedPacketTests.PacketNames), MemberType = typeof(SignedPacketTests))]
    public void Both_paths_give_the_vector_bytes_and_records(string name)
    {
        var (key, seq, signature, value) = Item(name);
        byte[] expected = Convert.FromHexString(
            Vectors.Load().RootElement.GetProperty("signed_packets").GetProperty(name).GetProperty("signed_packet_hex").GetString()!);

        Assert.True(Verifying(key, seq, signature, value, out var verified, out var error), error.Message);
        Assert.True(Trusting(key, seq, signature, value, out var trusted, out error), error.Message);
        Assert.Equal(expected, verified!.Bytes.ToArray());
        Assert.Equal(expected, trusted!.Bytes.ToArray());
        Assert.Equal(key, trusted.PublicKey);
        Assert.Equal(verified.AllResourceRecords, trusted.AllResourceRecords);
    }

    public static TheoryData<string, SignedPacketErrorKind> Refusals() => new()
    {
        { "negative seq", SignedPacketErrorKind.NegativeSeq },
        { "short signature", SignedPacketErrorKind.InvalidSignature },
        { "long signature", SignedPacketErrorKind.InvalidSignature },
        { "value over 1000 bytes", SignedPacketErrorKind.PacketTooLarge },
        { "value not DNS", SignedPacketErrorKind.InvalidDnsPacket },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Every_check_but_the_signature_refuses_on_both_paths(string change, SignedPacketErrorKind kind)
    {
        var (key, seq, signature, value) = Item("single_a_record");
        switch (change)
        {
            case "negative seq":
                seq = -1;
                break;
            case "short signature":
                signature = signature[..63];
                break;
            case "long signature":
                signature = [.. signature, 0];
                break;
            case "value over 1000 bytes":
                value = [.. value, .. new byte[1001 - value.Length]];
                break;
            default:
                // Correctly signed, so the verifying path also gets as far as the DNS check.
                using (var keypair = Keypair.FromSecretKey(Convert.FromHexString(
                    Vectors.Load().RootElement.GetProperty("signed_packets").GetProperty("single_a_record").GetProperty("seed_hex").GetString()!)))
                {
                    value = [0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x05];
                    signature = RawPackets.Sign(keypair, (ulong)seq, value)[32..96];
                }

                break;
        }

        foreach (var path in new[] { Verifying, Trusting })
        {
            Assert.False(path(key, seq, signature, value, out var packet, out var error));
            Assert.Null(packet);
            Assert.Equal(kind, error.Kind);
        }
    }

    [Fact]
    public void Only_the_public_path_checks_the_signature()
    {
        var (key, seq, signature, value) = Item("single_a_record");
        signature[10] ^= 0x01;
        Assert.False(Verifying(key, seq, signature, value, out _, out var error));
        Assert.Equal(SignedPacketErrorKind.InvalidSignature, error.Kind);

        // The same for a changed seq or value: the signature no longer covers them.
        var (_, _, good, _) = Item("single_a_record");
        Assert.False(Verifying(key, seq + 1, good, value, out _, out error));
        Assert.Equal(SignedPacketErrorKind.InvalidSignature, error.Kind);

        // The trusting path takes whatever its caller vouches for; that is why only Pkarr.Client may call it.
        Assert.True(Trusting(key, seq, signature, value, out var packet, out _));
        Assert.Equal(signature, packet!.Signature.ToArray());
    }
}
