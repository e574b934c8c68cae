// Proof that an independent DNS library accepts every reply we write: dnspython (Debian's python3-dnspython) parses
// each one strictly (dns.message.from_wire), checks it answers its query (id, opcode, question), and re-encodes it;
// covering every record type and spelling, negative answers, referrals, a 900-byte TXT, 40 records at one name over
// UDP and TCP, truncation, and forwarded answers.

namespace Pkarr.DnsServer.Tests.Tools;

[Collection(ToolsCollection.Name)]
public sealed class DnspythonProofTests(ToolsFixture fixture)
{
    private ProofZones Zones => fixture.Zones;

    [Fact]
    public async Task Dnspython_parses_every_answer_and_reads_the_published_records()
    {
        var queries = new List<ProbeQuery>();
        var expected = new Dictionary<int, (string Rcode, string[]? Data, int Limit)>();
        int id = 100;

        void Add(string name, string type, string rcode, string[]? data, bool tcp = false, int? payload = 1232, bool rd = true)
        {
            queries.Add(new ProbeQuery(++id, name, type, tcp, payload, rd));
            expected[id] = (rcode, data, payload is int size ? Math.Min(Math.Max(size, 512), 1232) : 512);
        }

        foreach (var (name, type, data) in ProofZones.MainCases())
        {
            foreach (string suffix in new[] { "", ".key" })
            {
                foreach (bool tcp in new[] { false, true })
                {
                    Add(Zones.NameOf(name, suffix), type, "NOERROR", [.. data.Select(d => Zones.Expand(d, suffix))], tcp);
                }
            }

            Add(Zones.NameOf(name, ".key", upperKey: true), type, "NOERROR", [.. data.Select(d => Zones.Expand(d, ".key"))], payload: null);
        }

        string[] many = [.. ProofZones.ManyAddresses];
        Add($"many.{Zones.K2}.key", "A", "NOERROR", many);
        Add($"many.{Zones.K2}.key", "A", "NOERROR", many, tcp: true);
        Add($"many.{Zones.K2}.key", "A", "NOERROR", null, payload: null);   // 512 bytes without EDNS: TC
        Add($"long.{Zones.K3}", "TXT", "NOERROR", null);
        Add($"long.{Zones.K3}.key", "TXT", "NOERROR", null, tcp: true);
        Add(Zones.NameOf("missing", ".key"), "A", "NXDOMAIN", []);
        Add(Zones.NameOf("www", ".key"), "MX", "NOERROR", []);
        Add(Zones.NameOf("host.sub", ".key"), "A", "NOERROR", [], rd: false);
        Add(Zones.NameOf("@", ".key"), "SOA", "NOERROR", null);
        Add(Zones.NameOf("@", ".key"), "ANY", "NOERROR", null);
        Add($"www.{UnboundServer.Zone}", "A", "NOERROR", [UnboundServer.WwwA]);
        Add($"www.{UnboundServer.Zone}", "AAAA", "NOERROR", [UnboundServer.WwwAaaa], tcp: true);
        Add(UnboundServer.Zone, "MX", "NOERROR", [$"10 mail.{UnboundServer.Zone}"]);
        Add($"long.{UnboundServer.Zone}", "TXT", "NOERROR", [$"{UnboundServer.LongText[..200]} {UnboundServer.LongText[200..]}"]);
        Add($"missing.{UnboundServer.NxZone}", "A", "NXDOMAIN", []);

        var replies = await Dnspython.QueryAsync(fixture.Dns, queries);

        var failures = new List<string>();
        foreach (var reply in replies)
        {
            // Over UDP never more than the client allows (512 without EDNS), nor more than our 1232-byte cap.
            var (rcode, data, limit) = expected[reply.Id ?? -1];
            if (reply.Error is not null || reply.IsResponse != true || reply.Rcode != rcode
                || (data is not null && !reply.AnswerData.SequenceEqual(data))
                || (!reply.Tcp && reply.WireLen > limit))
            {
                failures.Add($"expected {rcode} [{string.Join(", ", data ?? [])}]: {reply}");
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {replies.Length} replies wrong:\n" + string.Join("\n", failures));

        // 40 records at one name: whole over TCP and in a 1232-byte datagram, name compression as tight as dnspython's own.
        var manyTcp = replies.Single(r => r.Name == $"many.{Zones.K2}.key" && r.Tcp);
        Assert.True(manyTcp.WireLen <= manyTcp.RenderedLen, $"not compressed: {manyTcp.WireLen} bytes, dnspython writes {manyTcp.RenderedLen}");
        var manyNoEdns = replies.Single(r => r.Name == $"many.{Zones.K2}.key" && !r.Tcp && r.Edns < 0);
        Assert.Contains("TC", manyNoEdns.Flags);
        Assert.True(manyNoEdns.WireLen <= 512, manyNoEdns.ToString());

        // The long TXT: its four character-strings make the 900 bytes again.
        foreach (var longTxt in replies.Where(r => r.Name!.StartsWith("long.", StringComparison.Ordinal) && r.Name.Contains(Zones.K3, StringComparison.Ordinal)))
        {
            string rdata = Assert.Single(longTxt.Answer).Split(' ', 5)[4];
            Assert.Equal(4, rdata.Split("\" \"").Length);
            Assert.Equal(ProofZones.LongText, rdata.Replace("\" \"", string.Empty, StringComparison.Ordinal).Trim('"'));
        }

        // The referral: NS in authority, glue in additional, under .key, no AA.
        var referral = replies.Single(r => r.Name == Zones.NameOf("host.sub", ".key"));
        Assert.DoesNotContain("AA", referral.Flags);
        Assert.Contains(referral.Authority, line => line.EndsWith($"IN NS ns.sub.{Zones.K1}.key.", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(referral.Additional, line => line.EndsWith("IN A 192.0.2.53", StringComparison.Ordinal));

        // Negative answers carry the SOA of the key (RFC 2308).
        Assert.Contains(replies.Single(r => r.Name == Zones.NameOf("missing", ".key")).Authority, line => line.Contains(" IN SOA ", StringComparison.Ordinal));
    }
}
