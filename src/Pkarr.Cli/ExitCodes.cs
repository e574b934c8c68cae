using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace Pkarr.Cli;

/// <summary>
/// The exit codes of every <c>pkarr</c> command, so scripts can tell "nobody has it" from "the network is down".
/// They are listed under every command's help (<see cref="HelpWithExitCodes"/>) and in the tool's README.
/// </summary>
internal static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    internal const int Success = 0;

    /// <summary>Bad input: an option, a key, a file, a zone file; also a bad command line (with its help).</summary>
    internal const int BadInput = 1;

    /// <summary>The network did not help: no DHT node or relay answered usefully, or the command timed out; a
    /// publish that no backend stored.</summary>
    internal const int NetworkError = 2;

    /// <summary>Nobody has a packet for the key (or the cache has none, with <c>--policy cache-only</c>); no
    /// endpoint for the name.</summary>
    internal const int NotFound = 3;

    /// <summary>The most recent value for the key is correctly signed but is not a DNS packet.</summary>
    internal const int InvalidSignedPacket = 4;

    /// <summary>A publish was refused: a newer packet for the key is known, or DHT nodes rejected it.</summary>
    internal const int Refused = 5;

    /// <summary>Stopped by Ctrl+C (128 + SIGINT, as shells report it).</summary>
    internal const int Interrupted = 130;

    /// <summary>The table printed under every command's help.</summary>
    internal const string Table =
        """
        Exit codes:
          0    success
          1    bad input (options, keys, files, zone files)
          2    network error: no DHT node or relay answered usefully, or timed out
          3    not found: nobody has a packet for the key (resolve), no endpoint (endpoints)
          4    invalid signed packet: the key's most recent value is signed but is not a DNS packet
          5    publish refused: a newer packet is known, or DHT nodes rejected it
          130  interrupted (Ctrl+C)
        republish, testnet, relay and dns exit 0 when Ctrl+C stops them; the dht commands exit 1 on every failure.
        """;

    /// <summary>Replaces the help action of <paramref name="help"/> with one that adds <see cref="Table"/>.</summary>
    internal static void AddToHelp(HelpOption help) =>
        help.Action = new HelpWithExitCodes((SynchronousCommandLineAction)help.Action!);

    /// <summary>The default help, then the exit codes.</summary>
    private sealed class HelpWithExitCodes(SynchronousCommandLineAction help) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            int exit = help.Invoke(parseResult);
            var output = parseResult.InvocationConfiguration.Output;
            output.WriteLine(Table);
            output.WriteLine();
            return exit;
        }
    }
}
