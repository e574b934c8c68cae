using System.Net;
using CsCheck;
using Pkarr.Dns;
using Pkarr.DnsServer.Answering;
using Pkarr.Keys;
using Pkarr.Packets;
using static Pkarr.DnsServer.Tests.Answering.Fixtures;

namespace Pkarr.DnsServer.Tests.Answering;

/// <summary>Whatever a packet holds and whatever is asked, the answering code never throws and its answers encode.</summary>
public sealed class AnsweringPropertyTests
{
    private static readonly byte[] KeyLabel = Ascii(K);
    private static readonly byte[] LongLabel = [.. Enumerable.Repeat((byte)'x', 63)];

    private static readonly Gen<byte[]> GenLabel = Gen.Frequency(
        (4, Gen.OneOfConst("www"u8.ToArray(), "a"u8.ToArray(), "*"u8.ToArray(), "sub"u8.ToArray(), "WWW"u8.ToArray(), "-"u8.ToArray())),
        (1, Gen.OneOfConst(KeyLabel, Ascii(K.ToUpperInvariant()), Ascii(K2), Ascii(NonCanonical(K)), "key"u8.ToArray(), LongLabel)),
        (1, Gen.Byte.Array[1, 8]));

    private static readonly Gen<DnsName> GenRelative = GenLabel.Array[0, 4].Select(Build);

    private static readonly Gen<DnsName> GenName = Gen.Frequency(
        (4, GenRelative.Select(r => Build([.. LabelsOf(r), KeyLabel]))),
        (1, GenRelative));

    private static readonly Gen<RecordData> GenData = Gen.OneOf<RecordData>(
        Gen.Byte.Array[4].Select(b => (RecordData)new AData(new IPAddress(b))),
        Gen.Byte.Array[16].Select(b => (RecordData)new AaaaData(new IPAddress(b))),
        GenName.Select(n => (RecordData)new CnameData(n)),
        GenName.Select(n => (RecordData)new CnameData(n)),
        GenName.Select(n => (RecordData)new NsData(n)),
        Gen.Select(Gen.UShort, GenName, (p, n) => (RecordData)new MxData(p, n)),
        GenName.Select(n => (RecordData)SvcbData.Https(1, n).WithAlpn("h2")),
        GenName.Select(n => (RecordData)new SoaData(n, n, 1, 2, 3, 4, 5)),
        Gen.Byte.Array[0, 20].Select(b => (RecordData)new TxtData([b])),
        Gen.Select(Gen.UShort, Gen.Byte.Array[0, 8], (t, b) => (RecordData)new UnknownData((RecordType)t, b)));

    private static readonly Gen<ResourceRecord> GenRecord = Gen.Select(
        GenName,
        Gen.OneOfConst(DnsClass.IN, DnsClass.IN, DnsClass.IN, DnsClass.CH),
        Gen.UInt,
        GenData,
        (name, @class, ttl, data) => new ResourceRecord(name, @class, ttl, data));

    private static readonly Gen<RecordType> GenType = Gen.Frequency(
        (6, Gen.OneOfConst(RecordType.A, RecordType.AAAA, RecordType.CNAME, RecordType.NS, RecordType.MX, RecordType.TXT, RecordType.HTTPS, RecordType.SOA, (RecordType)255)),
        (1, Gen.UShort.Select(t => (RecordType)t)));

    private static readonly Gen<DnsName> GenSuffix = Gen.OneOfConst(
        DnsName.Root, Name("key"), Name("KEY"), Name("example.net"), Name("isp.network"), Build([LongLabel, LongLabel]));

    private sealed record Case(ResourceRecord[] Records, DnsName Relative, DnsName Suffix, RecordType Type, DnsClass Class, uint Age, bool Hinfo);

    private static readonly Gen<Case> GenCase = Gen.Select(
        GenRecord.Array[0, 14],
        GenRelative,
        GenSuffix,
        GenType,
        Gen.OneOfConst(DnsClass.IN, DnsClass.IN, DnsClass.ANY, DnsClass.CH),
        Gen.UInt[0, 100_000],
        Gen.Bool,
        (records, relative, suffix, type, @class, age, hinfo) => new Case(records, relative, suffix, type, @class, age, hinfo));

    [Fact]
    public void Random_packets_and_questions_never_throw_and_answers_round_trip()
    {
        var matcher = Matcher(origins: "example.net");
        int answered = 0;
        GenCase.Sample(
            c =>
            {
                if (TryPacket(c.Records) is not { } packet
                    || !c.Relative.TryAppend(Build([KeyLabel]), out var underKey)
                    || !underKey.TryAppend(c.Suffix, out var qname))
                {
                    return;
                }

                var match = matcher.Match(qname);
                if (match.Kind != PkarrNameKind.Pkarr || match.Key != packet.PublicKey)
                {
                    return;
                }

                var options = new AnsweringOptions { MinimumTtl = 30, MaximumTtl = 3600, AnyAsHinfo = c.Hinfo };
                var result = new PacketAnswerer(options).Answer(packet, match, c.Type, c.Class, c.Age);
                answered++;
                Check(result, qname, c.Type, c.Class);
            },
            iter: 3000);
        Assert.True(answered > 500, $"only {answered} cases reached the answerer");
    }

