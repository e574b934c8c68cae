// `pkarr dht node`: a long-running DHT node that logs its state with the Microsoft.Extensions.Logging console
// logger (one line per event; with --json, one JSON object per event with the values as structured state).
// Logs go to the process's standard output, as the console logger writes them; errors stay one line on stderr.
using System.CommandLine;
using System.Net;
using Mainline;
using Microsoft.Extensions.Logging;

namespace Pkarr.Cli.Commands.Dht;

/// <summary><c>pkarr dht node</c>: run a node until Ctrl+C or <c>--duration</c>, logging its info periodically.</summary>
internal static partial class NodeCommand
{
    /// <summary>Often enough to watch the routing table fill, rare enough to keep a day's log short.</summary>
    internal const double DefaultLogIntervalSeconds = 30;

    /// <summary>The final info read and the shutdown should take milliseconds; this only bounds a stuck node.</summary>
    private static readonly TimeSpan ShutdownBound = TimeSpan.FromSeconds(5);

    internal static Command Create(CliConsole console)
    {
        var common = new DhtCommonOptions();
        var port = new Option<int?>("--port", "-p")
        {
            Description = "UDP port to listen on (default: 6881, or any free port when 6881 is taken; 0: any free port).",
            HelpName = "PORT",
        };
        var bind = new Option<string>("--bind")
        {
            Description = "IPv4 address to listen on (default: 0.0.0.0, or 127.0.0.1 when every bootstrap node is on loopback).",
            HelpName = "ADDRESS",
        };
        var server = new Option<bool>("--server") { Description = "Answer queries and store items from the start." };
        var client = new Option<bool>("--client") { Description = "Read-only (BEP 43): never answer queries." };
        var duration = new Option<double?>("--duration")
        {
            Description = "Stop after this many seconds (default: run until Ctrl+C).",
            HelpName = "SECONDS",
        };
        var interval = new Option<double>("--log-interval")
        {
            Description = "Seconds between two info logs.",
            HelpName = "SECONDS",
            DefaultValueFactory = _ => DefaultLogIntervalSeconds,
        };

        var command = new Command("node", "Run a DHT node and log its id, addresses, firewall state, size estimate and routing table. "
            + "Without --server or --client the node is adaptive: a client until reachable, then a server.")
        {
            port,
            bind,
            server,
            client,
            duration,
            interval,
        };
        common.AddTo(command);
        common.Timeout.Description = "Seconds to wait for a first answer while joining; the node keeps running either way.";
        common.Json.Description = "Log one JSON object per event (the console logger's JSON format).";
        command.SetAction((result, interrupt) => DhtInvocation.RunAsync(console, common, result, async run =>
        {
            int? listenPort = result.GetValue(port);
            if (listenPort is < 0 or > ushort.MaxValue)
            {
                throw DhtErrors.BadPort(listenPort.Value);
            }

            var mode = (result.GetValue(server), result.GetValue(client)) switch
            {
                (true, true) => throw DhtErrors.OneOf("--server", "--client"),
                (true, false) => DhtMode.Server,
                (false, true) => DhtMode.Client,
                _ => DhtMode.Adaptive,
            };
            var bindAddress = DhtArguments.BindAddress(result.GetValue(bind), run.Bootstrap);
            double? stopAfter = result.GetValue(duration);
            if (stopAfter is { } seconds)
            {
                DhtArguments.RequirePositive("--duration", seconds);
            }

            double every = result.GetValue(interval);
            DhtArguments.RequirePositive("--log-interval", every);

            using var loggers = CreateLoggers(run.Json);
            var log = loggers.CreateLogger("Pkarr.Cli.Dht.Node");
            var options = new DhtOptions
            {
                Bootstrap = run.Bootstrap,
                Port = listenPort,
                BindAddress = bindAddress,
                Mode = mode,
                LoggerFactory = loggers,
            };
            var dht = await Mainline.Dht.CreateAsync(options, run.Interrupt).ConfigureAwait(false);
            try
            {
                await RunAsync(dht, log, run, stopAfter, TimeSpan.FromSeconds(every)).ConfigureAwait(false);
            }
            finally
            {
                await dht.DisposeAsync().ConfigureAwait(false);
                Log.Stopped(log);
            }

            return 0;
        }, interrupt));
        return command;
    }

