// Runs the npm `pkarr` package (tests/Interop/js/pkarr-peer.mjs) and returns its JSON. Installs the pinned
// npm packages into the ignored tests/Interop/js/node_modules when they are missing. The peer itself only talks to
// 127/8: the relay and DHT modes bind 127.0.0.1 and refuse any other address.

using System.Diagnostics;
using System.Text.Json;

namespace Pkarr.Interop.Tests;

internal static class NodePeer
{
    private static readonly Lazy<string> JsDirectory = new(Install);

    internal static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Pkarr.slnx")))
                {
                    return dir.FullName;
                }
            }

            throw new InvalidOperationException("cannot find the repository root (Pkarr.slnx) above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>The directory of pkarr-peer.mjs, with the pinned npm packages installed.</summary>
    internal static string ScriptDirectory => JsDirectory.Value;

    /// <summary>Runs the peer script; returns its exit code and parsed JSON output.</summary>
    internal static (int Exit, JsonDocument Output) Run(params string[] args) =>
        RunAsync(TimeSpan.FromSeconds(60), args).GetAwaiter().GetResult();

    /// <summary>
    /// Runs the peer script without blocking a thread (the DHT modes talk to nodes in this process), killing it after
    /// <paramref name="timeout"/>; returns its exit code and parsed JSON output.
    /// </summary>
    internal static async Task<(int Exit, JsonDocument Output)> RunAsync(TimeSpan timeout, params string[] args)
    {
        string dir = JsDirectory.Value;
        var start = new ProcessStartInfo("node") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("pkarr-peer.mjs");
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        var (exit, stdout, stderr) = await ExecuteAsync(start, timeout).ConfigureAwait(false);
        if (string.IsNullOrWhiteSpace(stdout))
        {
            throw new InvalidOperationException($"pkarr-peer.mjs printed nothing (exit {exit}): {stderr}");
        }

        return (exit, JsonDocument.Parse(stdout));
    }

    private static string Install()
    {
        string dir = Path.Combine(RepositoryRoot, "tests", "Interop", "js");
        if (!File.Exists(Path.Combine(dir, "node_modules", "pkarr", "package.json")))
        {
            var npm = new ProcessStartInfo("npm") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string arg in new[] { "ci", "--no-audit", "--no-fund", "--loglevel=error" })
            {
                npm.ArgumentList.Add(arg);
            }

            var (exit, _, stderr) = ExecuteAsync(npm, TimeSpan.FromMinutes(5)).GetAwaiter().GetResult();
            if (exit != 0)
            {
                throw new InvalidOperationException($"npm ci in {dir} failed ({exit}); install Node.js 20 and npm, then run scripts/setup.sh: {stderr}");
            }
        }

        return dir;
    }

    private static async Task<(int Exit, string Stdout, string Stderr)> ExecuteAsync(ProcessStartInfo start, TimeSpan timeout)
    {
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {start.FileName}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var expiry = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(expiry.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{start.FileName} {string.Join(' ', start.ArgumentList)} did not finish within {timeout}");
        }

        return (process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }
}
