// How a resolve uses the cache and the network (shared spec pkarr.md §5.3). The text forms are the relay's
// `policy` query values, compared case-sensitively as the reference does.

using System.Diagnostics.CodeAnalysis;

namespace Pkarr.Client;

/// <summary>How a resolve uses the cache and the network.</summary>
public enum ResolvePolicy
{
    /// <summary>The cached packet, fresh or not; then relays' caches (<c>policy=CacheOnly</c>). Never queries DHT nodes.</summary>
    CacheOnly,

    /// <summary>The default: a fresh cached packet without network traffic, otherwise the network, racing the DHT and
    /// the relays. Never returns an expired packet.</summary>
    CacheFirst,

    /// <summary>Ignores the cache for reading and returns the most recent packet the whole network has, which may
    /// be older than the cached one (the cache itself is never downgraded).</summary>
    NetworkOnly,
}

/// <summary>Text forms of <see cref="ResolvePolicy"/>: exactly <c>CacheOnly</c>, <c>CacheFirst</c>, <c>NetworkOnly</c>.</summary>
public static class ResolvePolicyText
{
    /// <summary>The relay query value of <paramref name="policy"/>.</summary>
    public static string ToText(this ResolvePolicy policy) => policy switch
    {
        ResolvePolicy.CacheOnly => "CacheOnly",
        ResolvePolicy.CacheFirst => "CacheFirst",
        ResolvePolicy.NetworkOnly => "NetworkOnly",
        _ => throw Error.UnknownPolicy(policy),
    };

    /// <summary>Parses a relay query value; case-sensitive, as the reference relay.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out ResolvePolicy policy)
    {
        switch (text)
        {
            case "CacheOnly":
                policy = ResolvePolicy.CacheOnly;
                return true;
            case "CacheFirst":
                policy = ResolvePolicy.CacheFirst;
                return true;
            case "NetworkOnly":
                policy = ResolvePolicy.NetworkOnly;
                return true;
            default:
                policy = default;
                return false;
        }
    }
}
