// Configuration errors (Configuration/RelayConfiguration.cs): each names where the setting was written, the key,
// what is wrong and what is accepted.

using Pkarr.Relay.Configuration;

namespace Pkarr.Relay;

internal static partial class Error
{
    internal static RelayConfigurationException ConfigFileMissing(string path) =>
        new(path, null, null, "the configuration file does not exist");

    internal static RelayConfigurationException ConfigFileUnreadable(string path, Exception inner) =>
        new(path, null, null, $"the configuration file cannot be read: {inner.Message}", inner);

    internal static RelayConfigurationException ConfigSyntax(string path, int line, string problem) =>
        new(path, line, null, $"not valid TOML: {problem}");

    /// <summary>A value that is there but not accepted: <paramref name="problem"/> says what is wrong and what is
    /// accepted.</summary>
    internal static RelayConfigurationException ConfigValue(Setting setting, string problem) =>
        new(setting.Origin.Source, setting.Origin.Line, setting.Key, problem);

    /// <summary>A key or section that is wrong by its name or its absence rather than by its value.</summary>
    internal static RelayConfigurationException ConfigKey(SettingOrigin origin, string key, string problem) =>
        new(origin.Source, origin.Line, key, problem);
}
