using System.CommandLine;
using System.Text.Json;
using Mainline;

namespace Pkarr.Cli.Commands;

/// <summary>
/// <c>pkarr testnet</c>: a private Mainline DHT of N nodes on 127.0.0.1 in this process, for offline use and
/// tests. It prints the bootstrap list for <c>--bootstrap</c>, then runs until Ctrl+C or <c>--duration</c>.
/// </summary>
internal static class TestnetCommand
{
    /// <summary>Enough nodes for a put to reach a full store set (k = 20) with room to spare.</summary>
    internal const int DefaultNodes = 30;

    internal const int MaxNodes = 1000;

    internal static Command Create(CliConsole console)
    {
        var nodes = new Option<int>("--nodes", "-n")
        {
            Description = $"How many nodes to run (1 to {MaxNodes}).",
            DefaultValueFactory = _ => DefaultNodes,
        };
        var duration = new Option<double?>("--duration")
        {
            Description = "Stop after this many seconds (default: run until Ctrl+C).",
            HelpName = "SECONDS",
        };
        var json = new Option<bool>("--json") { Description = "Print the bootstrap list as one JSON object." };

        var command = new Command("testnet", "Run a private DHT of N nodes on 127.0.0.1 and print its bootstrap list (for --bootstrap).")
        {
            nodes,
            duration,
            json,
        };
        command.SetAction(async (result, interrupt) =>
        {
            int count = result.GetValue(nodes);
            if (count is < 1 or > MaxNodes)
            {
                console.Fail($"--nodes must be between 1 and {MaxNodes}, not {count}");
                return 1;
            }

            if (result.GetValue(duration) is double seconds && !(seconds > 0))
            {
                console.Fail("--duration must be a positive number of seconds");
                return 1;
            }

            await using var testnet = await Testnet.CreateAsync(count, cancellationToken: interrupt);
            if (result.GetValue(json))
            {
                console.Out.WriteLine(JsonSerializer.Serialize(new { nodes = count, bootstrap = testnet.Bootstrap.Select(b => b.ToString()) }, CliJson.Options));
            }
            else
            {
                console.Out.WriteLine($"testnet of {count} nodes on 127.0.0.1; use:");
                console.Out.WriteLine(string.Join(' ', testnet.Bootstrap.Take(3).Select(b => $"--bootstrap {b}")));
            }

            console.Out.Flush();
            try
            {
                var stop = result.GetValue(duration) is double runFor ? TimeSpan.FromSeconds(runFor) : Timeout.InfiniteTimeSpan;
                await Task.Delay(stop, interrupt);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C: shut the nodes down cleanly below.
            }

            console.Error.WriteLine("testnet stopped");
            return 0;
        });
        return command;
    }
}
