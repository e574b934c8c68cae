using System.Net;
using CsCheck;
using Pkarr.Dns;

namespace Pkarr.Tests.Dns;

/// <summary>Property tests: random messages round-trip; mutated packets are parsed (and re-encode to the same records) or refused with an error, and validation agrees.</summary>
public partial class DnsMessageTests
{
    // A few fixed labels make suffixes repeat, so compression pointers (and chains of them) are exercised.
    private static readonly Gen<byte[]> GenLabel = Gen.Frequency(
        (3, Gen.OneOfConst("a"u8.ToArray(), "b"u8.ToArray(), "key"u8.ToArray(), "_tcp"u8.ToArray(), "Key"u8.ToArray())),
        (1, Gen.Byte.Array[1, 12]),
        (1, Gen.Byte.Array[60, 63]));

    internal static readonly Gen<DnsName> GenName =
        GenLabel.Array[0, 5].Where(ls => ls.Sum(l => l.Length + 1) < 255).Select(DnsName.FromLabels);

    private static readonly Gen<IPAddress> GenIpv4 = Gen.Byte.Array[4].Select(b => new IPAddress(b));
    private static readonly Gen<IPAddress> GenIpv6 = Gen.Byte.Array[16].Select(b => new IPAddress(b));

    private static readonly Gen<SvcbData> GenSvcb =
        from type in Gen.OneOfConst(RecordType.SVCB, RecordType.HTTPS)
        from priority in Gen.UShort
        from target in GenName
        from mandatory in Gen.UShort.Array[0, 3]
        from alpn in Gen.OneOfConst("h2", "h3", "http/1.1", "a,b", "x\\y").Array[0, 3]
        from noDefault in Gen.Bool
        from port in Gen.UShort.Nullable()
        from v4 in GenIpv4.Array[0, 2]
        from hasEch in Gen.Bool
        from echBytes in Gen.Byte.Array[0, 8]
        from v6 in GenIpv6.Array[0, 2]
        from unknown in Gen.Byte.Array[0, 6].Array[0, 2]
        select Build(type, priority, target, mandatory, alpn, noDefault, port, v4, hasEch ? echBytes : null, v6, unknown);

    private static SvcbData Build(
        RecordType type, ushort priority, DnsName target, ushort[] mandatory, string[] alpn, bool noDefault,
        ushort? port, IPAddress[] v4, byte[]? ech, IPAddress[] v6, byte[][] unknown)
    {
        var data = new SvcbData(type, priority, target);
        if (mandatory.Length > 0) data = data.WithMandatory(mandatory);
        if (alpn.Length > 0) data = data.WithAlpn(alpn);
        if (noDefault) data = data.WithNoDefaultAlpn();
        if (port is { } p) data = data.WithPort(p);
        if (v4.Length > 0) data = data.WithIpv4Hint(v4);
        if (ech is not null) data = data.WithEch(ech);
        if (v6.Length > 0) data = data.WithIpv6Hint(v6);
        for (int i = 0; i < unknown.Length; i++) data = data.WithParam((ushort)(7 + (i * 1000)), unknown[i]);
        return data;
    }

    internal static readonly Gen<RecordData> GenRecordData = Gen.OneOf<RecordData>(
        GenIpv4.Select(a => (RecordData)new AData(a)),
        GenIpv6.Select(a => (RecordData)new AaaaData(a)),
        GenName.Select(n => (RecordData)new NsData(n)),
        GenName.Select(n => (RecordData)new CnameData(n)),
        GenName.Select(n => (RecordData)new PtrData(n)),
        Gen.Select(Gen.UShort, GenName, (p, n) => (RecordData)new MxData(p, n)),
        Gen.Byte.Array[0, 40].Array[1, 4].Select(s => (RecordData)new TxtData(s)),
        Gen.String[0, 600].Select(s => (RecordData)new TxtData(s)),
        Gen.Select(Gen.UShort, Gen.UShort, Gen.UShort, GenName, (a, b, c, n) => (RecordData)new SrvData(a, b, c, n)),
        Gen.Select(Gen.Byte, Gen.OneOfConst("issue", "issuewild", "iodef", "x1"), Gen.Byte.Array[0, 30], (f, t, v) => (RecordData)new CaaData(f, t, v)),
        Gen.Select(GenName, GenName, Gen.UInt, Gen.UInt, Gen.UInt, (m, r, s, x, y) => (RecordData)new SoaData(m, r, s, x, y, s ^ x, 300)),
        GenSvcb.Select(s => (RecordData)s),
        Gen.Select(Gen.OneOfConst<ushort>(10, 13, 99, 1000, 65280), Gen.Byte.Array[0, 20], (t, d) => (RecordData)new UnknownData((RecordType)t, d)));

