// Every message the client commands (publish, resolve, endpoints, republish) fail with, in one place. Each says
// what went wrong and what to do next; the exceptions are user errors that CliConsole prints as one line (exit 1),
// the strings go to CliConsole.Fail with the exit code of ExitCodes.
using System.Globalization;
using Pkarr.Client;
using Pkarr.Keys;
using Pkarr.Relay;

namespace Pkarr.Cli.Commands;

internal static class CliErrors
{
    internal static ArgumentException NoNetwork() =>
        new("--no-dht and --no-relays together leave no network: keep at least one");

    internal static FormatException BadRelay(string text) =>
        new($"--relay '{text}' is not an absolute http or https URL (for example https://relay.example or http://127.0.0.1:6882)");

    internal static FormatException BadPolicy(string text) =>
        new($"--policy '{text}' is not a resolve policy: use cache-only, cache-first or network-only");

    /// <summary>Why a resolve of <paramref name="key"/> found nothing, and the exit code that goes with it.
    /// <paramref name="cachePath"/> is the cache file (null without one); <paramref name="relays"/> says whether
    /// relays were asked, which with <see cref="ResolvePolicy.CacheOnly"/> means their caches.</summary>
    internal static (string Message, int ExitCode) ResolveFailed(PublicKey key, ResolveError error, ResolvePolicy policy, string? cachePath, bool relays) =>
        error.Kind switch
        {
            ResolveErrorKind.NotFound when policy == ResolvePolicy.CacheOnly =>
                ($"no packet for {key} in the cache{(cachePath is null ? "" : $" ({cachePath})")}"
                 + (relays ? " or the relays' caches" : "") + ": resolve it once without --policy cache-only", ExitCodes.NotFound),
            ResolveErrorKind.NotFound =>
                ($"no packet found for {key}: it was never published, has expired from the DHT (republish it), or the key is wrong",
                 ExitCodes.NotFound),
            ResolveErrorKind.InvalidSignedPacket =>
                (string.Create(CultureInfo.InvariantCulture,
                    $"the most recent value for {key} (seq {error.Seq}) is signed but is not a DNS packet: publish a packet with a timestamp above {error.Seq}"),
                 ExitCodes.InvalidSignedPacket),
            _ => ($"resolving {key} failed: {error}; check --bootstrap, --relay or your network", ExitCodes.NetworkError),
        };

    /// <summary>Why a publish failed, and the exit code that goes with it.</summary>
    internal static (string Message, int ExitCode) PublishFailed(PublicKey key, PublishError error) => error.Kind switch
    {
        PublishErrorKind.NotMostRecent or PublishErrorKind.Rejected => ($"publishing {key} was refused: {error}", ExitCodes.Refused),
        _ => ($"publishing {key} failed: {error}; check --bootstrap, --relay or your network", ExitCodes.NetworkError),
    };

    internal static FormatException BadName(string text, string reason) =>
        new($"'{text}' does not end in a public key (a key, sub.<key>, pk:<key> or a URL such as https://<key>/): {reason}");

    internal static ArgumentException NoKeysToRepublish() =>
        new("give at least one --secret FILE or --key KEY to republish");

    internal static ArgumentException BadRepublisherOption(string failure) =>
        new(failure.Replace("Pkarr:Republisher:MinimumHolders", "--min-nodes", StringComparison.Ordinal)
            .Replace("Pkarr:Republisher:Interval", "--interval", StringComparison.Ordinal));

    internal static ArgumentException BadCycles(int cycles) =>
        new(string.Create(CultureInfo.InvariantCulture, $"--cycles must be at least 1, got {cycles}"));

    internal static FormatException BadDuration(string text) =>
        new($"--interval '{text}' is not a positive duration: write seconds (90), or a number with ms, s, m, h or d (30m, 1h)");

    internal static string NoEndpoints(string name) =>
        $"no HTTPS endpoint found for {name}: its packet was not found or has no usable HTTPS record (resolve its key to see its records)";

    internal static ArgumentException BadPort(string option, int port) =>
        new(string.Create(CultureInfo.InvariantCulture, $"{option} must be a port from 0 to 65535 (0: any free port), not {port}"));

    internal static string HttpPortTaken(HttpSettings http) =>
        string.Create(CultureInfo.InvariantCulture,
            $"HTTP port {http.Port} on {http.BindAddress} is taken (another relay?): stop what listens there, or choose another port with --http-port N ([http] port in the config file)");

    internal static string CannotListen(HttpSettings http, string reason) =>
        string.Create(CultureInfo.InvariantCulture,
            $"cannot listen for HTTP on {http.BindAddress} port {http.Port}: {reason}; choose another port with --http-port N, or another address in [http]");

    internal static string DhtCannotBind(MainlineSettings mainline, string reason) =>
        $"cannot open the DHT node's UDP socket on {mainline.BindAddress}: {reason}; choose another port with --dht-port N, or another address in [mainline]";

    internal static string RelayCannotStart(string reason) =>
        $"the relay could not start: {reason}";
}
