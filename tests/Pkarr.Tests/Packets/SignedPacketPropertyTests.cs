using System.Net;
using CsCheck;
using Pkarr.Dns;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Tests.Packets;

public sealed class SignedPacketPropertyTests
{
    private static readonly Keypair Signer = Keypair.FromSecretKey(new byte[32]);

    private static readonly Gen<string> Label = Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789_-"].Array[1, 12].Select(c => new string(c));

    private static readonly string Key = Signer.PublicKey.ToString();

    // Some names already end in the key, so that owner names written as "name + key" share suffixes (and
    // compression pointers) with names written whole.
    private static readonly Gen<string> Name = Gen.OneOf(
        Gen.Const("@"),
        Gen.Const("."),
        Label,
        Label.Array[2, 4].Select(labels => string.Join('.', labels)),
        Label.Array[1, 3].Select(labels => string.Join('.', labels) + "." + Key));

    private static readonly Gen<string> Target = Gen.OneOf(
        Label.Array[1, 4].Select(labels => string.Join('.', labels)),
        Label.Array[0, 3].Select(labels => string.Join('.', [.. labels, Key])));

    private static readonly Gen<Action<SignedPacketBuilder>> Record = Gen.OneOf(
        Gen.Select(Name, Gen.UInt, Gen.Byte.Array[4], (n, ttl, ip) => (Action<SignedPacketBuilder>)(b => b.A(n, new IPAddress(ip), ttl))),
        Gen.Select(Name, Gen.UInt, Gen.Byte.Array[16], (n, ttl, ip) => (Action<SignedPacketBuilder>)(b => b.Aaaa(n, new IPAddress(ip), ttl))),
        Gen.Select(Name, Gen.UInt, Target, (n, ttl, t) => (Action<SignedPacketBuilder>)(b => b.Cname(n, t, ttl))),
        Gen.Select(Name, Gen.UInt, Target, (n, ttl, t) => (Action<SignedPacketBuilder>)(b => b.Ns(n, t, ttl))),
        Gen.Select(Name, Gen.UShort, Target, (n, pref, t) => (Action<SignedPacketBuilder>)(b => b.Mx(n, pref, t, 300))),
        Gen.Select(Name, Gen.UInt, Gen.String[0, 300], (n, ttl, text) => (Action<SignedPacketBuilder>)(b => b.Txt(n, text, ttl))),
        Gen.Select(Name, Gen.UShort, Gen.UShort, (n, priority, port) => (Action<SignedPacketBuilder>)(b =>
            b.Https(n, SvcbData.Https(priority, DnsName.Root).WithAlpn("h2", "h3").WithPort(port)))),
        Gen.Select(Name, Gen.UShort, Target, (n, priority, t) => (Action<SignedPacketBuilder>)(b =>
            b.Svcb(n, SvcbData.Svcb(priority, DnsName.Parse(t)).WithIpv4Hint(IPAddress.Loopback)))));

    private static readonly Gen<(Action<SignedPacketBuilder>[] Records, ulong Timestamp, bool Compress)> Packet =
        Gen.Select(Record.Array[0, 12], Gen.ULong[0, long.MaxValue], Gen.Bool);

    private static SignedPacket? TryBuild((Action<SignedPacketBuilder>[] Records, ulong Timestamp, bool Compress) input)
    {
        var builder = SignedPacket.Builder().Timestamp(new Timestamp(input.Timestamp)).Compression(input.Compress);
        foreach (var add in input.Records)
        {
            add(builder);
        }

        return builder.TrySign(Signer, out var packet, out var error)
            ? packet
            : error.Kind == SignedPacketErrorKind.PacketTooLarge ? null : throw new InvalidOperationException(error.Message);
    }

    [Fact]
    public void Built_packets_decode_to_the_same_records()
    {
        Packet.Sample(
            input =>
            {
                var packet = TryBuild(input);
                if (packet is null)
                {
                    return;
                }

                var decoded = SignedPacket.FromBytes(packet.Bytes.Span);
                Assert.True(decoded.IsSameAs(packet));
                Assert.Equal(packet.AllResourceRecords, decoded.AllResourceRecords);
                Assert.Equal(input.Timestamp, decoded.Timestamp.Microseconds);
                Assert.True(decoded.EncodedPacket.Length <= SignedPacket.MaxDnsLength);
            },
            iter: 2_000);
    }

