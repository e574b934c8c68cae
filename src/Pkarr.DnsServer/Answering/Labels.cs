// Label and name helpers for DNS semantics: labels are opaque bytes, compared with ASCII case folding only
// (RFC 4343: 'A'–'Z' equal 'a'–'z', every other byte compares exactly), so any byte value is safe here.

using System.Collections.Concurrent;
using Pkarr.Dns;
using Pkarr.Keys;

namespace Pkarr.DnsServer.Answering;

/// <summary>What a single label is, seen as a Pkarr key.</summary>
internal enum KeyLabelKind
{
    /// <summary>Not 52 characters of the z-base32 alphabet: not meant as a key.</summary>
    NotKey,

    /// <summary>Decodes to 32 bytes, but is a non-canonical spelling or not an Ed25519 point.</summary>
    InvalidKey,

    /// <summary>The canonical spelling (in any letter case) of a valid key.</summary>
    Key,
}

internal static class Labels
{
    private const string Alphabet = "ybndrfg8ejkmcpqxot1uwisza345h769";

    // Checking that a key is an Ed25519 point costs about 0.1 ms, far more than the rest of a cached answer, and every
    // query for a Pkarr name needs it. Valid keys are remembered by their lower-case spelling; the set is bounded
    // (when full it starts over), so random valid keys from a client cost it memory no more than the check costs time.
    private const int KnownKeysLimit = 4096;
    private static readonly ConcurrentDictionary<string, PublicKey> KnownKeys = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, PublicKey>.AlternateLookup<ReadOnlySpan<char>> KnownKeysBySpelling
        = KnownKeys.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>Classifies a label as a key; letters are folded to lower case first (resolvers randomise case).</summary>
    internal static KeyLabelKind ClassifyKey(ReadOnlySpan<byte> label, out PublicKey key)
    {
        key = default;
        if (label.Length != PublicKey.TextLength)
        {
            return KeyLabelKind.NotKey;
        }

        Span<char> text = stackalloc char[PublicKey.TextLength];
        for (int i = 0; i < label.Length; i++)
        {
            char c = (char)ToLower(label[i]);
            if (c >= 0x80 || !Alphabet.Contains(c, StringComparison.Ordinal))
            {
                return KeyLabelKind.NotKey;
            }

            text[i] = c;
        }

        if (KnownKeysBySpelling.TryGetValue(text, out key))
        {
            return KeyLabelKind.Key;
        }

        // 52 alphabet characters always decode to 32 bytes; what remains is the point check and the four unused
        // bits of the last character, which a canonical spelling leaves at zero (pkdns refuses the others too).
        if (!PublicKey.TryParse(text, out key, out _))
        {
            return KeyLabelKind.InvalidKey;
        }

        if (!key.ToZ32().AsSpan().SequenceEqual(text))
        {
            key = default;
            return KeyLabelKind.InvalidKey;
        }

        if (KnownKeys.Count >= KnownKeysLimit)
        {
            KnownKeys.Clear();
        }

        KnownKeys.TryAdd(new string(text), key);
        return KeyLabelKind.Key;
    }

    /// <summary>Whether the name's last label is a valid key (any key, not only one zone's).</summary>
    internal static bool EndsWithKey(DnsName name)
        => name.LabelCount > 0 && ClassifyKey(name.Label(name.LabelCount - 1), out _) == KeyLabelKind.Key;

    internal static byte ToLower(byte b) => b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b + 32) : b;

    internal static bool EqualsIgnoreCase(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.Length != b.Length)
        {
            return false;
        }

        for (int i = 0; i < a.Length; i++)
        {
            if (ToLower(a[i]) != ToLower(b[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether the last labels of <paramref name="name"/> equal those of <paramref name="suffix"/>, ignoring case.</summary>
    internal static bool EndsWithIgnoreCase(DnsName name, DnsName suffix)
    {
        int skip = name.LabelCount - suffix.LabelCount;
        if (skip < 0)
        {
            return false;
        }

        for (int i = 0; i < suffix.LabelCount; i++)
        {
            if (!EqualsIgnoreCase(name.Label(skip + i), suffix.Label(i)))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Labels <paramref name="start"/> .. <paramref name="start"/> + <paramref name="count"/> - 1 as a name (always fits: a part of a name).</summary>
    internal static DnsName Slice(DnsName name, int start, int count)
    {
        if (count == 0)
        {
            return DnsName.Root;
        }

        var labels = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            labels[i] = name.Label(start + i).ToArray();
        }

        return DnsName.FromLabels(labels);
    }

    /// <summary>The name with 'A'–'Z' folded to lower case, for byte-wise comparison.</summary>
    internal static DnsName ToLower(DnsName name)
    {
        var labels = new byte[name.LabelCount][];
        for (int i = 0; i < labels.Length; i++)
        {
            var label = name.Label(i);
            var lower = new byte[label.Length];
            for (int j = 0; j < label.Length; j++)
            {
                lower[j] = ToLower(label[j]);
            }

            labels[i] = lower;
        }

        return labels.Length == 0 ? DnsName.Root : DnsName.FromLabels(labels);
    }

    /// <summary>A one-label name.</summary>
    internal static DnsName Single(ReadOnlySpan<byte> label) => DnsName.FromLabels([label.ToArray()]);
}
