using Pkarr.Dns;
using Pkarr.DnsServer.Answering;
using static Pkarr.DnsServer.Tests.Answering.Fixtures;

namespace Pkarr.DnsServer.Tests.Answering;

public sealed class PkarrNameMatcherTests
{
    [Theory]
    [InlineData("lower")]
    [InlineData("upper")]
    [InlineData("mixed")]
    public void Key_label_matches_in_any_letter_case(string spelling)
    {
        string key = spelling switch
        {
            "upper" => K.ToUpperInvariant(),
            "mixed" => string.Concat(K.Select((c, i) => i % 2 == 0 ? char.ToUpperInvariant(c) : c)),
            _ => K,
        };
        var match = Matcher().Match(Name($"WwW.{key}"));
        Assert.Equal(PkarrNameKind.Pkarr, match.Kind);
        Assert.Equal(Signer.PublicKey, match.Key);
        Assert.Equal("WwW", match.Relative.ToString());
        Assert.True(match.Suffix.IsRoot);
        Assert.Equal($"WwW.{key}", match.Name.ToString());
    }

    [Fact]
    public void Apex_has_an_empty_relative_name()
    {
        var match = Matcher().Match(Name(K));
        Assert.Equal(PkarrNameKind.Pkarr, match.Kind);
        Assert.True(match.Relative.IsRoot);
        Assert.True(match.Suffix.IsRoot);
    }

    [Theory]
    [InlineData("key")]
    [InlineData("KEY")]
    [InlineData("kEy")]
    public void Extra_tld_is_stripped_ignoring_case_and_kept_as_suffix(string tld)
    {
        var match = Matcher(search: false).Match(Name($"a.b.{K}.{tld}"));
        Assert.Equal(PkarrNameKind.Pkarr, match.Kind);
        Assert.Equal("a.b", match.Relative.ToString());
        Assert.Equal(tld, match.Suffix.ToString());
    }

    [Fact]
    public void Tld_can_be_disabled_or_renamed()
    {
        Assert.Equal(PkarrNameKind.NotPkarr, Matcher(tld: null, search: false).Match(Name($"{K}.key")).Kind);
        Assert.Equal(PkarrNameKind.NotPkarr, Matcher(tld: "", search: false).Match(Name($"{K}.key")).Kind);
        Assert.Equal(PkarrNameKind.NotPkarr, Matcher(tld: "pk", search: false).Match(Name($"{K}.key")).Kind);
        var renamed = Matcher(tld: "pk", search: false).Match(Name($"{K}.PK"));
        Assert.Equal(PkarrNameKind.Pkarr, renamed.Kind);
        Assert.Equal("PK", renamed.Suffix.ToString());
    }

    [Fact]
    public void Origins_match_ignoring_case_and_only_there_without_search()
    {
        var matcher = Matcher(search: false, origins: ["example.net", "dns.example.org"]);
        var match = matcher.Match(Name($"www.{K}.EXAMPLE.net"));
        Assert.Equal(PkarrNameKind.Pkarr, match.Kind);
        Assert.Equal("www", match.Relative.ToString());
        Assert.Equal("EXAMPLE.net", match.Suffix.ToString());
        Assert.Equal("dns.example.org", matcher.Match(Name($"{K}.dns.example.org")).Suffix.ToString());
        Assert.Equal(PkarrNameKind.NotPkarr, matcher.Match(Name($"www.{K}.other.net")).Kind);
        Assert.Equal(PkarrNameKind.NotPkarr, matcher.Match(Name("www.example.net")).Kind);
        Assert.Equal(PkarrNameKind.NotPkarr, matcher.Match(Name("example.net")).Kind);
    }

    [Fact]
    public void Search_suffix_takes_the_rightmost_valid_key()
    {
        var match = Matcher().Match(Name($"x.{K2}.{K}.isp.network"));
        Assert.Equal(PkarrNameKind.Pkarr, match.Kind);
        Assert.Equal(Signer.PublicKey, match.Key);
        Assert.Equal($"x.{K2}", match.Relative.ToString());
        Assert.Equal("isp.network", match.Suffix.ToString());

        // A non-canonical key on the right is skipped under a search suffix: the valid one to its left wins.
        var skipped = Matcher().Match(Name($"{K2}.{NonCanonical(K)}.isp.network"));
        Assert.Equal(PkarrNameKind.Pkarr, skipped.Kind);
        Assert.Equal(Other.PublicKey, skipped.Key);

        Assert.Equal(PkarrNameKind.NotPkarr, Matcher(search: false).Match(Name($"{K}.isp.network")).Kind);
        Assert.Equal(PkarrNameKind.NotPkarr, Matcher().Match(Name($"{NonCanonical(K)}.isp.network")).Kind);
    }

