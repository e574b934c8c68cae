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
        var state = new State { Input = input };
        var pos = 0;
        if (input.IsEmpty || !TryValue(ref state, ref pos, 0, out value))
        {
            value = null;
            return false;
        }

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

    private struct State
    {
        public ReadOnlyMemory<byte> Input;
        public int Tokens;
    }

    private static bool TryValue(ref State s, ref int pos, int depth, out BValue? value)
    {
        value = null;
        var span = s.Input.Span;
        if (pos >= span.Length || ++s.Tokens > MaxTokens)
        {
            return false;
        }

        var start = pos;
        switch (span[pos])
        {
            case (byte)'i':
                {
                    pos++;
                    if (!TryInteger(span, ref pos, (byte)'e', out var n))
                    {
                        return false;
                    }

                    value = BValue.Int(n);
                    break;
                }

            case >= (byte)'0' and <= (byte)'9':
                {
                    if (!TryString(s.Input, ref pos, out var bytes))
                    {
                        return false;
                    }

                    value = BValue.Str(bytes);
                    break;
                }

            case (byte)'l':
                {
                    if (depth >= MaxDepth)
                    {
                        return false;
                    }

                    pos++;
                    var items = new List<BValue>();
                    while (true)
                    {
                        if (pos >= span.Length)
                        {
                            return false;
                        }

                        if (span[pos] == (byte)'e')
                        {
                            pos++;
                            break;
                        }

                        if (items.Count == MaxListItems || !TryValue(ref s, ref pos, depth + 1, out var item))
                        {
                            return false;
                        }

                        items.Add(item!);
                    }

                    value = BValue.FromList(items);
                    break;
                }

            case (byte)'d':
                {
                    if (depth >= MaxDepth)
                    {
                        return false;
                    }

                    pos++;
                    var dict = BValue.Dict();
                    HashSet<ReadOnlyMemory<byte>>? unsortedKeys = null;
                    while (true)
                    {
                        if (pos >= span.Length)
                        {
                            return false;
                        }

                        if (span[pos] == (byte)'e')
                        {
                            pos++;
                            break;
                        }

                        if (span[pos] is < (byte)'0' or > (byte)'9' || dict.Entries!.Count == MaxDictionaryEntries
                            || ++s.Tokens > MaxTokens || !TryString(s.Input, ref pos, out var key)
                            || !IsNewKey(dict.Entries, ref unsortedKeys, key))
                        {
                            return false;
                        }

                        if (!TryValue(ref s, ref pos, depth + 1, out var item))
                        {
                            return false;
                        }

                        dict.Entries!.Add(new(key, item!));
                    }

                    value = dict;
                    break;
                }

            default:
                return false;
        }

        value.Raw = s.Input[start..pos];
        return true;
    }

    /// <summary>False when <paramref name="key"/> is already in <paramref name="entries"/>. Keys in ascending
    /// order need one comparison with the previous key; from the first key out of order on, a set of all the
    /// keys (<paramref name="unsortedKeys"/>) answers instead.</summary>
    private static bool IsNewKey(
        List<KeyValuePair<ReadOnlyMemory<byte>, BValue>> entries, ref HashSet<ReadOnlyMemory<byte>>? unsortedKeys, ReadOnlyMemory<byte> key)
    {
        if (unsortedKeys is null)
        {
            if (entries.Count == 0 || key.Span.SequenceCompareTo(entries[^1].Key.Span) > 0)
            {
                return true;
            }

            unsortedKeys = new HashSet<ReadOnlyMemory<byte>>(entries.Count + 1, KeyComparer.Instance);
            foreach (var entry in entries)
            {
                unsortedKeys.Add(entry.Key);
            }
        }

        return unsortedKeys.Add(key);
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

    private static bool TryString(ReadOnlyMemory<byte> input, ref int pos, out ReadOnlyMemory<byte> bytes)
    {
        bytes = default;
        var span = input.Span;
        if (!TryInteger(span, ref pos, (byte)':', out var length) || length < 0 || length > span.Length - pos)
        {
            return false;
        }

        bytes = input.Slice(pos, (int)length);
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
