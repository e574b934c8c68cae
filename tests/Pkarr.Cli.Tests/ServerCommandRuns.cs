namespace Pkarr.Cli.Tests;

/// <summary>Running a long-lived command (relay, dns) in-process: to its end, or reading what it printed so far.</summary>
internal static class ServerCommandRuns
{
    internal static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    internal sealed record Run(int Exit, string Out, string Error);

    /// <summary>Runs a command line to its end (at most <see cref="Bound"/>) and returns its exit code and output.</summary>
    internal static async Task<Run> RunToEnd(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var console = new CliConsole(stdout, stderr, () => new MemoryStream(), () => new MemoryStream());
        using var timeout = new CancellationTokenSource(Bound);
        int exit = await PkarrCommand.RunAsync(args, console, timeout.Token).WaitAsync(Bound);
        return new Run(exit, stdout.ToString(), stderr.ToString());
    }

    // The synchronized writer locks itself around every write; reading under the same lock sees whole writes.
    internal static string Read(TextWriter synchronized, StringWriter inner)
    {
        lock (synchronized)
        {
            return inner.ToString();
        }
    }
}
