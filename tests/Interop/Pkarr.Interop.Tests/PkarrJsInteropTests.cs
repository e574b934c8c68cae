// Interop with the JS implementation on npm (`pkarr` 1.3.0, libsodium, dns-packet): packets we sign verify and
// decode there with the same records, and packets it signs (uncompressed DNS) verify and decode here.

using System.Net;
using System.Text.Json;
using Pkarr.Dns;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Interop.Tests;

public sealed class PkarrJsInteropTests
{
    private static readonly byte[] Seed = Convert.FromHexString("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");

    public static TheoryData<string> PacketShapes => ["txt", "addresses", "mixed", "long-txt", "compressed-many"];

    private static SignedPacket Build(Keypair keypair, string shape, ulong timestamp)
    {
        var builder = SignedPacket.Builder().Timestamp(new Timestamp(timestamp));
        switch (shape)
        {
            case "txt":
                builder.Txt("@", "hello=world", 300);
                break;
            case "addresses":
                builder.A("www", IPAddress.Parse("127.0.0.1"), 30).Aaaa("www", IPAddress.Parse("2001:db8::7"), 30).A(".", IPAddress.Parse("10.0.0.1"), 60);
                break;
            case "mixed":
                builder.Cname("alias", "www.example.com", 120)
                    .Ns("sub", "ns1.example.com", 3600)
                    .Mx("@", 10, "mail.example.com", 300)
                    .Txt("_service._tcp", "v=1 k=ed25519", 60)
                    .Https("@", SvcbData.Https(1, DnsName.Root).WithAlpn("h2", "h3").WithPort(443), 3600);
                break;
            case "long-txt":
                builder.Txt("_long", new string('z', 600), 300);
                break;
            default:
                for (int i = 0; i < 10; i++)
                {
                    builder.A($"node{i}.cluster", IPAddress.Parse($"192.0.2.{i}"), 300);
                }

                break;
        }

        return builder.Sign(keypair);
    }

    [Theory]
    [MemberData(nameof(PacketShapes))]
    public void Packets_we_sign_verify_and_decode_in_pkarr_js(string shape)
    {
        using var keypair = Keypair.FromSecretKey(Seed);
        var packet = Build(keypair, shape, 1_700_000_000_000_000);

        var (exit, output) = NodePeer.Run(
            "verify",
            "--pubkey", Convert.ToHexStringLower(keypair.PublicKey.Bytes),
            "--payload", Convert.ToHexStringLower(packet.RelayPayload.Span));
        using (output)
        {
            var root = output.RootElement;
            Assert.True(exit == 0, root.ToString());
            Assert.Equal(1_700_000_000_000_000L, root.GetProperty("timestamp").GetInt64());
            AssertSameRecords(packet, root.GetProperty("records"));
        }
    }

    [Fact]
    public void A_tampered_packet_is_rejected_by_pkarr_js()
    {
        using var keypair = Keypair.FromSecretKey(Seed);
        byte[] payload = Build(keypair, "txt", 1_700_000_000_000_000).RelayPayload.ToArray();
        payload[^1] ^= 0x20;
        var (exit, output) = NodePeer.Run("verify", "--pubkey", Convert.ToHexStringLower(keypair.PublicKey.Bytes), "--payload", Convert.ToHexStringLower(payload));
        using (output)
        {
            Assert.Equal(3, exit);
            Assert.False(output.RootElement.GetProperty("ok").GetBoolean());
        }
    }

