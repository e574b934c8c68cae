// Protocol constants (shared spec §0).
namespace Mainline;

internal static class Limits
{
    /// <summary>Bucket size and "closest" count.</summary>
    public const int K = 20;

}
