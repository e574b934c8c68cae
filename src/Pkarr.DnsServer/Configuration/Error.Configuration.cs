// Configuration errors (Configuration/DnsConfiguration.cs). The relay's factories format them (file:line: key:
// problem), so both servers word a bad setting the same way.

using Pkarr.DnsServer.Configuration;
using Pkarr.Relay.Configuration;

namespace Pkarr.DnsServer;

internal static partial class Error
{
    /// <summary>A value that is there but not accepted: <paramref name="problem"/> says what is wrong and what is
    /// accepted.</summary>
    internal static DnsConfigurationException ConfigValue(Setting setting, string problem) =>
        new(Pkarr.Relay.Error.ConfigValue(setting, problem));

    /// <summary>A key or section that is wrong by its name rather than by its value.</summary>
    internal static DnsConfigurationException ConfigKey(SettingOrigin origin, string key, string problem) =>
        new(Pkarr.Relay.Error.ConfigKey(origin, key, problem));
}
