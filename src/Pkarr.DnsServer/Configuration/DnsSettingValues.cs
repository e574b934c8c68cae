// The DNS server's kinds of values on top of the relay's Setting conversions (integers, booleans, choices,
// host:port): socket addresses with a default port, DNS labels and names, relay URLs, milliseconds. The command
// line parses its flags with the same Try* methods, so a value means the same in the file and on the command line.

using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Pkarr.Relay.Configuration;

namespace Pkarr.DnsServer.Configuration;

internal static class DnsSettingValues
{
    /// <summary>What a socket address may look like, for messages.</summary>
    internal const string EndPointAccepted = "an \"IP:PORT\" such as \"127.0.0.1:53\" or \"[::1]:53\" (IPv6 in brackets; the port may be left out for 53)";

    /// <summary>What a relay URL may look like, for messages.</summary>
    internal const string RelayAccepted = "an absolute http or https URL such as \"https://relay.example\" or \"http://127.0.0.1:6881\"";

    /// <summary>What a DNS name may look like, for messages.</summary>
    internal const string NameAccepted = "a domain name such as \"example.net\" (letters, digits, '-' and '_'; labels of 1 to 63 characters; IDNs in their xn-- form)";

    /// <summary>What one label may look like, for messages.</summary>
    internal const string LabelAccepted = "one DNS label such as \"key\" (letters, digits, '-' and '_', 1 to 63 characters, no dots), or \"\" for none";

    private const int MaxNameLength = 253;

    private const int MaxLabelLength = 63;

    /// <summary>
    /// Parses <c>IP:PORT</c>, <c>[IPv6]:PORT</c> or a bare address (then <paramref name="defaultPort"/>). IPv4 must be
    /// a plain dotted quad ("127.1" and other legacy forms are refused); a bare IPv6 address takes no port (write
    /// <c>[::1]:53</c>).
    /// </summary>
    /// <param name="text">The text.</param>
    /// <param name="defaultPort">The port of a bare address.</param>
    /// <param name="allowAnyPort">Whether port 0 (the OS chooses) is accepted: for listeners, not for upstreams.</param>
    /// <param name="endPoint">The address and port.</param>
    internal static bool TryParseEndPoint(string? text, int defaultPort, bool allowAnyPort, out IPEndPoint endPoint)
    {
        endPoint = new IPEndPoint(IPAddress.None, 0);
        if (string.IsNullOrWhiteSpace(text) || text.Trim() != text)
        {
            return false;
        }

        // Brackets first: IPAddress.TryParse itself takes "[::1]:5353" and drops the port.
        ReadOnlySpan<char> host = text;
        int port = defaultPort;
        if (text.StartsWith('['))
        {
            int close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || (close != text.Length - 1 && (text[close + 1] != ':' || !TryPort(text.AsSpan(close + 2), out port))))
            {
                return false;
            }

            host = text.AsSpan(1, close - 1);
        }
        else if (text.IndexOf(':', StringComparison.Ordinal) is int colon and >= 0 && colon == text.LastIndexOf(':'))
        {
            if (!TryPort(text.AsSpan(colon + 1), out port))
            {
                return false;
            }

            host = text.AsSpan(0, colon);
        }

        if (!IPAddress.TryParse(host, out var address)
            || (text.StartsWith('[') && address.AddressFamily != AddressFamily.InterNetworkV6)
            // IPAddress.TryParse takes "127.1", "0x7f.1" and friends; a server's configuration means what it shows.
            || (address.AddressFamily == AddressFamily.InterNetwork && !host.SequenceEqual(address.ToString()))
            || (port == 0 && !allowAnyPort))
        {
            return false;
        }

