using System.Text;
using Pkarr.Dns;

namespace Pkarr.Tests.Dns;

public class TxtDataTests
{
    [Theory]
    [InlineData(0, new int[0])]
    [InlineData(1, new[] { 1 })]
    [InlineData(254, new[] { 254 })]
    [InlineData(255, new[] { 254, 1 })]
    [InlineData(600, new[] { 254, 254, 92 })]
    public void Text_is_cut_into_254_byte_strings(int length, int[] chunks)
    {
        var txt = new TxtData(new string('x', length));
        Assert.Equal(chunks, txt.Strings.Select(s => s.Length));
        Assert.Equal(new string('x', length), txt.Text);
    }

    [Fact]
    public void Empty_text_has_no_strings_and_is_written_as_one_empty_string()
    {
        var txt = new TxtData("");
        Assert.Empty(txt.Strings);
        Assert.Equal([0], txt.ToWire());
        Assert.Equal(TxtData.FromStrings(""), txt);
    }

    [Fact]
    public void Chunks_count_utf8_bytes_and_may_split_characters()
    {
        string text = new string('a', 253) + "é";
        var txt = new TxtData(text);
        Assert.Equal([254, 1], txt.Strings.Select(s => s.Length));
        Assert.Equal(text, txt.Text);
    }

    [Fact]
    public void Explicit_strings_are_kept_and_limited_to_255_bytes()
    {
        var txt = new TxtData([[1, 2], [], new byte[255]]);
        Assert.Equal([2, 0, 255], txt.Strings.Select(s => s.Length));
        Assert.Throws<ArgumentException>(() => new TxtData([new byte[256]]));
        Assert.Throws<ArgumentException>(() => new TxtData(new string('x', 70_000)));
    }

    [Fact]
    public void Text_of_invalid_utf8_uses_replacement_characters()
        => Assert.Equal("\uFFFD", new TxtData([[0xff]]).Text);

    [Fact]
    public void Strings_are_copied_from_the_caller()
    {
        byte[] bytes = Encoding.UTF8.GetBytes("abc");
        var txt = new TxtData([bytes]);
        bytes[0] = (byte)'z';
        Assert.Equal("abc", txt.Text);
    }
}
