namespace Pkarr.DnsServer;

internal static partial class Error
{
    internal static ArgumentException NonPositiveTimeout(TimeSpan value)
        => new($"The upstream timeout is {value}; it must be positive.");

    internal static ArgumentException NegativeCacheBytes(long value)
        => new($"The forward cache size is {value} bytes; it must be 0 (off) or positive.");

    internal static ArgumentException NullUpstream()
        => new("An upstream address is null.");
}
