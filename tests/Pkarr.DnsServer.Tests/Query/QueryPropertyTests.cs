using System.Buffers.Binary;
using CsCheck;
using Pkarr.Dns;
using Pkarr.DnsServer.Query;
using static Pkarr.DnsServer.Tests.Answering.Fixtures;
using static Pkarr.DnsServer.Tests.Query.QueryHarness;

namespace Pkarr.DnsServer.Tests.Query;

/// <summary>Whatever bytes arrive, the handler never throws, and whatever it sends parses and carries the query's id.</summary>
public sealed class QueryPropertyTests
{
    private static readonly byte[][] Seeds =
    [
        QueryBytes($"www.{K}", RecordType.A),
        QueryBytes($"www.{K}.key", RecordType.TXT, edns: 1232, dnssecOk: true),
        QueryBytes($"chain.{K}", RecordType.A, edns: 512),
        QueryBytes($"{K2}", RecordType.AAAA, flags: 0),
        QueryBytes("example.com", RecordType.MX, edns: 4096, options: [0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]),
        QueryBytes(".", RecordType.NS),
        QueryBytes($"x.{NonCanonical(K)}", RecordType.A),
        QueryBytes($"*.{K}.key", (RecordType)255),
    ];

    private static QueryHarness Harness()
    {
        var harness = new QueryHarness();
        harness.Packets.Publish(
            Signer,
            A($"www.{K}", "192.0.2.7"),
            Record($"www.{K}", new TxtData(["hello"u8.ToArray()])),
            Cname($"chain.{K}", $"next.{K2}"));
        harness.Packets.Publish(Other, Cname($"next.{K2}", "example.com"), A(K2, "192.0.2.8"));
        return harness;
    }

    private static void Check(QueryHarness harness, byte[] query)
    {
        foreach (var transport in new[] { DnsTransport.Udp, DnsTransport.Tcp })
        {
            byte[]? response = harness.Raw(query, transport);
            if (response is null)
            {
                // Silence only for what is not a query.
                Assert.True(query.Length < 12 || (query[2] & 0x80) != 0);
                continue;
            }

            Assert.True(DnsMessage.TryParse(response, out var message, out var error), error.ToString());
            Assert.Equal(BinaryPrimitives.ReadUInt16BigEndian(query), message.Id);
            Assert.True(Flag(message, HeaderFlags.Qr));
            Assert.InRange(response.Length, 12, transport == DnsTransport.Udp ? 4096 : 65535);
        }
    }

    [Fact]
    public void Random_bytes_never_throw_and_any_response_parses()
    {
        var harness = Harness();
        Gen.Byte.Array[0, 300].Sample(bytes => Check(harness, bytes), iter: 3000, threads: 1);
    }

    [Fact]
    public void Mutated_queries_never_throw_and_any_response_parses()
    {
        var harness = Harness();
        var mutation = Gen.Select(Gen.Int[0, Seeds.Length - 1], Gen.Select(Gen.Int[0, 400], Gen.Byte).Array[1, 6], Gen.Int[0, 3]);
        int answered = 0;
        mutation.Sample(
            m =>
            {
                var (seed, edits, shape) = m;
                var bytes = Seeds[seed].ToList();
                foreach (var (at, value) in edits)
                {
                    int index = at % (bytes.Count + 1);
                    switch (shape)
                    {
                        case 0 when index < bytes.Count:
                            bytes[index] = value;
                            break;
                        case 1 when index < bytes.Count:
                            bytes.RemoveRange(index, bytes.Count - index);
                            break;
                        case 2:
                            bytes.Insert(index, value);
                            break;
                        default:
                            if (index < bytes.Count)
                            {
                                bytes[index] ^= (byte)(1 << (value & 7));
                            }

                            break;
                    }
                }

                byte[] query = [.. bytes];
                Check(harness, query);
                if (query.Length >= 12 && (query[2] & 0x80) == 0)
                {
                    answered++;
                }
            },
            iter: 4000,
            threads: 1);
        Assert.True(answered > 1000, $"only {answered} mutated queries were answered");
    }

    [Fact]
    public void Seed_queries_are_answered_without_formerr()
    {
        var harness = Harness();
        foreach (byte[] seed in Seeds)
        {
            var answer = harness.Ask(seed);
            Assert.NotEqual(1, Rcode(answer));
            Assert.Single(answer.Questions);
        }
    }
}
