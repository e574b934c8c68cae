// Strict bencode decoder (shared spec §1.2).
//
// Rejects: empty input, unknown type bytes, truncation, string lengths larger than what remains (checked
// before any allocation), integers with no digits / non-digits / leading zeros / "-0" / outside int64,
// non-string or duplicate dictionary keys, nesting deeper than 32, more than 500 values, dictionaries of more
// than 64 entries, lists of more than 256 items.
// Tolerates unsorted keys (common in the wild). Trailing bytes after the top-level value are ignored.
// Never throws on hostile input: every failure is a false return.
//
// Every datagram a peer sends is decoded on the node's loop, before any rate limit and without a reply (so
// spoofable), hence the cost is linear in the input and stops at the caps: each key is compared with the
// previous one only (every encoder sorts keys), and a set is built only for a dictionary that arrives unsorted.
namespace Mainline.Bencode;

/// <summary>Decodes bencode from memory without copying string contents.</summary>
internal static class BencodeReader
{
    /// <summary>Maximum nesting of lists and dictionaries.</summary>
    public const int MaxDepth = 32;

    /// <summary>
    /// Maximum number of values in one input, dictionary keys included: 500, libtorrent's DHT limit (it also
    /// counts end markers, so every message it accepts fits here). The largest honest KRPC message, a
    /// get_peers reply with libtorrent's 100 peers, has ~120; a BEP 44 get or put has ~30.
    /// </summary>
    public const int MaxTokens = 500;

    /// <summary>
    /// Maximum entries of one dictionary: 64, about 5× the largest KRPC dictionary (a get reply's <c>r</c>
    /// with libtorrent's extra keys has ~13). It also bounds the linear key search of <see cref="BValue"/>.
    /// </summary>
    public const int MaxDictionaryEntries = 64;

    /// <summary>
    /// Maximum items of one list: 256, 2.5× the largest KRPC list (the <c>values</c> of a get_peers reply, at
    /// most 100 peers from libtorrent, fewer from the other implementations).
    /// </summary>
    public const int MaxListItems = 256;

    /// <summary>Decodes the first value of <paramref name="input"/>; trailing bytes are ignored.</summary>
    public static bool TryDecode(ReadOnlyMemory<byte> input, out BValue? value)
    {
        value = null;
        if (!TryValidate(input, out _))
        {
            return false;
        }

        var pos = 0;
        value = Build(input, ref pos);
        return true;
    }

    /// <summary>Decodes a message: a dictionary at the top level.</summary>
    public static bool TryDecodeDictionary(ReadOnlyMemory<byte> input, out BValue? value)
    {
        if (input.IsEmpty || input.Span[0] != (byte)'d' || !TryDecode(input, out value))
        {
            value = null;
            return false;
        }

        return true;
    }

    /// <summary>
    /// Checks that <paramref name="input"/> starts with one value that keeps every rule above, without building
    /// anything; <paramref name="length"/> is its size. A validated input can then be read with
    /// <see cref="Read"/> and <see cref="TryNextEntry"/>, which trust its structure.
    /// </summary>
    public static bool TryValidate(ReadOnlyMemory<byte> input, out int length)
    {
        var pos = 0;
        var tokens = 0;
        if (input.IsEmpty || !Validate(input, ref pos, 0, ref tokens))
        {
            length = 0;
            return false;
        }

        length = pos;
        return true;
    }

    /// <summary>Reads the value at <paramref name="pos"/> of a validated input and moves past it.</summary>
    public static BSlice Read(ReadOnlySpan<byte> validated, ref int pos)
    {
        var start = pos;
        switch (validated[pos])
        {
            case (byte)'i':
                pos++;
                TryInteger(validated, ref pos, (byte)'e', out var n);
                return new BSlice(BKind.Integer, start, pos, 0, n);
            case (byte)'l':
            case (byte)'d':
                var kind = validated[pos] == (byte)'l' ? BKind.List : BKind.Dictionary;
                pos++;
                while (validated[pos] != (byte)'e')
                {
                    Read(validated, ref pos);
                }

                pos++;
                return new BSlice(kind, start, pos, start + 1, 0);
            default:
                TryInteger(validated, ref pos, (byte)':', out var length);
                var content = pos;
                pos += (int)length;
                return new BSlice(BKind.Bytes, start, pos, content, length);
        }
    }

    /// <summary>The next entry of a validated dictionary: start with <paramref name="pos"/> at
    /// <see cref="BSlice.ContentStart"/>; false at its end.</summary>
    public static bool TryNextEntry(ReadOnlySpan<byte> validated, ref int pos, out ReadOnlySpan<byte> key, out BSlice value)
    {
        if (validated[pos] == (byte)'e')
        {
            key = default;
            value = default;
            return false;
        }

        key = Read(validated, ref pos).Content(validated);
        value = Read(validated, ref pos);
        return true;
    }

