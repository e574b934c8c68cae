// Proof with the clients people actually use: BIND's dig and Knot's kdig (Debian's bind9-dnsutils, knot-dnsutils)
// against the running server on 127.0.0.1, for Pkarr names published on its testnet. Every record type, with and
// without the .key TLD and with the key in upper case (RFC 4343), over UDP and TCP; truncation and the TCP retry;
// EDNS options (DO, NSID, cookies, version 1) that must not break an answer.

using System.Globalization;

namespace Pkarr.DnsServer.Tests.Tools;

[Collection(ToolsCollection.Name)]
public sealed class DigProofTests(ToolsFixture fixture)
{
    private static readonly (string Suffix, bool Upper)[] Spellings = [("", false), (".key", false), ("", true), (".KEY", true)];

    private ProofZones Zones => fixture.Zones;

    [Theory]
    [InlineData(ExternalTool.Dig, false)]
    [InlineData(ExternalTool.Dig, true)]
    [InlineData(ExternalTool.Kdig, false)]
    [InlineData(ExternalTool.Kdig, true)]
    public async Task Every_record_type_of_a_pkarr_name_in_every_spelling(string tool, bool tcp)
    {
        var failures = new List<string>();
        foreach (var (name, type, data) in ProofZones.MainCases())
        {
            foreach (var (suffix, upper) in Spellings)
            {
                string query = Zones.NameOf(name, suffix, upper);
                var output = await AskAsync(tool, tcp ? ["+tcp"] : [], query, type);
                string[] expected = [.. data.Select(d => Zones.Expand(d, suffix))];
                string[] actual = [.. output.AnswerData];
                bool leavesPacket = data.Any(d => d.Contains("{K2}", StringComparison.Ordinal) || d.Contains(UnboundServer.Zone, StringComparison.Ordinal));
                if (output.Status != "NOERROR" || !actual.SequenceEqual(expected)
                    || !output.Answer[0].Owner.TrimEnd('.').Equals(query, StringComparison.OrdinalIgnoreCase)
                    || (!leavesPacket && !output.Has("aa")))
                {
                    failures.Add($"{query} {type}: expected NOERROR aa [{string.Join(", ", expected)}]\n{output}");
                }
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} answers wrong:\n" + string.Join("\n\n", failures));
    }

    [Theory]
    [InlineData(ExternalTool.Dig, "")]
    [InlineData(ExternalTool.Dig, ".key")]
    [InlineData(ExternalTool.Kdig, ".key")]
    public async Task Unknown_names_are_nxdomain_and_missing_types_nodata_both_with_the_soa(string tool, string suffix)
    {
        string apex = (Zones.K1 + suffix).ToLowerInvariant();

        var nx = await AskAsync(tool, [], Zones.NameOf("missing", suffix), "A");
        Assert.True(nx.Status == "NXDOMAIN" && nx.Answer.Count == 0 && nx.Has("aa"), nx.Text);
        Assert.Equal("SOA", Assert.Single(nx.Authority).Type);
        Assert.Equal(apex, DigRecord.Normalize(nx.Authority[0].Owner));

        var nodata = await AskAsync(tool, [], Zones.NameOf("www", suffix), "TXT");
        Assert.True(nodata.Status == "NOERROR" && nodata.Answer.Count == 0, nodata.Text);
        Assert.Equal("SOA", Assert.Single(nodata.Authority).Type);

        // An unknown key (valid, never published) is NXDOMAIN too, not forwarded and not SERVFAIL.
        using var stranger = Pkarr.Keys.Keypair.Random();
        var unknown = await AskAsync(tool, [], stranger.PublicKey.ToZ32() + suffix, "A");
        Assert.True(unknown.Status == "NXDOMAIN", unknown.Text);
    }

    [Theory]
    [InlineData(ExternalTool.Dig, "")]
    [InlineData(ExternalTool.Dig, ".key")]
    [InlineData(ExternalTool.Kdig, ".key")]
    public async Task Ns_delegation_is_a_referral_with_glue_and_the_tld_on_every_name(string tool, string suffix)
    {
        // No recursion asked: the referral itself, as a resolver walking down would see it.
        var output = await AskAsync(tool, ["+norecurse"], Zones.NameOf("host.sub", suffix), "A");
        string sub = Zones.NameOf("sub", suffix).ToLowerInvariant();
        Assert.True(output.Status == "NOERROR" && output.Answer.Count == 0 && !output.Has("aa"), output.Text);
        Assert.Equal([$"{sub} NS ns.{sub}"], output.Authority.Select(r => r.Normal));
        Assert.Contains($"ns.{sub} A 192.0.2.53", output.Additional.Select(r => r.Normal));
    }

    [Theory]
    [InlineData(ExternalTool.Dig)]
    [InlineData(ExternalTool.Kdig)]
    public async Task An_answer_over_512_bytes_is_truncated_over_udp_and_complete_over_tcp(string tool)
    {
        string many = $"many.{Zones.K2}.key";
        string[] all = [.. ProofZones.ManyAddresses.Order(StringComparer.Ordinal)];

        // Told not to retry, the client sees the TC bit of the 512-byte answer (with EDNS at 512, and without EDNS).
        var truncated = await AskAsync(tool, ["+bufsize=512", "+ignore"], many, "A");
        Assert.True(truncated.Status == "NOERROR" && truncated.Has("tc") && truncated.Answer.Count < ProofZones.ManyCount, truncated.Text);
        var noEdns = await AskAsync(tool, ["+noedns", "+ignore"], many, "A");
        Assert.True(noEdns.Has("tc") && noEdns.Answer.Count < ProofZones.ManyCount, noEdns.Text);

        // Left alone, it retries over TCP and gets every record.
        var retried = await AskAsync(tool, ["+bufsize=512"], many, "A");
        Assert.True(retried.Status == "NOERROR" && !retried.Has("tc"), retried.Text);
        Assert.Equal(all, retried.AnswerData.Order(StringComparer.Ordinal));
        Assert.Contains("TCP", retried.Text, StringComparison.Ordinal);

        // At the default 1232 bytes the answer fits in one datagram.
        var fits = await AskAsync(tool, [], many, "A");
        Assert.Equal(all, fits.AnswerData.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(ExternalTool.Dig, false)]
    [InlineData(ExternalTool.Dig, true)]
    [InlineData(ExternalTool.Kdig, false)]
    public async Task A_900_byte_txt_arrives_whole_in_its_character_strings(string tool, bool tcp)
    {
        var output = await AskAsync(tool, tcp ? ["+tcp"] : [], $"long.{Zones.K3}", "TXT");
        Assert.True(output.Status == "NOERROR" && !output.Has("tc"), output.Text);
        var record = Assert.Single(output.Answer);
        string[] strings = record.Data.Split("\" \"", StringSplitOptions.None);
        Assert.Equal(4, strings.Length);
        Assert.Equal(ProofZones.LongText, string.Concat(strings.Select(s => s.Trim('"'))));

        var truncated = await AskAsync(tool, ["+bufsize=512", "+ignore"], $"long.{Zones.K3}", "TXT");
        Assert.True(truncated.Has("tc"), truncated.Text);
    }

    [Theory]
    [InlineData(ExternalTool.Dig, "+dnssec")]
    [InlineData(ExternalTool.Dig, "+nsid")]
    [InlineData(ExternalTool.Dig, "+cookie")]
    [InlineData(ExternalTool.Dig, "+subnet=192.0.2.0/24")]
    [InlineData(ExternalTool.Dig, "+cdflag")]
    [InlineData(ExternalTool.Dig, "+adflag")]
    [InlineData(ExternalTool.Dig, "+noedns")]
    [InlineData(ExternalTool.Dig, "+bufsize=4096")]
    [InlineData(ExternalTool.Dig, "+edns=1")]
    [InlineData(ExternalTool.Kdig, "+dnssec")]
    [InlineData(ExternalTool.Kdig, "+nsid")]
    [InlineData(ExternalTool.Kdig, "+cookie")]
    [InlineData(ExternalTool.Kdig, "+padding")]
    [InlineData(ExternalTool.Kdig, "+ednsopt=65001:abcd")]
    public async Task Edns_options_do_not_break_an_answer(string tool, string option)
    {
        foreach (string name in new[] { $"www.{Zones.K1}.key", $"www.{UnboundServer.Zone}" })
        {
            var output = await AskAsync(tool, [option], name, "A");
            string expected = name.EndsWith(".key", StringComparison.Ordinal) ? "192.0.2.2" : UnboundServer.WwwA;
            Assert.True(output.Status == "NOERROR" && output.AnswerData.SequenceEqual([expected]), $"{option}:\n{output}");
        }
    }

    [Theory]
    [InlineData(ExternalTool.Dig)]
    [InlineData(ExternalTool.Kdig)]
    public async Task An_unknown_edns_version_is_badvers(string tool)
    {
        // dig negotiates down to version 0 unless told not to; kdig reports the BADVERS as is.
        string[] options = tool == ExternalTool.Dig ? ["+edns=1", "+noednsnegotiation"] : ["+edns=1"];
        var output = await AskAsync(tool, options, $"www.{Zones.K1}.key", "A");
        Assert.True(output.Status == "BADVERS" && output.Answer.Count == 0, output.Text);
    }

    private async Task<DigOutput> AskAsync(string tool, string[] options, string name, string type)
    {
        ExternalTool.Require(tool, tool == ExternalTool.Dig ? "bind9-dnsutils" : "knot-dnsutils");
        string[] common = tool == ExternalTool.Dig
            ? ["@127.0.0.1", "-p", fixture.Port, "+time=5", "+tries=1"]
            : ["@127.0.0.1", "-p", fixture.Port, "+timeout=5", "+retry=0"];
        var result = await ExternalTool.RunAsync(tool, [.. common, .. options, name, type], TimeSpan.FromSeconds(30));
        Assert.True(result.ExitCode == 0, result.ToString());
        var output = DigOutput.Parse(result.Output);
        Assert.True(output.Status is not null, result.ToString());
        return output;
    }

    internal static string Count(int value) => value.ToString(CultureInfo.InvariantCulture);
}
