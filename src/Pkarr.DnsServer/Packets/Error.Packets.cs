namespace Pkarr.DnsServer;

internal static partial class Error
{
    internal static ArgumentException NegativePacketCacheBytes(long value)
        => new($"The packet cache size {value} is negative; it must be 0 (no cache) or more bytes.");

    internal static ArgumentException NotPositiveTime(string name, TimeSpan value)
        => new($"{name} is {value}; it must be above zero.");
}
