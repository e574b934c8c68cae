// The one exception a bad DNS server configuration raises. The file is read by the relay's TOML reader, whose errors
// already say where (file:line), which key, what is wrong and what is accepted; this type carries them under the DNS
// server's name so callers need not know where the reader lives.

using Pkarr.Relay.Configuration;

namespace Pkarr.DnsServer.Configuration;

/// <summary>
/// The DNS server's TOML configuration file is missing, malformed, or holds a section, key or value the server does
/// not accept. The message reads <c>&lt;file&gt;[:line]: [&lt;key&gt;: ]&lt;problem&gt;</c> and says what is accepted.
/// </summary>
public sealed class DnsConfigurationException : Exception
{
    internal DnsConfigurationException(RelayConfigurationException reader)
        : base(reader.Message, reader)
    {
        Source = reader.Source;
        Line = reader.Line;
        Key = reader.Key;
    }

    /// <summary>The configuration file's path as given.</summary>
    public override string? Source { get; set; }

    /// <summary>The 1-based line of the bad setting, when the problem is on a known line.</summary>
    public int? Line { get; }

    /// <summary>The setting as <c>section.key</c> (list entries as <c>dht.relays[1]</c>); null when the problem is
    /// the file itself (missing, unreadable, not TOML).</summary>
    public string? Key { get; }
}