    internal static readonly Gen<ResourceRecord> GenRecord =
        from name in GenName
        from dnsClass in Gen.OneOfConst(DnsClass.IN, DnsClass.IN, DnsClass.CS, DnsClass.CH, DnsClass.HS, DnsClass.NONE)
        from ttl in Gen.UInt
        from data in GenRecordData
        from flush in Gen.Int[0, 9]
        select new ResourceRecord(name, dnsClass, ttl, data) { CacheFlush = flush == 0 };

    private static readonly Gen<DnsQuestion> GenQuestion =
        from name in GenName
        from type in Gen.UShort
        from dnsClass in Gen.OneOfConst(DnsClass.IN, DnsClass.ANY, DnsClass.CH)
        from unicast in Gen.Bool
        select new DnsQuestion(name, (RecordType)type, dnsClass) { UnicastResponse = unicast };

    internal static readonly Gen<DnsMessage> GenMessage =
        from id in Gen.UShort
        from flags in Gen.UShort
        from questions in GenQuestion.Array[0, 2]
        from answers in GenRecord.Array[0, 8]
        from authorities in GenRecord.Array[0, 2]
        from additionals in GenRecord.Array[0, 2]
        select new DnsMessage
        {
            Id = id,
            Flags = (ushort)(flags & ~0x0040),
            Questions = questions,
            Answers = answers,
            Authorities = authorities,
            Additionals = additionals,
        };

    [Fact]
    public void Random_messages_round_trip_compressed_and_uncompressed()
    {
        GenMessage.Sample(
            message =>
            {
                foreach (bool compress in new[] { true, false })
                {
                    byte[] bytes = message.Encode(compress);
                    Assert.True(DnsMessage.TryValidate(bytes, out var validateError), validateError.Message);
                    Assert.True(DnsMessage.TryParse(bytes, out var parsed, out var error), error.Message);
                    Assert.Equal(message.Id, parsed.Id);
                    Assert.Equal(message.Flags, parsed.Flags);
                    Assert.Equal(message.Questions, parsed.Questions);
                    Assert.Equal(message.Answers, parsed.Answers);
                    Assert.Equal(message.Authorities, parsed.Authorities);
                    Assert.Equal(message.Additionals, parsed.Additionals);
                    Assert.Equal(bytes, parsed.Encode(compress));
                }

                Assert.True(message.Encode(true).Length <= message.Encode(false).Length);
            },
            iter: 5_000);
    }

    /// <summary>A valid packet and a list of edits (position, kind, byte) applied to it.</summary>
    private static readonly Gen<(byte[] Packet, (int Position, int Kind, byte Value)[] Edits)> GenMutated =
        from message in GenMessage
        from compress in Gen.Bool
        from edits in Gen.Select(Gen.Int[0, int.MaxValue], Gen.Int[0, 9], Gen.Byte).Array[1, 4]
        select (message.Encode(compress), edits);

    private static byte[] Mutate(byte[] packet, (int Position, int Kind, byte Value)[] edits)
    {
        var bytes = new List<byte>(packet);
        foreach (var (position, kind, value) in edits)
        {
            if (bytes.Count == 0)
            {
                break;
            }

            int at = position % bytes.Count;
            switch (kind)
            {
                case 0: bytes.RemoveRange(at, bytes.Count - at); break;          // truncate
                case 1: bytes.RemoveAt(at); break;                               // delete a byte
                case 2: bytes.Insert(at, value); break;                          // insert a byte
                case 3: bytes[at] = (byte)(bytes[at] ^ (1 << (value % 8))); break; // flip a bit
                case 4: bytes[at] = (byte)(0xC0 | (value & 0x3F)); break;        // plant a pointer
                default: bytes[at] = value; break;                               // overwrite a byte
            }
        }

        return [.. bytes];
    }

