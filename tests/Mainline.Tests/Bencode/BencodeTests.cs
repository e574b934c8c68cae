using System.Text;
using CsCheck;
using Mainline.Bencode;

namespace Mainline.Tests.Bencode;

public sealed class BencodeTests
{
    private static byte[] B(string s) => Encoding.Latin1.GetBytes(s);

    private static string S(byte[] b) => Encoding.Latin1.GetString(b);

    [Theory]
    [InlineData(0L, "i0e")]
    [InlineData(42L, "i42e")]
    [InlineData(-7L, "i-7e")]
    [InlineData(long.MaxValue, "i9223372036854775807e")]
    [InlineData(long.MinValue, "i-9223372036854775808e")]
    public void Integers_are_canonical(long n, string expected)
    {
        Assert.Equal(expected, S(BencodeWriter.Encode(BValue.Int(n))));
        Assert.True(BencodeReader.TryDecode(B(expected), out var v));
        Assert.Equal(n, v!.Integer);
    }

    [Fact]
    public void Strings_lists_and_sorted_dictionaries()
    {
        Assert.Equal("0:", S(BencodeWriter.Encode(BValue.Str(""))));
        Assert.Equal("4:spam", S(BencodeWriter.Encode(BValue.Str("spam"))));
        Assert.Equal("l4:spami3ee", S(BencodeWriter.Encode(BValue.List(BValue.Str("spam"), BValue.Int(3)))));
        var d = BValue.Dict().Add("z", BValue.Int(1)).Add("a", BValue.Int(2)).Add("ab", BValue.Int(3)).Add("B", BValue.Int(4));
        Assert.Equal("d1:Bi4e1:ai2e2:abi3e1:zi1ee", S(BencodeWriter.Encode(d)));
    }

    [Fact]
    public void Keys_sort_by_unsigned_bytes()
    {
        var d = BValue.Dict();
        d.Entries!.Add(new(new byte[] { 0xff }, BValue.Int(1)));
        d.Entries!.Add(new(new byte[] { 0x01 }, BValue.Int(2)));
        Assert.Equal(B("d1:\u0001i2e1:\u00ffi1ee"), BencodeWriter.Encode(d));
    }

    [Fact]
    public void Duplicate_keys_are_refused_by_the_encoder()
    {
        var d = BValue.Dict().Add("a", BValue.Int(1)).Add("a", BValue.Int(2));
        Assert.Throws<InvalidOperationException>(() => BencodeWriter.Encode(d));
    }

    [Theory]
    [InlineData("")]
    [InlineData("x")]
    [InlineData("ie")]
    [InlineData("i-e")]
    [InlineData("i-0e")]
    [InlineData("i03e")]
    [InlineData("i+3e")]
    [InlineData("i3")]
    [InlineData("i1a2e")]
    [InlineData("i9223372036854775808e")]
    [InlineData("i-9223372036854775809e")]
    [InlineData("i99999999999999999999e")]
    [InlineData("5:abc")]
    [InlineData("99999999:a")]
    [InlineData("9999999999999999999999:a")]
    [InlineData("-1:a")]
    [InlineData("01:a")]
    [InlineData("l")]
    [InlineData("li1e")]
    [InlineData("d")]
    [InlineData("di1ei2ee")]
    [InlineData("d1:a")]
    [InlineData("d1:ai1e1:ai2ee")]
    [InlineData("d1:ai1e")]
    public void Malformed_input_is_rejected(string input)
    {
        Assert.False(BencodeReader.TryDecode(B(input), out var v));
        Assert.Null(v);
    }

    [Fact]
    public void Unsorted_keys_are_tolerated_and_trailing_bytes_ignored()
    {
        Assert.True(BencodeReader.TryDecode(B("d1:bi1e1:ai2eeXYZ"), out var v));
        Assert.Equal(2, v!.GetInt("a"));
        Assert.Equal("d1:bi1e1:ai2ee", S(v.Raw.ToArray()));
    }

    [Fact]
    public void Raw_spans_are_remembered()
    {
        Assert.True(BencodeReader.TryDecode(B("d1:vli1e3:abce1:xi5ee"), out var v));
        Assert.Equal("li1e3:abce", S(v!["v"]!.Raw.ToArray()));
    }

    [Fact]
    public void Depth_limit()
    {
        var ok = new string('l', BencodeReader.MaxDepth) + new string('e', BencodeReader.MaxDepth);
        Assert.True(BencodeReader.TryDecode(B(ok), out _));
        var deep = new string('l', BencodeReader.MaxDepth + 1) + new string('e', BencodeReader.MaxDepth + 1);
        Assert.False(BencodeReader.TryDecode(B(deep), out _));
        Assert.False(BencodeReader.TryDecode(B(new string('l', 100_000)), out _));
    }

    /// <summary>Lists of <paramref name="count"/> integers, each list within the per-list cap.</summary>
    private static string Lists(int count, int perList)
    {
        var text = new StringBuilder("l");
        for (var done = 0; done < count; done += perList)
        {
            text.Append('l').Append(string.Concat(Enumerable.Repeat("i1e", Math.Min(perList, count - done)))).Append('e');
        }

        return text.Append('e').ToString();
    }

