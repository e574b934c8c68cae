// Decides whether a query name is a Pkarr name, and where its key is (spec §9.1 "public-key-domain detection",
// improved as §9.5 "Names" and §9.6 ask). The key may be:
//
//   www.<key>                  the last label                                   suffix: (none)
//   www.<key>.key              followed by the extra TLD (case-insensitive)     suffix: key
//   www.<key>.example.net      followed by a configured origin                  suffix: example.net
//   www.<key>.isp.network      followed by anything (resolver search domains;   suffix: isp.network
//                              the rightmost label that is a valid key wins)
//
// The key label is matched ignoring letter case (RFC 4343; resolvers randomise it, "0x20"). A label of 52 z-base32
// characters in the first three positions that is a non-canonical spelling or not an Ed25519 point is an invalid key
// (NXDOMAIN), not an ICANN name to forward, so the key never leaks upstream. Under a search suffix only valid keys
// count: the suffix is someone else's zone, where a long label is just a name.

using Pkarr.Dns;
using Pkarr.Keys;

namespace Pkarr.DnsServer.Answering;

/// <summary>How a query name relates to Pkarr.</summary>
internal enum PkarrNameKind
{
    /// <summary>Not a Pkarr name: forwarded to the upstream resolvers.</summary>
    NotPkarr,

    /// <summary>Shaped as a key where a key belongs, but not a valid canonical key: answered NXDOMAIN.</summary>
    InvalidKey,

    /// <summary>A Pkarr name: answered from the key's packet.</summary>
    Pkarr,
}

/// <summary>A query name split around its key.</summary>
internal sealed class PkarrNameMatch
{
    private PkarrNameMatch(PkarrNameKind kind, DnsName name, PublicKey key, DnsName relative, DnsName suffix)
    {
        Kind = kind;
        Name = name;
        Key = key;
        Relative = relative;
        Suffix = suffix;
    }

    /// <summary>What the name is.</summary>
    public PkarrNameKind Kind { get; }

    /// <summary>The query name as received (letter case kept, so answers echo it).</summary>
    public DnsName Name { get; }

    /// <summary>The key (default unless <see cref="Kind"/> is <see cref="PkarrNameKind.Pkarr"/>).</summary>
    public PublicKey Key { get; }

    /// <summary>The labels below the key: the name relative to the key's zone (the root for the apex).</summary>
    public DnsName Relative { get; }

    /// <summary>The labels after the key (TLD, origin or search suffix); re-added to every name that ends with a key in the reply.</summary>
    public DnsName Suffix { get; }

    internal static PkarrNameMatch NotPkarr(DnsName name) => new(PkarrNameKind.NotPkarr, name, default, DnsName.Root, DnsName.Root);

    internal static PkarrNameMatch Invalid(DnsName name) => new(PkarrNameKind.InvalidKey, name, default, DnsName.Root, DnsName.Root);

    internal static PkarrNameMatch Pkarr(DnsName name, PublicKey key, int keyIndex)
        => new(
            PkarrNameKind.Pkarr,
            name,
            key,
            Labels.Slice(name, 0, keyIndex),
            Labels.Slice(name, keyIndex + 1, name.LabelCount - keyIndex - 1));
}

/// <summary>Which names are Pkarr names: the extra TLD, origins and search suffixes.</summary>
internal sealed class PkarrNameOptions
{
    /// <summary>An extra TLD after the key (<c>&lt;key&gt;.key</c>), compared ignoring case; null or empty disables it.</summary>
    public string? TopLevelDomain { get; init; } = "key";

    /// <summary>Domains under which keys are served (<c>&lt;key&gt;.example.net</c>).</summary>
    public IReadOnlyList<string> Origins { get; init; } = [];

    /// <summary>Whether a valid key followed by any other labels (a resolver's search domain) is a Pkarr name.</summary>
    public bool MatchSearchSuffixes { get; init; } = true;
}

/// <summary>Splits query names around their key. Thread-safe; never throws on a name.</summary>
internal sealed class PkarrNameMatcher
{
    private readonly DnsName? _topLevelDomain;
    private readonly DnsName[] _origins;
    private readonly bool _searchSuffixes;

    /// <summary>Creates a matcher.</summary>
    /// <exception cref="ArgumentException">The TLD is not one label, or an origin is not a name.</exception>
    public PkarrNameMatcher(PkarrNameOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!string.IsNullOrEmpty(options.TopLevelDomain))
        {
            if (!DnsName.TryParse(options.TopLevelDomain, out var tld) || tld.LabelCount != 1)
            {
                throw Error.InvalidTopLevelDomain(options.TopLevelDomain);
            }

            _topLevelDomain = tld;
        }

        var origins = new List<DnsName>();
        foreach (string origin in options.Origins ?? [])
        {
            if (!DnsName.TryParse(origin, out var name) || name.IsRoot)
            {
                throw Error.InvalidOrigin(origin);
            }

            origins.Add(name);
        }

        // Longest first: with origins a.example and example both configured, the more specific one decides.
        _origins = [.. origins.OrderByDescending(o => o.LabelCount)];
        _searchSuffixes = options.MatchSearchSuffixes;
    }

    /// <summary>Classifies <paramref name="name"/> and splits it around its key.</summary>
    public PkarrNameMatch Match(DnsName name)
    {
        ArgumentNullException.ThrowIfNull(name);
        int count = name.LabelCount;
        if (count == 0)
        {
            return PkarrNameMatch.NotPkarr(name);
        }

        if (TryAt(count - 1, out var match))
        {
            return match;
        }

        if (_topLevelDomain is not null && count >= 2
            && Labels.EqualsIgnoreCase(name.Label(count - 1), _topLevelDomain.Label(0))
            && TryAt(count - 2, out match))
        {
            return match;
        }

        foreach (var origin in _origins)
        {
            int at = count - origin.LabelCount - 1;
            if (at >= 0 && Labels.EndsWithIgnoreCase(name, origin) && TryAt(at, out match))
            {
                return match;
            }
        }

        if (_searchSuffixes)
        {
            for (int i = count - 2; i >= 0; i--)
            {
                if (Labels.ClassifyKey(name.Label(i), out var key) == KeyLabelKind.Key)
                {
                    return PkarrNameMatch.Pkarr(name, key, i);
                }
            }
        }

        return PkarrNameMatch.NotPkarr(name);

        bool TryAt(int index, out PkarrNameMatch result)
        {
            switch (Labels.ClassifyKey(name.Label(index), out var key))
            {
                case KeyLabelKind.Key:
                    result = PkarrNameMatch.Pkarr(name, key, index);
                    return true;
                case KeyLabelKind.InvalidKey:
                    result = PkarrNameMatch.Invalid(name);
                    return true;
                default:
                    result = PkarrNameMatch.NotPkarr(name);
                    return false;
            }
        }
    }
}
