namespace Pkarr.DnsServer;

internal static partial class Error
{
    internal static ArgumentException InvalidTopLevelDomain(string value)
        => new($"The extra top-level domain '{value}' is not a single DNS label.");

    internal static ArgumentException InvalidOrigin(string value)
        => new($"The origin '{value}' is not a DNS name below the root.");

    internal static ArgumentException NameNotInZone()
        => new("The name is not a Pkarr name under this packet's key.");

    internal static ArgumentException InvalidTtlBounds(uint min, uint max)
        => new($"The minimum TTL {min} is above the maximum TTL {max}.");

    internal static ArgumentException NotPositive(string name, int value)
        => new($"{name} is {value}; it must be at least 1.");
}
