namespace Pkarr.Relay;

internal static partial class Error
{
    internal static ArgumentException InvalidRepublisherSetting(string key, string value, string rule) =>
        new($"[republisher] {key} must be {rule}; it is {value}.", key);
}
