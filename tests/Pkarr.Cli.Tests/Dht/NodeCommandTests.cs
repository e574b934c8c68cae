using System.Text.Json;
using Mainline;
using static Pkarr.Cli.Tests.Dht.DhtCli;

namespace Pkarr.Cli.Tests.Dht;

/// <summary>The node logs through the real console logger, which writes to <see cref="Console.Out"/>: these tests
/// redirect it, so they run alone.</summary>
[CollectionDefinition(nameof(ConsoleOutput), DisableParallelization = true)]
public sealed class ConsoleOutput;

[Collection(nameof(ConsoleOutput))]
public sealed class NodeCommandTests
{
    /// <summary>Runs pkarr with <see cref="Console.Out"/> captured; the logger factory is disposed (and flushed) by then.</summary>
    private static async Task<(Run Run, string Log)> RunWithConsole(params string[] args)
    {
        var original = Console.Out;
        var log = new StringWriter();
        Console.SetOut(log);
        try
        {
            var run = await RunPkarr(args);
            return (run, log.ToString());
        }
        finally
        {
            Console.SetOut(original);
        }
    }

    [Fact]
    public async Task Node_runs_for_its_duration_logs_its_info_and_stops()
    {
        await using var testnet = await Testnet.CreateAsync(5).WaitAsync(TimeSpan.FromSeconds(30));
        var started = DateTime.UtcNow;
        var (run, log) = await RunWithConsole("dht", "node", "--duration", "2", "--port", "0", "--server",
            "--bootstrap", testnet.Bootstrap[0].ToString(), "--timeout", "5");
        var elapsed = DateTime.UtcNow - started;

        Assert.Equal(0, run.Exit);
        Assert.Equal("", run.Error);
        Assert.InRange(elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(15));
        Assert.Contains("listening on 127.0.0.1:", log, StringComparison.Ordinal);
        Assert.Contains("server mode True", log, StringComparison.Ordinal);
        Assert.Matches(@"DHT node [0-9a-f]{40}: local 127\.0\.0\.1:\d+, public \S+, firewalled (True|False)", log);
        Assert.Matches(@"[1-9]\d* nodes in the routing table", log);
        Assert.Contains("DHT node stopping (duration ended)", log, StringComparison.Ordinal);
        Assert.EndsWith("DHT node stopped", log.TrimEnd(), StringComparison.Ordinal);
        Assert.DoesNotContain("No DHT node answered", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Node_json_logs_carry_the_info_as_structured_state()
    {
        await using var testnet = await Testnet.CreateAsync(5).WaitAsync(TimeSpan.FromSeconds(30));
        var (run, log) = await RunWithConsole("dht", "node", "--duration", "1", "--port", "0", "--client", "--json",
            "--bootstrap", testnet.Bootstrap[0].ToString(), "--timeout", "5");

        Assert.Equal(0, run.Exit);
        var events = log.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement).ToList();
        var infos = events.Where(e => e.GetProperty("Category").GetString() == "Pkarr.Cli.Dht.Node" && e.GetProperty("EventId").GetInt32() == 1).ToList();
        Assert.True(infos.Count >= 2, log);
        var last = infos[^1].GetProperty("State");
        Assert.Equal(40, last.GetProperty("Id").GetString()!.Length);
        Assert.StartsWith("127.0.0.1:", last.GetProperty("LocalEndPoint").GetString(), StringComparison.Ordinal);
        Assert.False(last.GetProperty("ServerMode").GetBoolean());
        Assert.Contains(last.GetProperty("Firewalled").ValueKind, new[] { JsonValueKind.True, JsonValueKind.False });
        Assert.Equal(JsonValueKind.Number, last.GetProperty("SizeEstimate").ValueKind);
        Assert.True(last.GetProperty("RoutingTableSize").GetInt32() >= 1, log);
    }

    [Fact]
    public async Task Node_without_answers_warns_and_keeps_running()
    {
        var (run, log) = await RunWithConsole("dht", "node", "--duration", "2", "--port", "0", "--bootstrap", "127.0.0.1:9", "--timeout", "0.5");
        Assert.Equal(0, run.Exit);
        Assert.Contains("No DHT node answered within 0.5 s: check --bootstrap or your network; still listening", log, StringComparison.Ordinal);
        Assert.Contains("0 nodes in the routing table", log, StringComparison.Ordinal);
        Assert.Contains("DHT node stopped", log, StringComparison.Ordinal);
    }
}
