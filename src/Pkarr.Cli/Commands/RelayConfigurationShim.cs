// Stand-in for Pkarr.Relay.Configuration (branch relay-config) with its exact signature, so that `pkarr relay`
// builds before that branch lands; this file is deleted when it does. It knows no TOML: without a file it gives the
// built-in defaults, and it refuses every file.
using Pkarr.Relay;

namespace Pkarr.Relay.Configuration;

internal static class RelayConfiguration
{
    internal static RelayOptions Load(string? path, IReadOnlyDictionary<string, string?>? environment = null)
    {
        _ = environment;
        return path is null ? new RelayOptions() : throw new RelayConfigurationException($"{path}: configuration files are not read by this build");
    }
}

#pragma warning disable CA1064 // A stand-in with the one constructor the command needs.
internal sealed class RelayConfigurationException(string message) : Exception(message);
#pragma warning restore CA1064