    /// <summary>Joins, then logs the node's info every <paramref name="every"/> until Ctrl+C or the duration ends.</summary>
    private static async Task RunAsync(Mainline.Dht dht, ILogger log, DhtInvocation run, double? stopAfter, TimeSpan every)
    {
        using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(run.Interrupt);
        if (stopAfter is { } seconds)
        {
            lifetime.CancelAfter(TimeSpan.FromSeconds(seconds));
        }

        try
        {
            await LogInfoAsync(dht, log, lifetime.Token).ConfigureAwait(false);
            if (!await JoinAsync(dht, run.Timeout, lifetime.Token).ConfigureAwait(false))
            {
                Log.NoNodeAnswered(log, run.Timeout.TotalSeconds);
            }

            await LogInfoAsync(dht, log, lifetime.Token).ConfigureAwait(false);
            using var timer = new PeriodicTimer(every);
            while (await timer.WaitForNextTickAsync(lifetime.Token).ConfigureAwait(false))
            {
                await LogInfoAsync(dht, log, lifetime.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (lifetime.IsCancellationRequested)
        {
            // Ctrl+C or the end of --duration: a normal stop.
        }

        using var bound = new CancellationTokenSource(ShutdownBound);
        await LogInfoAsync(dht, log, bound.Token).ConfigureAwait(false);
        Log.Stopping(log, run.Interrupt.IsCancellationRequested ? "Ctrl+C or SIGTERM" : "duration ended");
    }

    /// <summary>True once a bootstrap lookup found a node; false when none answered within <paramref name="timeout"/>.</summary>
    private static async Task<bool> JoinAsync(Mainline.Dht dht, TimeSpan timeout, CancellationToken lifetime)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(lifetime);
        deadline.CancelAfter(timeout);
        try
        {
            return await dht.BootstrappedAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!lifetime.IsCancellationRequested)
        {
            return false;
        }
    }

    private static async Task LogInfoAsync(Mainline.Dht dht, ILogger log, CancellationToken cancellationToken)
    {
        var info = await dht.GetInfoAsync(cancellationToken).ConfigureAwait(false);
        Log.Info(log, info.Id, info.LocalEndPoint, info.PublicEndPoint?.ToString() ?? "unknown", info.Firewalled, info.ServerMode,
            info.SizeEstimate, info.SizeEstimateStdDev, info.RoutingTableSize);
    }

    private static ILoggerFactory CreateLoggers(bool json) => LoggerFactory.Create(builder =>
    {
        builder.SetMinimumLevel(LogLevel.Information);
        if (json)
        {
            builder.AddJsonConsole(o =>
            {
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
                o.JsonWriterOptions = CliJson.WriterOptions;
            });
        }
        else
        {
            builder.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss'Z' ";
            });
        }
    });

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "DHT node {Id}: local {LocalEndPoint}, public {PublicEndPoint}, firewalled {Firewalled}, "
            + "server mode {ServerMode}, about {SizeEstimate} nodes in the DHT (relative deviation {SizeEstimateStdDev:F2}), "
            + "{RoutingTableSize} nodes in the routing table")]
        public static partial void Info(ILogger logger, NodeId id, IPEndPoint localEndPoint, string publicEndPoint, bool firewalled,
            bool serverMode, long sizeEstimate, double sizeEstimateStdDev, int routingTableSize);

        [LoggerMessage(2, LogLevel.Warning, "No DHT node answered within {TimeoutSeconds} s: check --bootstrap or your network; still listening")]
        public static partial void NoNodeAnswered(ILogger logger, double timeoutSeconds);

        [LoggerMessage(3, LogLevel.Information, "DHT node stopping ({Reason})")]
        public static partial void Stopping(ILogger logger, string reason);

        [LoggerMessage(4, LogLevel.Information, "DHT node stopped")]
        public static partial void Stopped(ILogger logger);
    }
}
