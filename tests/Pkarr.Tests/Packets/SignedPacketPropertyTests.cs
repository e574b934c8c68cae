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

    /// <summary>
    /// Signs the input's records, or as many of the first ones as fit in 1000 bytes: every case yields a packet (none
    /// is dropped), and large inputs give packets near the limit.
    /// </summary>
    private static SignedPacket Build((Action<SignedPacketBuilder>[] Records, ulong Timestamp, bool Compress) input)
    {
        for (int count = input.Records.Length; ; count--)
        {
            var builder = SignedPacket.Builder().Timestamp(new Timestamp(input.Timestamp)).Compression(input.Compress);
            foreach (var add in input.Records.AsSpan(0, count))
            {
                add(builder);
            }

            if (builder.TrySign(Signer, out var packet, out var error))
            {
                return packet;
            }

            // Only size can refuse these records, and no records at all always fit.
            Assert.Equal(SignedPacketErrorKind.PacketTooLarge, error.Kind);
            Assert.True(count > 0);
        }
    }

    [Fact]
    public void Built_packets_decode_to_the_same_records()
    {
        Packet.Sample(
            input =>
            {
                var packet = Build(input);
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
        // be the text rule of spec §3.4.1 applied to the name as the reference's name type holds it (empty labels
        // collapsed, no trailing dot), whichever method added it. The rule is written out here as the spec states it.
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
                var expected = names.Select(n => DnsName.Parse(SpecNormalize(DnsName.Parse(n).ToString())));
                Assert.Equal(expected, packet.AllResourceRecords.Select(r => r.Name));
            },
            iter: 2_000);
    }

    /// <summary>Spec §3.4.1 on text: only the last piece counts; the key keeps the name, "@" or "" is the apex.</summary>
    private static string SpecNormalize(string name)
    {
        string last = name[(name.LastIndexOf('.') + 1)..];
        return last == Key ? name : last is "" or "@" ? Key : name + "." + Key;
    }

    [Fact]
    public void Signing_writes_the_bytes_of_the_normalised_message()
    {
        // The builder writes owner names as "name + key" without joining them; its bytes must be those of the
        // message with every owner name normalised (spec §3.4.1) and encoded the ordinary way.
        Packet.Sample(
            input =>
            {
                var packet = Build(input);
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

    /// <summary>Which part of the canonical bytes a mutation changes.</summary>
    private enum Part
    {
        Key,
        Signature,
        Timestamp,
        Dns,
    }

    [Fact]
    public void Any_change_to_signed_bytes_or_the_key_is_refused_with_its_error()
    {
        // Without re-signing, every change to the key, signature, timestamp or DNS bytes must be refused, with the
        // error of spec §3.5's first failing check; only a "change" that leaves the bytes as they were is accepted.
        int cases = 0;
        int unchanged = 0;
        var mutation = Gen.Select(Packet, Gen.Enum<Part>(), Gen.Int[0, 2], Gen.Int[0, int.MaxValue], Gen.Byte);
        mutation.Sample(
            m =>
            {
                var (input, part, kind, position, value) = m;
                var packet = Build(input);
                byte[] original = packet.Bytes.ToArray();
                var (start, length) = part switch
                {
                    Part.Key => (0, PublicKey.Length),
                    Part.Signature => (PublicKey.Length, Keypair.SignatureLength),
                    Part.Timestamp => (96, 8),
                    _ => (SignedPacket.HeaderLength, original.Length - SignedPacket.HeaderLength),
                };
                byte[] canonical = part == Part.Dns
                    ? [.. original[..start], .. Edit(original[start..], kind, position, value)]
                    : [.. original[..start], .. Flip(original[start..(start + length)], (int)((uint)position % length), value), .. original[(start + length)..]];

                cases++;
                bool accepted = SignedPacket.TryFromBytes(canonical, out var parsed, out var error);
                if (canonical.AsSpan().SequenceEqual(original))
                {
                    Assert.True(accepted, error.Message);
                    Assert.True(parsed!.IsSameAs(packet));
                    unchanged++;
                    return;
                }

                Assert.False(accepted);
                Assert.Null(parsed);
                var expected = canonical.Length > SignedPacket.MaxLength ? SignedPacketErrorKind.PacketTooLarge
                    : part == Part.Key && !Ed25519Point.IsOnCurve(canonical.AsSpan(0, PublicKey.Length)) ? SignedPacketErrorKind.InvalidEd25519PublicKey
                    : SignedPacketErrorKind.InvalidSignature;
                Assert.Equal(expected, error.Kind);
            },
            iter: 20_000,
            threads: 1);

        Assert.Equal(20_000, cases);
        Assert.True(unchanged < cases / 10, $"{unchanged} of {cases} mutations left the bytes unchanged");
    }

    [Fact]
    public void Re_signed_dns_mutations_are_parsed_exactly_or_refused_by_the_dns_check()
    {
        // Re-signing the mutated DNS bytes makes the DNS reader the judge: an accepted packet holds exactly the
        // signed bytes and its records are what DnsMessage reads from them; a refused one carries the DNS reader's
        // own error for those bytes.
        int accepted = 0;
        int refused = 0;
        var mutation = Gen.Select(Packet, Gen.Int[0, 2], Gen.Int[0, int.MaxValue], Gen.Byte);
        mutation.Sample(
            m =>
            {
                var (input, kind, position, value) = m;
                var packet = Build(input);
                byte[] dns = Edit(packet.EncodedPacket.ToArray(), kind, position, value);
                byte[] canonical = RawPackets.Sign(Signer, input.Timestamp, dns);

                if (SignedPacket.TryFromBytes(canonical, out var parsed, out var error))
                {
                    Assert.Equal(canonical, parsed.Bytes.ToArray());
                    Assert.True(DnsMessage.TryParse(dns, out var message, out var dnsError), dnsError.Message);
                    Assert.Equal(message.Answers, parsed.AllResourceRecords);
                    _ = parsed.ToString();
                    accepted++;
                }
                else if (dns.Length > SignedPacket.MaxDnsLength)
                {
                    Assert.Equal(SignedPacketErrorKind.PacketTooLarge, error.Kind);
                    refused++;
                }
                else
                {
                    Assert.Null(parsed);
                    Assert.Equal(SignedPacketErrorKind.InvalidDnsPacket, error.Kind);
                    Assert.False(DnsMessage.TryValidate(dns, out var dnsError));
                    Assert.Equal(dnsError, error.Dns);
                    Assert.NotEqual(DnsErrorKind.None, error.Dns.Kind);
                    refused++;
                }
            },
            iter: 20_000,
            threads: 1);

        Assert.Equal(20_000, accepted + refused);
        Assert.True(accepted > 1_000 && refused > 1_000, $"{accepted} accepted, {refused} refused: one side is barely tested");
    }

    /// <summary>Truncates (0), inserts a byte into (1) or flips bits of (2) <paramref name="dns"/>.</summary>
    private static byte[] Edit(byte[] dns, int kind, int position, byte value)
    {
        int at = (int)((uint)position % (dns.Length + 1));
        return kind switch
        {
            0 => dns[..at],
            1 => [.. dns[..at], value, .. dns[at..]],
            _ => Flip(dns, Math.Min(at, dns.Length - 1), value),
        };
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
