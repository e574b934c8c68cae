// Protocol constants (shared spec §0).
namespace Mainline;

internal static class Limits
{
    /// <summary>Bucket size and "closest" count.</summary>
    public const int K = 20;

    /// <summary>BEP 44: maximum size of <c>v</c> (raw length, as the reference and webtorrent servers).</summary>
    public const int MaxValueLength = 1000;

    /// <summary>BEP 44: maximum salt length.</summary>
    public const int MaxSaltLength = 64;
}
