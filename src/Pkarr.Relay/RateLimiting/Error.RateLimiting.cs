namespace Pkarr.Relay;

internal static partial class Error
{
    /// <summary>A <c>[rate_limiter]</c> setting that cannot make a token bucket (set in code; the TOML loader names the
    /// file and key itself).</summary>
    internal static ArgumentException InvalidRateLimit(string key, string problem) =>
        new($"[rate_limiter] {key}: {problem}");
}