    [Fact]
    public void Token_limit()
    {
        // The outer list and each inner list are values too: 1 + 2 lists + 497 integers = 500.
        var fine = Lists(BencodeReader.MaxTokens - 3, 250);
        Assert.True(BencodeReader.TryDecode(B(fine), out _));
        var many = Lists(BencodeReader.MaxTokens - 2, 250);
        Assert.False(BencodeReader.TryDecode(B(many), out _));

        // Keys count as well: a dictionary of 63 entries in each of 4 dictionaries = 1 + 4 + 4 × 126 = 509.
        var dicts = "l" + string.Concat(Enumerable.Range(0, 4).Select(_ => Dict(63))) + "e";
        Assert.False(BencodeReader.TryDecode(B(dicts), out _));
        Assert.True(BencodeReader.TryDecode(B("l" + string.Concat(Enumerable.Range(0, 3).Select(_ => Dict(63))) + "e"), out _));
    }

    [Fact]
    public void List_item_limit()
    {
        var full = "l" + string.Concat(Enumerable.Repeat("0:", BencodeReader.MaxListItems)) + "e";
        Assert.True(BencodeReader.TryDecode(B(full), out var v));
        Assert.Equal(BencodeReader.MaxListItems, v!.Items!.Count);
        var over = "l" + string.Concat(Enumerable.Repeat("0:", BencodeReader.MaxListItems + 1)) + "e";
        Assert.False(BencodeReader.TryDecode(B(over), out _));
    }

    /// <summary>A dictionary of <paramref name="count"/> distinct 3-byte keys in ascending order.</summary>
    private static string Dict(int count) => "d" + string.Concat(Enumerable.Range(0, count).Select(i => $"3:{i:D3}i{i}e")) + "e";

    [Fact]
    public void Dictionary_entry_limit()
    {
        Assert.True(BencodeReader.TryDecode(B(Dict(BencodeReader.MaxDictionaryEntries)), out var v));
        Assert.Equal(BencodeReader.MaxDictionaryEntries, v!.Entries!.Count);
        Assert.False(BencodeReader.TryDecode(B(Dict(BencodeReader.MaxDictionaryEntries + 1)), out _));
    }

    [Theory]
    [InlineData("d1:ai1e1:bi2e1:ci3ee", 3)] // sorted
    [InlineData("d1:ci1e1:bi2e1:ai3ee", 3)] // descending
    [InlineData("d1:bi1e1:ai2e1:ci3ee", 3)] // one key out of order
    [InlineData("d2:abi1e1:ai2ee", 2)] // a prefix sorts first, so this is out of order but distinct
    [InlineData("d1:ai1e1:ai2ee", 0)] // sorted, adjacent duplicate
    [InlineData("d1:bi1e1:ai2e1:bi3ee", 0)] // duplicate of a key before the first one out of order
    [InlineData("d1:bi1e1:ai2e1:ci3e1:ai4ee", 0)] // duplicate after the switch to the set
    [InlineData("d1:ai1e1:ci2e1:bi3e1:ci4ee", 0)]
    public void Duplicate_keys_are_found_in_sorted_and_unsorted_dictionaries(string input, int entries)
    {
        Assert.Equal(entries > 0, BencodeReader.TryDecode(B(input), out var v));
        Assert.Equal(entries, v?.Entries!.Count ?? 0);
    }

    [Fact]
    public void Top_level_must_be_a_dictionary_for_messages()
    {
        Assert.False(BencodeReader.TryDecodeDictionary(B("li1ee"), out _));
        Assert.True(BencodeReader.TryDecodeDictionary(B("de"), out _));
    }

    internal static readonly Gen<BValue> GenValue = Gen.Recursive<BValue>((depth, self) =>
    {
        var leaf = Gen.OneOf(
            Gen.Long.Select(BValue.Int),
            Gen.Byte.Array[0, 40].Select(b => BValue.Str(b)));
        if (depth >= 4)
        {
            return leaf;
        }

        var list = self.Array[0, 5].Select(BValue.List);
        var dict = Gen.Dictionary(Gen.Byte.Array[0, 6].Select(Convert.ToHexString), self)[0, 5].Select(d =>
        {
            var v = BValue.Dict();
            foreach (var (k, x) in d)
            {
                v.Add(k, x);
            }

            return v;
        });
        return Gen.Frequency((3, leaf), (1, list), (1, dict));
    });

    [Fact]
    public void Round_trip_is_identity_on_canonical_bytes()
    {
        GenValue.Sample(v =>
        {
            var bytes = BencodeWriter.Encode(v);
            Assert.True(BencodeReader.TryDecode(bytes, out var back));
            Assert.Equal(bytes, BencodeWriter.Encode(back!));
            Assert.Equal(bytes, back!.Raw.ToArray());
        }, iter: 10_000);
    }

    [Fact]
    public void Random_and_mutated_inputs_never_throw()
    {
        // 60k purely random inputs plus 60k mutations of valid encodings.
        Gen.Byte.Array[0, 64].Sample(b => { BencodeReader.TryDecode(b, out _); }, iter: 60_000);
        Gen.Select(GenValue, Gen.Int, Gen.Byte, Gen.Int[0, 3]).Sample((v, at, b, op) =>
        {
            var bytes = BencodeWriter.Encode(v).ToList();
            if (bytes.Count == 0)
            {
                return;
            }

            var i = (int)((uint)at % (uint)bytes.Count);
            switch (op)
            {
                case 0: bytes[i] = b; break;
                case 1: bytes.RemoveAt(i); break;
                case 2: bytes.Insert(i, b); break;
                default: bytes.RemoveRange(i, bytes.Count - i); break;
            }

            if (BencodeReader.TryDecode(bytes.ToArray(), out var back))
            {
                // Whatever parses re-encodes without throwing.
                BencodeWriter.Encode(back!);
            }
        }, iter: 60_000);
    }
}
