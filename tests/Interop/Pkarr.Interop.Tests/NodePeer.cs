// Runs the npm `pkarr` package (tests/Interop/js/pkarr-peer.mjs) and returns its JSON. Installs the pinned
// npm packages into the ignored tests/Interop/js/node_modules when they are missing. No network is used by
// the peer itself: it only signs and verifies.

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
    internal static (int Exit, JsonDocument Output) Run(params string[] args)
    {
        string dir = JsDirectory.Value;
        var start = new ProcessStartInfo("node") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("pkarr-peer.mjs");
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        var (exit, stdout, stderr) = Execute(start, TimeSpan.FromSeconds(60));
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

            var (exit, _, stderr) = Execute(npm, TimeSpan.FromMinutes(5));
            if (exit != 0)
            {
                throw new InvalidOperationException($"npm ci in {dir} failed ({exit}); install Node.js 20 and npm, then run scripts/setup.sh: {stderr}");
            }
        }

        return dir;
    }

    private static (int Exit, string Stdout, string Stderr) Execute(ProcessStartInfo start, TimeSpan timeout)
    {
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {start.FileName}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{start.FileName} did not finish within {timeout}");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