    [Fact]
    public void Random_names_never_throw_in_the_matcher()
    {
        var matcher = Matcher(origins: "example.net");
        GenLabel.Array[0, 12].Select(Build).Sample(
            name =>
            {
                var match = matcher.Match(name);
                if (match.Kind == PkarrNameKind.Pkarr)
                {
                    // The parts put back together are the name.
                    Assert.True(match.Relative.TryAppend(Build([Ascii(match.Key.ToZ32())]), out var joined));
                    Assert.True(joined.TryAppend(match.Suffix, out var whole));
                    Assert.Equal(Labels.ToLower(name), Labels.ToLower(whole));
                }
            },
            iter: 5000);
    }

    [Fact]
    public void A_reply_name_too_long_for_the_suffix_is_servfail_not_a_crash()
    {
        string longTarget = $"{new string('a', 60)}.{new string('b', 60)}.{K}";
        var packet = SignedPacket.Builder().Cname("go", longTarget).Ns("sub", longTarget).A("www", IPAddress.Loopback).Sign(Signer);
        var suffix = Build([LongLabel, LongLabel]);
        var qname = Build([Ascii("go"), KeyLabel, .. LabelsOf(suffix)]);
        var answerer = new PacketAnswerer(new AnsweringOptions());
        var match = Matcher().Match(qname);
        Assert.Equal(PkarrNameKind.Pkarr, match.Kind);
        Assert.Equal(ResponseCode.ServerFailure, answerer.Answer(packet, match, RecordType.A, DnsClass.IN).ResponseCode);
        var referral = Matcher().Match(Build([Ascii("sub"), KeyLabel, .. LabelsOf(suffix)]));
        Assert.Equal(ResponseCode.ServerFailure, answerer.Answer(packet, referral, RecordType.A, DnsClass.IN).ResponseCode);
        var fine = Matcher().Match(Build([Ascii("www"), KeyLabel, .. LabelsOf(suffix)]));
        Assert.Single(answerer.Answer(packet, fine, RecordType.A, DnsClass.IN).Answers);
    }

    private static void Check(AnswerResult result, DnsName qname, RecordType type, DnsClass @class)
    {
        ushort flags = (ushort)(0x8000 | (result.Authoritative ? 0x0400 : 0) | (int)result.ResponseCode);
        var message = new DnsMessage
        {
            Id = 7,
            Flags = flags,
            Questions = [new DnsQuestion(qname, type, @class)],
            Answers = result.Answers,
            Authorities = result.Authorities,
            Additionals = result.Additionals,
        };
        foreach (bool compress in new[] { true, false })
        {
            var parsed = DnsMessage.Parse(message.Encode(compress));
            Assert.Equal(flags, parsed.Flags);
            Assert.Equal(result.Answers, parsed.Answers);
            Assert.Equal(result.Authorities, parsed.Authorities);
            Assert.Equal(result.Additionals, parsed.Additionals);
        }

        foreach (var record in result.Answers.Concat(result.Authorities).Concat(result.Additionals))
        {
            Assert.Equal(DnsClass.IN, record.Class);
        }

        switch (result.ResponseCode)
        {
            case ResponseCode.NameError:
                Assert.Equal(RecordType.SOA, Assert.Single(result.Authorities).Type);
                break;
            case ResponseCode.NoError when result.IsReferral:
                Assert.All(result.Authorities, r => Assert.Equal(RecordType.NS, r.Type));
                Assert.All(result.Additionals, r => Assert.True(r.Type is RecordType.A or RecordType.AAAA));
                Assert.Equal(result.Answers.Count > 0, result.Authoritative);
                break;
            case ResponseCode.NoError:
                Assert.True(result.Authoritative);
                Assert.True(result.Answers.Count > 0 || Assert.Single(result.Authorities).Type == RecordType.SOA);
                Assert.All(result.Answers, r => Assert.InRange(r.Ttl, 30u, 3789u));
                if (result.ExternalTarget is not null)
                {
                    Assert.Equal(result.ExternalTarget, Assert.IsType<CnameData>(result.Answers[^1].Data).Target);
                }

                break;
            default:
                Assert.Empty(result.Answers);
                Assert.Empty(result.Authorities);
                break;
        }
    }

    private static SignedPacket? TryPacket(ResourceRecord[] records)
    {
        byte[] dns;
        try
        {
            dns = DnsMessage.Response(records).Encode();
        }
        catch (ArgumentException)
        {
            return null;
        }

        if (dns.Length > SignedPacket.MaxDnsLength)
        {
            return null;
        }

        var timestamp = new Timestamp(1_700_000_000_000_000);
        byte[] payload = new byte[64 + 8 + dns.Length];
        Signer.Sign(SignedPacket.Signable(timestamp, dns), payload.AsSpan(0, 64));
        timestamp.WriteBigEndian(payload.AsSpan(64, 8));
        dns.CopyTo(payload.AsSpan(72));
        return SignedPacket.TryFromRelayPayload(Signer.PublicKey, payload, out var packet, out _) ? packet : null;
    }

    private static IEnumerable<byte[]> LabelsOf(DnsName name)
    {
        for (int i = 0; i < name.LabelCount; i++)
        {
            yield return name.Label(i).ToArray();
        }
    }

    /// <summary>A name from labels, leaving out labels that would make it longer than 255 bytes.</summary>
    private static DnsName Build(IEnumerable<byte[]> labels)
    {
        var kept = new List<byte[]>();
        int length = 1;
        foreach (var label in labels)
        {
            if (length + 1 + label.Length <= DnsName.MaxWireLength)
            {
                kept.Add(label);
                length += 1 + label.Length;
            }
        }

        return kept.Count == 0 ? DnsName.Root : DnsName.FromLabels(kept);
    }
}
