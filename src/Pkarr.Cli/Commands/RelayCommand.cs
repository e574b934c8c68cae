using System.CommandLine;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Pkarr.Relay;
using Pkarr.Relay.Configuration;

namespace Pkarr.Cli.Commands;

/// <summary>
/// <c>pkarr relay</c>: a pkarr relay (src/Pkarr.Relay) in the foreground. It prints where it listens and how to use
/// it, logs to standard error, and stops gracefully on Ctrl+C or SIGTERM (requests in flight finish, the store is
/// closed), exiting 0.
/// </summary>
internal static class RelayCommand
{
    /// <summary>How long requests in flight get to finish at shutdown. The whole stop stays within the 5 s
    /// System.CommandLine grants a cancelled command before it ends the process.</summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(3);

    internal static Command Create(CliConsole console)
    {
        var arguments = new RelayArguments();
        var command = new Command(
            "relay",
            "Run a pkarr relay: the HTTP API (GET/PUT /KEY) in front of its own DHT node and a durable packet store. "
            + "--testnet runs it offline on 127.0.0.1. Stops on Ctrl+C or SIGTERM and exits 0.");
        arguments.AddTo(command);
        command.SetAction((result, interrupt) => RunAsync(console, arguments, result, interrupt));
        return command;
    }

    private static async Task<int> RunAsync(CliConsole console, RelayArguments arguments, ParseResult result, CancellationToken interrupt)
    {
        RelayOptions? options = null;
        int exit = console.Run(() =>
        {
            try
            {
                options = arguments.ToOptions(result);
                return ExitCodes.Success;
            }
            catch (RelayConfigurationException error)
            {
                console.Fail(error.Message);
                return ExitCodes.BadInput;
            }
        });
        if (options is null)
        {
            return exit;
        }

        using var loggers = CreateLoggers(arguments.Level(result));
        options.LoggerFactory = loggers;
        RelayServer server;
        try
        {
            server = await RelayServer.StartAsync(options, interrupt).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (interrupt.IsCancellationRequested)
        {
            return ExitCodes.Success;
        }
        catch (IOException error)
        {
            console.Fail(error.InnerException is AddressInUseException
                ? CliErrors.HttpPortTaken(options.Http)
                : CliErrors.CannotListen(options.Http, error.Message));
            return ExitCodes.BadInput;
        }
        catch (SocketException error)
        {
            console.Fail(CliErrors.DhtCannotBind(options.Mainline, error.Message));
            return ExitCodes.BadInput;
        }
        catch (InvalidOperationException error)
        {
            console.Fail(CliErrors.RelayCannotStart(error.Message));
            return ExitCodes.BadInput;
        }

        await using (server.ConfigureAwait(false))
        {
            PrintStarted(console, server);
            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, interrupt).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C or SIGTERM: the graceful stop below.
            }

            using var drain = new CancellationTokenSource(DrainTimeout);
            await server.StopAsync(drain.Token).ConfigureAwait(false);
        }

        console.Error.WriteLine("relay stopped");
        return ExitCodes.Success;
    }

    /// <summary>Where the relay is and a command to paste, on standard output (the logs go to standard error).</summary>
    internal static void PrintStarted(CliConsole console, RelayServer server)
    {
        var options = server.Options;
        string url = server.Url.ToString();
        var output = console.Out;
        output.WriteLine("pkarr relay running; Ctrl+C stops it");
        output.WriteLine($"  relay  {url}");
        if (options.Web.Enabled)
        {
            output.WriteLine($"  web    {url} (resolve and publish from a browser)");
            output.WriteLine($"  status {url}status");
        }
        else
        {
            output.WriteLine($"  page   {url}");
        }
        output.WriteLine($"  dht    udp {server.DhtEndPoint}"
            + (options.Testnet ? $" (a private testnet of 10 nodes on 127.0.0.1; join it with --bootstrap {server.TestnetBootstrap[0]})" : ""));
        output.WriteLine($"  store  {server.StoreLocation}"
            + (options.Cache.Backend == StoreBackend.Sqlite && options.Cache.Path is null ? " (ephemeral: deleted when the relay stops; keep it with --cache-dir DIR)" : ""));
        output.WriteLine("try it:");
        if (options.Testnet)
        {
            output.WriteLine($"  pkarr publish --relay {url} --no-dht --secret me.key --zone me.zone");
            output.WriteLine($"  pkarr resolve --relay {url} --no-dht <key>");
        }
        else
        {
            output.WriteLine("  pkarr sign --secret me.key --zone me.zone --format relay-hex | xxd -r -p > payload");
            output.WriteLine($"  curl -X PUT --data-binary @payload {url}<key>");
        }

        output.WriteLine($"  curl -s -o payload.bin -w '%{{http_code}}\\n' {url}<key>");
        output.Flush();
    }

    /// <summary>Structured console logs on standard error. ASP.NET Core's own information lines (hosting, one per
    /// request) repeat the banner and crowd the relay's; they show from debug on.</summary>
    internal static ILoggerFactory CreateLoggers(LogLevel level) => LoggerFactory.Create(logging =>
    {
        logging.SetMinimumLevel(level);
        logging.AddFilter("Microsoft", level <= LogLevel.Debug ? level : (LogLevel)Math.Max((int)level, (int)LogLevel.Warning));
        logging.AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
        logging.AddSimpleConsole(format =>
        {
            format.SingleLine = true;
            format.UseUtcTimestamp = true;
            format.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
        });
    });
}