    private static bool Validate(ReadOnlyMemory<byte> input, ref int pos, int depth, ref int tokens)
    {
        var span = input.Span;
        if (pos >= span.Length || ++tokens > MaxTokens)
        {
            return false;
        }

        switch (span[pos])
        {
            case (byte)'i':
                pos++;
                return TryInteger(span, ref pos, (byte)'e', out _);

            case >= (byte)'0' and <= (byte)'9':
                return TryString(span, ref pos, out _);

            case (byte)'l':
                {
                    if (depth >= MaxDepth)
                    {
                        return false;
                    }

                    pos++;
                    for (var count = 0; ; count++)
                    {
                        if (pos >= span.Length)
                        {
                            return false;
                        }

                        if (span[pos] == (byte)'e')
                        {
                            pos++;
                            return true;
                        }

                        if (count == MaxListItems || !Validate(input, ref pos, depth + 1, ref tokens))
                        {
                            return false;
                        }
                    }
                }

            case (byte)'d':
                {
                    if (depth >= MaxDepth)
                    {
                        return false;
                    }

                    var dictionary = pos++;
                    var previous = Range.All;
                    HashSet<ReadOnlyMemory<byte>>? unsortedKeys = null;
                    for (var count = 0; ; count++)
                    {
                        if (pos >= span.Length)
                        {
                            return false;
                        }

                        if (span[pos] == (byte)'e')
                        {
                            pos++;
                            return true;
                        }

                        var keyAt = pos;
                        if (span[pos] is < (byte)'0' or > (byte)'9' || count == MaxDictionaryEntries
                            || ++tokens > MaxTokens || !TryString(span, ref pos, out var key)
                            || !IsNewKey(input, dictionary, keyAt, previous, ref unsortedKeys, key))
                        {
                            return false;
                        }

                        previous = key;
                        if (!Validate(input, ref pos, depth + 1, ref tokens))
                        {
                            return false;
                        }
                    }
                }

            default:
                return false;
        }
    }

    /// <summary>False when <paramref name="key"/> is already a key of the dictionary being validated. Keys in
    /// ascending order need one comparison with the previous key; from the first key out of order on, a set of the
    /// dictionary's keys answers instead (filled once by reading its entries before <paramref name="keyAt"/>).</summary>
    private static bool IsNewKey(
        ReadOnlyMemory<byte> input, int dictionary, int keyAt, Range previous, ref HashSet<ReadOnlyMemory<byte>>? unsortedKeys, Range key)
    {
        if (unsortedKeys is null)
        {
            if (previous.Equals(Range.All) || input.Span[key].SequenceCompareTo(input.Span[previous]) > 0)
            {
                return true;
            }

            unsortedKeys = new HashSet<ReadOnlyMemory<byte>>(KeyComparer.Instance);
            var pos = dictionary + 1;
            while (pos < keyAt)
            {
                var entryKey = Read(input.Span, ref pos);
                unsortedKeys.Add(input[entryKey.ContentStart..entryKey.End]);
                Read(input.Span, ref pos);
            }
        }

        return unsortedKeys.Add(input[key]);
    }

    /// <summary>Builds the tree of a validated value.</summary>
    private static BValue Build(ReadOnlyMemory<byte> input, ref int pos)
    {
        var span = input.Span;
        var start = pos;
        BValue value;
        switch (span[pos])
        {
            case (byte)'l':
                pos++;
                var items = new List<BValue>();
                while (span[pos] != (byte)'e')
                {
                    items.Add(Build(input, ref pos));
                }

                pos++;
                value = BValue.FromList(items);
                break;
            case (byte)'d':
                pos++;
                value = BValue.Dict();
                while (span[pos] != (byte)'e')
                {
                    var key = Read(span, ref pos);
                    value.Entries!.Add(new(input[key.ContentStart..key.End], Build(input, ref pos)));
                }

                pos++;
                break;
            default:
                var scalar = Read(span, ref pos);
                value = scalar.Kind == BKind.Integer ? BValue.Int(scalar.Integer) : BValue.Str(input[scalar.ContentStart..scalar.End]);
                break;
        }

        value.Raw = input[start..pos];
        return value;
    }

    /// <summary>Compares keys by content; the hash is seeded per process (<see cref="HashCode"/>), so a peer
    /// cannot choose keys that collide.</summary>
    private sealed class KeyComparer : IEqualityComparer<ReadOnlyMemory<byte>>
    {
        public static readonly KeyComparer Instance = new();

        public bool Equals(ReadOnlyMemory<byte> x, ReadOnlyMemory<byte> y) => x.Span.SequenceEqual(y.Span);

        public int GetHashCode(ReadOnlyMemory<byte> obj)
        {
            var hash = default(HashCode);
            hash.AddBytes(obj.Span);
            return hash.ToHashCode();
        }
    }

    private static bool TryString(ReadOnlySpan<byte> span, ref int pos, out Range content)
    {
        content = default;
        if (!TryInteger(span, ref pos, (byte)':', out var length) || length < 0 || length > span.Length - pos)
        {
            return false;
        }

        content = new Range(pos, pos + (int)length);
        pos += (int)length;
        return true;
    }

    // Parses [-]digits up to the terminator; canonical form only.
    private static bool TryInteger(ReadOnlySpan<byte> span, ref int pos, byte terminator, out long value)
    {
        value = 0;
        var negative = false;
        if (pos < span.Length && span[pos] == (byte)'-' && terminator == (byte)'e')
        {
            negative = true;
            pos++;
        }

        var digitsStart = pos;
        ulong magnitude = 0;
        while (pos < span.Length && span[pos] != terminator)
        {
            var c = span[pos];
            if (c is < (byte)'0' or > (byte)'9' || pos - digitsStart >= 19)
            {
                return false;
            }

            magnitude = (magnitude * 10) + (ulong)(c - '0');
            pos++;
        }

        var digits = pos - digitsStart;
        if (pos >= span.Length || digits == 0)
        {
            return false;
        }

        if (span[digitsStart] == (byte)'0' && (digits > 1 || negative))
        {
            return false;
        }

        pos++; // terminator
        if (negative)
        {
            if (magnitude > (ulong)long.MaxValue + 1)
            {
                return false;
            }

            value = magnitude == (ulong)long.MaxValue + 1 ? long.MinValue : -(long)magnitude;
        }
        else
        {
            if (magnitude > long.MaxValue)
            {
                return false;
            }

            value = (long)magnitude;
        }

        return true;
    }
}