    [Fact]
    public void Packets_pkarr_js_signs_verify_and_decode_here()
    {
        const string records = """
            [{"name":"@","type":"TXT","ttl":300,"data":"hello=world"},
             {"name":"www","type":"A","ttl":30,"data":"127.0.0.1"},
             {"name":"www","type":"AAAA","ttl":30,"data":"2001:db8::1"},
             {"name":"alias","type":"CNAME","ttl":60,"data":"www.example.com"},
             {"name":"@","type":"MX","ttl":300,"data":{"preference":10,"exchange":"mail.example.com"}},
             {"name":"sub","type":"NS","ttl":300,"data":"ns1.example.com"}]
            """;
        var (exit, output) = NodePeer.Run("sign", "--seed", Convert.ToHexStringLower(Seed), "--timestamp", "1731421384123456", "--records", records);
        using (output)
        {
            var root = output.RootElement;
            Assert.True(exit == 0, root.ToString());
            var key = PublicKey.FromBytes(Convert.FromHexString(root.GetProperty("public_key_hex").GetString()!));
            byte[] payload = Convert.FromHexString(root.GetProperty("relay_payload_hex").GetString()!);

            Assert.True(SignedPacket.TryFromRelayPayload(key, payload, out var packet, out var error), error.Message);
            Assert.Equal(1731421384123456UL, packet.Timestamp.Microseconds);
            AssertSameRecords(packet, root.GetProperty("records"));

            // The JS encoder does not compress, so our bytes for the same records differ but mean the same.
            using var keypair = Keypair.FromSecretKey(Seed);
            var ours = SignedPacket.Builder().Timestamp(packet.Timestamp);
            foreach (var record in packet.AllResourceRecords)
            {
                ours.Record(record);
            }

            var rebuilt = ours.Sign(keypair);
            Assert.True(rebuilt.EncodedPacket.Length < packet.EncodedPacket.Length);
            Assert.Equal(packet.AllResourceRecords.Select(r => r.ToString()), rebuilt.AllResourceRecords.Select(r => r.ToString()));
        }
    }

    [Fact]
    public void The_uncompressed_vector_verifies_in_pkarr_js()
    {
        // The spec's vector file lives beside the repository: ../shared/spec.
        string path = Path.Combine(NodePeer.RepositoryRoot, "..", "shared", "spec", "pkarr-vectors.json");
        using var vectors = JsonDocument.Parse(File.ReadAllText(path));
        foreach (var name in new[] { "multi_record_compressed", "multi_record_uncompressed" })
        {
            var vector = vectors.RootElement.GetProperty("signed_packets").GetProperty(name);
            var (exit, output) = NodePeer.Run("verify", "--pubkey", vector.GetProperty("public_key_hex").GetString()!, "--payload", vector.GetProperty("relay_payload_hex").GetString()!);
            using (output)
            {
                Assert.Equal(0, exit);
                var packet = SignedPacket.FromBytes(Convert.FromHexString(vector.GetProperty("signed_packet_hex").GetString()!));
                AssertSameRecords(packet, output.RootElement.GetProperty("records"));
            }
        }
    }

    /// <summary>Our decoding of <paramref name="packet"/> equals the records pkarr-peer.mjs printed, in order.</summary>
    internal static void AssertSameRecords(SignedPacket packet, JsonElement theirs)
    {
        var ours = packet.AllResourceRecords;
        Assert.Equal(ours.Count, theirs.GetArrayLength());
        for (int i = 0; i < ours.Count; i++)
        {
            var record = ours[i];
            var other = theirs[i];
            Assert.Equal(record.Name.ToString(), other.GetProperty("name").GetString());
            Assert.Equal(record.Ttl, other.GetProperty("ttl").GetUInt32());
            var data = other.GetProperty("data");
            switch (record.Data)
            {
                case AData a:
                    Assert.Equal("A", other.GetProperty("type").GetString());
                    Assert.Equal(a.Address.ToString(), data.GetString());
                    break;
                case AaaaData aaaa:
                    Assert.Equal("AAAA", other.GetProperty("type").GetString());
                    Assert.Equal(aaaa.Address, IPAddress.Parse(data.GetString()!));
                    break;
                case CnameData cname:
                    Assert.Equal(cname.Target.ToString(), data.GetString());
                    break;
                case NsData ns:
                    Assert.Equal(ns.NameServer.ToString(), data.GetString());
                    break;
                case MxData mx:
                    Assert.Equal(mx.Preference, data.GetProperty("preference").GetUInt16());
                    Assert.Equal(mx.Exchange.ToString(), data.GetProperty("exchange").GetString());
                    break;
                case TxtData txt:
                    Assert.Equal(txt.Text, string.Concat(data.EnumerateArray().Select(s => s.GetString())));
                    break;
                default:
                    // dns-packet 5.6 has no SVCB/HTTPS codec: it hands back the raw rdata, which must be ours byte for byte.
                    Assert.Equal(Convert.ToHexStringLower(record.Data.ToWire()), data.GetString());
                    break;
            }
        }
    }
}
