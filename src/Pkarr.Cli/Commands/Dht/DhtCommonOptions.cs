using System.CommandLine;

namespace Pkarr.Cli.Commands.Dht;

/// <summary>The options every <c>pkarr dht</c> command takes. One instance per command.</summary>
internal sealed class DhtCommonOptions
{
    /// <summary>Long enough for a lookup and a put on the public DHT (each request waits at most 2 s), short enough
    /// that a script never hangs.</summary>
    internal const double DefaultTimeoutSeconds = 30;

    internal Option<string[]> Bootstrap { get; } = new("--bootstrap", "-b")
    {
        Description = "A DHT node to join through, as HOST:PORT; repeat the option for more (default: the public bootstrap nodes).",
        HelpName = "HOST:PORT",
    };

    internal Option<double> Timeout { get; } = new("--timeout")
    {
        Description = "Give up after this many seconds.",
        HelpName = "SECONDS",
        DefaultValueFactory = _ => DefaultTimeoutSeconds,
    };

    internal Option<bool> Json { get; } = new("--json") { Description = "Print one JSON object per result." };

    internal void AddTo(Command command)
    {
        command.Options.Add(Bootstrap);
        command.Options.Add(Timeout);
        command.Options.Add(Json);
    }

    /// <summary>The salt options of the mutable-item commands.</summary>
    internal static (Option<string> Text, Option<string> Hex) SaltOptions() =>
        (new Option<string>("--salt") { Description = "The salt as text (UTF-8), at most 64 bytes.", HelpName = "TEXT" },
         new Option<string>("--salt-hex") { Description = "The salt as hex, at most 64 bytes.", HelpName = "HEX" });
}