    // Owner names as callers write them: unicode labels, empty labels, trailing dots, the key in any position.
    private static readonly Gen<string> LooseName = Gen.OneOf(
        Name,
        Gen.Select(Label, Gen.Char["äé€😀"].Array[1, 5], Label, (a, b, c) => $"{a}.{new string(b)}..{c}."),
        Gen.Select(Label, Label, (a, b) => $"{a}.{Key}.{b}"),
        Gen.Select(Label.Array[1, 3], labels => "." + string.Join("..", labels) + "."));

    [Fact]
    public void Owner_names_are_normalised_like_the_text_rule()
    {
        // Names are kept in wire form as they are added and normalised under the key at signing; the result must
        // be the text rule (spec §3.4.1, Names.Normalize) applied to what the caller wrote, whichever method added it.
        Gen.Select(LooseName.Array[1, 8], Gen.Bool.Array[8]).Sample(
            input =>
            {
                var (names, asRecord) = input;
                var builder = SignedPacket.Builder();
                for (int i = 0; i < names.Length; i++)
                {
                    if (asRecord[i])
                    {
                        builder.Record(new ResourceRecord(DnsName.Parse(names[i]), DnsClass.IN, 60, new TxtData("r")));
                    }
                    else
                    {
                        builder.A(names[i], IPAddress.Loopback, 60);
                    }
                }

                var packet = builder.Sign(Signer);
                var expected = names.Select(n => DnsName.Parse(Names.Normalize(Key, n)));
                Assert.Equal(expected, packet.AllResourceRecords.Select(r => r.Name));
            },
            iter: 2_000);
    }

    [Fact]
    public void Signing_writes_the_bytes_of_the_normalised_message()
    {
        // The builder writes owner names as "name + key" without joining them; its bytes must be those of the
        // message with every owner name normalised (spec §3.4.1) and encoded the ordinary way.
        Packet.Sample(
            input =>
            {
                var packet = TryBuild(input);
                if (packet is null)
                {
                    return;
                }

                var normalised = new DnsMessage
                {
                    Id = 0,
                    Flags = DnsMessage.ResponseFlags,
                    Answers = [.. packet.AllResourceRecords],
                };
                Assert.Equal(normalised.Encode(input.Compress), packet.EncodedPacket.ToArray());
                Assert.All(packet.AllResourceRecords, r => Assert.True(r.Name.EndsWith(DnsName.Parse(Key))));
            },
            iter: 2_000);
    }

    [Fact]
    public void Mutated_or_truncated_packets_are_rejected_with_a_typed_error_or_parsed()
    {
        // Mutating signed bytes almost always breaks the signature; re-signing the mutated DNS makes the DNS
        // reader the one to judge, which is the interesting part. 100 000 cases in all.
        var mutation = Gen.Select(Packet, Gen.Int[0, 3], Gen.Int, Gen.Byte, Gen.Bool);
        mutation.Sample(
            m =>
            {
                var (input, kind, position, value, resign) = m;
                var packet = TryBuild(input);
                if (packet is null)
                {
                    return;
                }

                byte[] dns = packet.EncodedPacket.ToArray();
                int at = dns.Length == 0 ? 0 : (int)((uint)position % dns.Length);
                dns = kind switch
                {
                    0 => dns[..at],
                    1 => [.. dns[..at], value, .. dns[at..]],
                    _ => Flip(dns, at, value),
                };

                byte[] canonical = resign ? RawPackets.Sign(Signer, input.Timestamp, dns) : [.. packet.Bytes.Span[..SignedPacket.HeaderLength], .. dns];
                if (SignedPacket.TryFromBytes(canonical, out var parsed, out var error))
                {
                    Assert.NotNull(parsed.AllResourceRecords);
                    _ = parsed.ToString();
                }
                else
                {
                    Assert.False(string.IsNullOrEmpty(error.Message));
                    Assert.Null(parsed);
                }
            },
            iter: 100_000,
            threads: 1);
    }

    private static byte[] Flip(byte[] dns, int at, byte value)
    {
        if (dns.Length > 0)
        {
            dns[at] ^= value == 0 ? (byte)1 : value;
        }

        return dns;
    }
}
