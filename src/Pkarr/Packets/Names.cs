// Owner-name normalisation (spec §3.4.1): names are relative to the signer's key. Only the last label is
// inspected, comparisons are byte-exact and case-sensitive, and `@` or an empty last label means the apex.

namespace Pkarr.Packets;

internal static class Names
{
    /// <summary>Makes <paramref name="name"/> end in <paramref name="origin"/> (the key's z-base32), without a trailing dot.</summary>
    internal static string Normalize(string origin, string name)
    {
        var text = name.AsSpan();
        if (text.EndsWith('.'))
        {
            text = text[..^1];
        }

        int dot = text.LastIndexOf('.');
        var last = dot < 0 ? text : text[(dot + 1)..];

        if (last.SequenceEqual(origin))
        {
            return text.Length == name.Length ? name : text.ToString();
        }

        if (last.IsEmpty || last is "@")
        {
            return origin;
        }

        return string.Concat(text, ".", origin);
    }
}