        endPoint = new IPEndPoint(address, port);
        return true;
    }

    /// <summary>An absolute http or https URL with a host.</summary>
    internal static bool TryParseRelay(string? text, out Uri url)
    {
        url = null!;
        if (string.IsNullOrWhiteSpace(text) || !Uri.TryCreate(text.Trim(), UriKind.Absolute, out var parsed)
            || (parsed.Scheme != Uri.UriSchemeHttp && parsed.Scheme != Uri.UriSchemeHttps) || parsed.Host.Length == 0)
        {
            return false;
        }

        url = parsed;
        return true;
    }

    /// <summary>One DNS label in host-name characters (RFC 952/1123, plus '_' as service labels use it).</summary>
    internal static bool IsLabel(ReadOnlySpan<char> label)
    {
        if (label.Length is 0 or > MaxLabelLength || label[0] == '-' || label[^1] == '-')
        {
            return false;
        }

        foreach (char c in label)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A domain name of <see cref="IsLabel"/> labels, at most 253 characters; a trailing dot is allowed and
    /// dropped in <paramref name="name"/>.</summary>
    internal static bool TryParseName(string? text, out string name)
    {
        name = "";
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        var trimmed = text.EndsWith('.') ? text[..^1] : text;
        if (trimmed.Length is 0 or > MaxNameLength)
        {
            return false;
        }

        foreach (var range in trimmed.AsSpan().Split('.'))
        {
            if (!IsLabel(trimmed.AsSpan()[range]))
            {
                return false;
            }
        }

        name = trimmed;
        return true;
    }

    /// <summary>A listener's or an upstream's socket address (see <see cref="TryParseEndPoint"/>).</summary>
    internal static IPEndPoint EndPoint(this Setting setting, bool allowAnyPort)
    {
        var text = setting.Text(EndPointAccepted);
        return TryParseEndPoint(text, GeneralSettings.DefaultPort, allowAnyPort, out var endPoint)
            ? endPoint
            : throw Error.ConfigValue(setting, $"{Quoted(text)} is not {EndPointAccepted}{(allowAnyPort ? "" : " with a port from 1 to 65535")}");
    }

    /// <summary><c>general.forward</c>: one upstream as a string, or a list of them.</summary>
    internal static List<IPEndPoint> Upstreams(this Setting setting) =>
        setting.Value is IReadOnlyList<Setting> entries
            ? [.. entries.Select(e => e.EndPoint(allowAnyPort: false))]
            : [setting.EndPoint(allowAnyPort: false)];

    /// <summary>An existing file, resolved against the configuration file's directory.</summary>
    internal static string ExistingFile(this Setting setting)
    {
        var text = setting.Text("a file path");
        var full = Path.GetFullPath(text, setting.Origin.BaseDirectory);
        return File.Exists(full)
            ? full
            : throw Error.ConfigValue(setting, $"{Quoted(text)} is not an existing file (resolved to {full})");
    }

    /// <summary>A duration written as whole milliseconds from <paramref name="min"/> to <paramref name="max"/>.</summary>
    internal static TimeSpan Milliseconds(this Setting setting, long min, long max) =>
        TimeSpan.FromMilliseconds(setting.Integer(min, max));

    /// <summary><c>dht.top_level_domain</c>: one label, or "" (null) for none.</summary>
    internal static string? TopLevelDomain(this Setting setting)
    {
        if (setting.Value is string { Length: 0 })
        {
            return null;
        }

        var text = setting.Text(LabelAccepted);
        return IsLabel(text) ? text : throw Error.ConfigValue(setting, $"{Quoted(text)} is not {LabelAccepted}");
    }

    /// <summary>One domain name (without its trailing dot).</summary>
    internal static string DomainName(this Setting setting)
    {
        var text = setting.Text(NameAccepted);
        return TryParseName(text, out var name) ? name : throw Error.ConfigValue(setting, $"{Quoted(text)} is not {NameAccepted}");
    }

    /// <summary>One <c>host:port</c> DHT bootstrap node.</summary>
    internal static string Bootstrap(this Setting setting) => setting.EndPoint();

    /// <summary>One relay base URL.</summary>
    internal static Uri Relay(this Setting setting)
    {
        var text = setting.Text(RelayAccepted);
        return TryParseRelay(text, out var url) ? url : throw Error.ConfigValue(setting, $"{Quoted(text)} is not {RelayAccepted}");
    }

    /// <summary>The entries of a list that must not be empty (an empty list would silently turn a feature off;
    /// <paramref name="instead"/> says how to do that on purpose).</summary>
    internal static IReadOnlyList<Setting> NonEmptyList(this Setting setting, string accepted, string instead)
    {
        var entries = setting.List(accepted);
        return entries.Count > 0 ? entries : throw Error.ConfigValue(setting, $"an empty list is not {accepted}; {instead}");
    }

    internal static string Quoted(string text) => "the string \"" + text.Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static bool TryPort(ReadOnlySpan<char> text, out int port) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port <= IPEndPoint.MaxPort;
}