    /// <summary>Parse and validate agree on <paramref name="bytes"/>; returns whether they were accepted.</summary>
    private static bool AssertParseAndValidateAgree(byte[] bytes)
    {
        bool parsedOk = DnsMessage.TryParse(bytes, out var parsed, out var parseError);
        bool validOk = DnsMessage.TryValidate(bytes, out var validateError);
        Assert.Equal(parsedOk, validOk);
        Assert.Equal(parseError, validateError);
        Assert.Equal(parsedOk, parsed is not null);
        Assert.Equal(parsedOk, parseError.Kind == DnsErrorKind.None);
        if (parsed is not null)
        {
            // Whatever was accepted can be written again, and reads back as the same records.
            byte[] again = parsed.Encode(compress: false);
            Assert.True(DnsMessage.TryParse(again, out var reparsed, out var error), error.Message);
            Assert.Equal(parsed.Questions, reparsed.Questions);
            Assert.Equal(parsed.Answers, reparsed.Answers);
            Assert.Equal(parsed.Authorities, reparsed.Authorities);
            Assert.Equal(parsed.Additionals, reparsed.Additionals);
        }

        return parsedOk;
    }

    /// <summary>
    /// Runs <paramref name="sample"/>, which reports each case's outcome, and checks that every case ran and that at
    /// least 1 % of them went each way (or only the refusals, for inputs that are rarely valid).
    /// </summary>
    private static void AssertBothSides(int iterations, Action<Action<bool>> sample, bool acceptanceIsRare = false)
    {
        int accepted = 0;
        int refused = 0;
        sample(ok => _ = ok ? Interlocked.Increment(ref accepted) : Interlocked.Increment(ref refused));
        Assert.Equal(iterations, accepted + refused);
        Assert.True(acceptanceIsRare || accepted >= iterations / 100, $"only {accepted} of {iterations} accepted");
        Assert.True(refused >= iterations / 100, $"only {refused} of {iterations} refused");
    }

    [Fact]
    public void Mutated_packets_are_parsed_or_rejected_and_validation_agrees()
    {
        AssertBothSides(80_000, report => GenMutated.Sample(t => report(AssertParseAndValidateAgree(Mutate(t.Packet, t.Edits))), iter: 80_000));
    }

    [Fact]
    public void Mutated_vector_packets_are_parsed_or_rejected_and_validation_agrees()
    {
        var packets = new List<byte[]>();
        foreach (string name in VectorNames())
        {
            byte[] bytes = LoadVector(name).Bytes;
            if (bytes.Length > 12)
            {
                packets.Add(bytes);
            }
        }

        AssertBothSides(20_000, report => Gen.Select(Gen.Int[0, packets.Count - 1], Gen.Select(Gen.Int[0, int.MaxValue], Gen.Int[0, 9], Gen.Byte).Array[1, 3])
            .Sample((i, edits) => report(AssertParseAndValidateAgree(Mutate(packets[i], edits))), iter: 20_000));
    }

    [Fact]
    public void Random_bytes_behind_a_header_are_parsed_or_refused_and_validation_agrees()
    {
        AssertBothSides(10_000, report => Gen.Select(Gen.UShort.Array[4], Gen.Byte.Array[0, 300])
            .Sample(
                (counts, body) =>
                {
                    var header = new byte[12];
                    for (int i = 0; i < 4; i++)
                    {
                        header[4 + (2 * i)] = 0;
                        header[5 + (2 * i)] = (byte)(counts[i] % 6);
                    }

                    report(AssertParseAndValidateAgree([.. header, .. body]));
                },
                iter: 10_000),
            acceptanceIsRare: true);
    }
}
