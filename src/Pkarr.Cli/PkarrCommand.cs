using System.CommandLine;
using System.CommandLine.Help;
using Pkarr.Cli.Commands;
using Pkarr.Cli.Commands.Dht;

namespace Pkarr.Cli;

/// <summary>The root of the <c>pkarr</c> command line. Commands stay thin: they call the libraries.</summary>
internal static class PkarrCommand
{
    internal static Task<int> RunAsync(string[] args) =>
        RunAsync(args, new CliConsole(Console.Out, Console.Error, Console.OpenStandardInput, Console.OpenStandardOutput)
        {
            ErrorIsTerminal = !Console.IsErrorRedirected,
        });

    internal static Task<int> RunAsync(string[] args, CliConsole console) => RunAsync(args, console, CancellationToken.None);

    /// <summary>Runs a command line; <paramref name="cancellationToken"/> stops a long-running command as Ctrl+C does
    /// (tests).</summary>
    internal static Task<int> RunAsync(string[] args, CliConsole console, CancellationToken cancellationToken)
    {
        // A plain command named "pkarr" rather than RootCommand, whose name is the assembly's (Pkarr.Cli).
        var help = new HelpOption();
        ExitCodes.AddToHelp(help);
        var root = new Command("pkarr", "Publish and resolve DNS records signed by Ed25519 keys (Public-Key Addressable Resource Records).")
        {
            help,
            new VersionOption(),
            KeygenCommand.Create(console),
            PubkeyCommand.Create(console),
            SignCommand.Create(console),
            InspectCommand.Create(console),
            PublishCommand.Create(console),
            ResolveCommand.Create(console),
            EndpointsCommand.Create(console),
            RepublishCommand.Create(console),
            DhtCommand.Create(console),
            TestnetCommand.Create(console),
            RelayCommand.Create(console),
            DnsCommand.Create(console),
        };

        var configuration = new InvocationConfiguration
        {
            Output = console.Out,
            Error = console.Error,
            EnableDefaultExceptionHandler = false,

            // Ctrl+C and SIGTERM cancel the token of async actions (dht node stops cleanly); System.CommandLine
            // 2.0.0 leaves this null, which lets the signal kill the process. 5 s bounds a stuck shutdown.
            ProcessTerminationTimeout = TimeSpan.FromSeconds(5),
        };

        return root.Parse(args).InvokeAsync(configuration, cancellationToken);
    }
}
