using Pkarr.Dns;

namespace Pkarr.Tests.Dns;

public class DnsNameTests
{
    [Theory]
    [InlineData("", "", 0)]
    [InlineData(".", "", 0)]
    [InlineData("..", "", 0)]
    [InlineData("a", "a", 1)]
    [InlineData("a.", "a", 1)]
    [InlineData("a..b", "a.b", 2)]
    [InlineData(".a.b.", "a.b", 2)]
    [InlineData("*.foo", "*.foo", 2)]
    [InlineData("@", "@", 1)]
    [InlineData("_derp_region.iroh", "_derp_region.iroh", 2)]
    [InlineData("Üñí.cödé", "Üñí.cödé", 2)]
    public void Parse_is_lenient(string text, string expected, int labels)
    {
        var name = DnsName.Parse(text);
        Assert.Equal(expected, name.ToString());
        Assert.Equal(labels, name.LabelCount);
    }

    [Theory]
    [InlineData("key", "key", "@")]
    [InlineData("www.key", "key", "www")]
    [InlineData("a.b.key", "key", "a.b")]
    [InlineData("a.b.key", "b.key", "a")]
    [InlineData("x.KEY", "key", "x.KEY.")]
    [InlineData("www.example", "key", "www.example.")]
    [InlineData("key", "www.key", "key.")]
    [InlineData("", "", "@")]
    [InlineData("www", "", "www")]
    public void Presentation_relative_to_an_origin_is_at_sign_relative_labels_or_absolute(string name, string origin, string expected)
    {
        Assert.Equal(expected, DnsName.Parse(name).ToPresentation(DnsName.Parse(origin)));
    }

    [Fact]
    public void Presentation_escapes_zone_file_specials_and_is_absolute_without_an_origin()
    {
        var name = DnsName.FromLabels(["@"u8.ToArray(), "a.b"u8.ToArray(), "$x;"u8.ToArray(), "key"u8.ToArray()]);
        Assert.Equal("\\@.a\\.b.\\$x\\;.key.", name.ToPresentation());
        Assert.Equal("\\@.a\\.b.\\$x\\;", name.ToPresentation(DnsName.Parse("key")));
        Assert.Equal(".", DnsName.Root.ToPresentation());
    }

    [Fact]
    public void Root_forms_are_the_root()
    {
        Assert.Same(DnsName.Root, DnsName.Parse(""));
        Assert.Equal(DnsName.Root, DnsName.Parse("."));
        Assert.True(DnsName.Root.IsRoot);
        Assert.Equal(1, DnsName.Root.WireLength);
    }

    [Fact]
    public void Label_limits_are_enforced()
    {
        Assert.True(DnsName.TryParse(new string('a', 63), out _));
        Assert.False(DnsName.TryParse(new string('a', 64), out _));
        Assert.False(DnsName.TryParse(new string('é', 32), out _));
        Assert.False(DnsName.TryParse(null, out var name));
        Assert.Same(DnsName.Root, name);
        Assert.Throws<FormatException>(() => DnsName.Parse(new string('a', 64)));
    }

    [Fact]
    public void Name_limit_is_255_wire_bytes()
    {
        string label = new('a', 63);
        string ok = $"{label}.{label}.{label}.{new string('b', 61)}";
        Assert.Equal(255, DnsName.Parse(ok).WireLength);
        Assert.False(DnsName.TryParse(ok + "b", out _));
    }

    [Fact]
    public void Equality_is_byte_wise_and_case_sensitive()
    {
        Assert.Equal(DnsName.Parse("a.b"), DnsName.Parse("a.b."));
        Assert.NotEqual(DnsName.Parse("A.b"), DnsName.Parse("a.b"));
        Assert.True(DnsName.Parse("x") == DnsName.Parse("x"));
        Assert.True(DnsName.Parse("x") != DnsName.Parse("y"));
        Assert.Equal(DnsName.Parse("a.b").GetHashCode(), DnsName.Parse("a.b").GetHashCode());
        Assert.NotEqual(DnsName.Parse("ab"), DnsName.Parse("a.b"));
    }

    [Fact]
    public void Labels_are_exposed()
    {
        var name = DnsName.Parse("foo.bar");
        Assert.Equal("foo"u8.ToArray(), name.Label(0).ToArray());
        Assert.Equal("bar"u8.ToArray(), name.Label(1).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => name.Label(2).ToArray());
    }

    [Fact]
    public void EndsWith_compares_whole_labels()
    {
        var name = DnsName.Parse("a.foo.key");
        Assert.True(name.EndsWith(DnsName.Parse("foo.key")));
        Assert.True(name.EndsWith(name));
        Assert.True(name.EndsWith(DnsName.Root));
        Assert.False(name.EndsWith(DnsName.Parse("oo.key")));
        Assert.False(name.EndsWith(DnsName.Parse("FOO.key")));
        Assert.False(DnsName.Parse("key").EndsWith(name));
    }

    [Fact]
    public void Append_concatenates_and_checks_length()
    {
        Assert.Equal(DnsName.Parse("www.key"), DnsName.Parse("www").Append(DnsName.Parse("key")));
        Assert.Equal(DnsName.Parse("key"), DnsName.Root.Append(DnsName.Parse("key")));
        Assert.Equal(DnsName.Parse("www"), DnsName.Parse("www").Append(DnsName.Root));
        var long1 = DnsName.Parse($"{new string('a', 63)}.{new string('a', 63)}");
        Assert.Throws<ArgumentException>(() => long1.Append(long1));
    }

    [Fact]
    public void FromLabels_accepts_dots_inside_labels()
    {
        var name = DnsName.FromLabels(["a.b"u8.ToArray(), "c"u8.ToArray()]);
        Assert.Equal(2, name.LabelCount);
        Assert.Throws<ArgumentException>(() => DnsName.FromLabels([Array.Empty<byte>()]));
    }
}