    [Fact]
    public void Last_label_key_wins_over_keys_to_its_left()
    {
        var match = Matcher().Match(Name($"{K2}.{K}"));
        Assert.Equal(Signer.PublicKey, match.Key);
        Assert.Equal(K2, match.Relative.ToString());
    }

    [Fact]
    public void Non_canonical_and_off_curve_keys_are_invalid_not_forwarded()
    {
        string nonCanonical = NonCanonical(K);
        Assert.True(Keys.PublicKey.TryParse(nonCanonical, out var same));
        Assert.Equal(Signer.PublicKey, same); // the lenient parser accepts it: the DNS server must not
        Assert.Equal(PkarrNameKind.InvalidKey, Matcher().Match(Name(nonCanonical)).Kind);
        Assert.Equal(PkarrNameKind.InvalidKey, Matcher().Match(Name($"www.{nonCanonical.ToUpperInvariant()}")).Kind);
        Assert.Equal(PkarrNameKind.InvalidKey, Matcher().Match(Name($"www.{nonCanonical}.key")).Kind);
        Assert.Equal(PkarrNameKind.InvalidKey, Matcher(origins: "example.net").Match(Name($"{nonCanonical}.example.net")).Kind);
        string offCurve = NotOnCurve();
        Assert.Equal(PkarrNameKind.InvalidKey, Matcher().Match(Name(offCurve)).Kind);
        Assert.Equal(PkarrNameKind.InvalidKey, Matcher().Match(Name($"a.{offCurve}.key")).Kind);
    }

    [Theory]
    [InlineData("com")]
    [InlineData("example.com")]
    [InlineData("key")]
    [InlineData("ybndrfg8ejkmcpqxot1uwisza345h769ybndrfg8ejkmcpqxot1")] // 51 characters
    [InlineData("ybndrfg8ejkmcpqxot1uwisza345h769ybndrfg8ejkmcpqxot1uy")] // 53 characters
    [InlineData("lbndrfg8ejkmcpqxot1uwisza345h769ybndrfg8ejkmcpqxot1u")] // 'l' is not in the alphabet
    [InlineData("2bndrfg8ejkmcpqxot1uwisza345h769ybndrfg8ejkmcpqxot1u")] // nor is '2'
    public void Names_without_a_key_are_not_pkarr(string name)
        => Assert.Equal(PkarrNameKind.NotPkarr, Matcher(origins: "example.net").Match(Name(name)).Kind);

    [Fact]
    public void Odd_names_never_throw()
    {
        var matcher = Matcher(origins: "example.net");
        Assert.Equal(PkarrNameKind.NotPkarr, matcher.Match(DnsName.Root).Kind);

        var star = matcher.Match(Name($"*.{K}.key"));
        Assert.Equal(PkarrNameKind.Pkarr, star.Kind);
        Assert.Equal("*", star.Relative.ToString());

        byte[] odd = [0x00, 0xff, (byte)'.', (byte)' ', (byte)'-'];
        var name = DnsName.FromLabels([odd, [(byte)'_'], [(byte)'-'], Ascii(K), Ascii("key")]);
        var match = matcher.Match(name);
        Assert.Equal(PkarrNameKind.Pkarr, match.Kind);
        Assert.Equal(3, match.Relative.LabelCount);
        Assert.True(match.Relative.Label(0).SequenceEqual(odd));

        var many = DnsName.FromLabels(Enumerable.Repeat(new[] { (byte)'a' }, 127));
        Assert.Equal(127, many.LabelCount);
        Assert.Equal(PkarrNameKind.NotPkarr, matcher.Match(many).Kind);

        var deep = DnsName.FromLabels([.. Enumerable.Repeat(new[] { (byte)'A' }, 100), Ascii(K)]);
        var deepMatch = matcher.Match(deep);
        Assert.Equal(PkarrNameKind.Pkarr, deepMatch.Kind);
        Assert.Equal(100, deepMatch.Relative.LabelCount);

        // A 52-byte label of arbitrary bytes is not a key.
        Assert.Equal(PkarrNameKind.NotPkarr, matcher.Match(DnsName.FromLabels([Enumerable.Repeat((byte)0xC3, 52).ToArray()])).Kind);
    }

    [Fact]
    public void Bad_options_are_refused()
    {
        Assert.Throws<ArgumentException>(() => Matcher(tld: "a.b"));
        Assert.Throws<ArgumentException>(() => Matcher(origins: "."));
    }
}
