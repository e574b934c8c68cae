using Mainline;

namespace Pkarr.Cli.Tests.Dht;

/// <summary>Runs <c>pkarr</c> in-process with captured output, every run bounded.</summary>
internal static class DhtCli
{
    /// <summary>Longer than any --timeout the tests pass, so a hang fails the test instead of the run.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    internal sealed record Run(int Exit, string Out, string Error)
    {
        public string[] Lines => Out.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    internal static async Task<Run> RunPkarr(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var console = new CliConsole(stdout, stderr, () => new MemoryStream(), () => new MemoryStream());
        int exit = await PkarrCommand.RunAsync(args, console).WaitAsync(Bound);
        return new Run(exit, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Asserts exit 1 with exactly one <c>error:</c> line containing <paramref name="reason"/>.</summary>
    internal static void AssertOneLineError(Run run, string reason)
    {
        Assert.Equal(1, run.Exit);
        Assert.Equal("", run.Out);
        string error = run.Error.TrimEnd('\n');
        Assert.DoesNotContain('\n', error);
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }
}

/// <summary>Ten server nodes on 127.0.0.1, shared by the tests of a class.</summary>
public sealed class TestnetFixture : IAsyncLifetime
{
    public Testnet Testnet { get; private set; } = null!;

    /// <summary>One node of the testnet, as the CLI's --bootstrap value.</summary>
    public string Bootstrap => Testnet.Bootstrap[0].ToString();

    public async Task InitializeAsync() => Testnet = await Testnet.CreateAsync(10).WaitAsync(TimeSpan.FromSeconds(30));

    public async Task DisposeAsync() => await Testnet.DisposeAsync();
}
