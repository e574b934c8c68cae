// The Debian tools the proof tests drive (dig, kdig, curl, unbound, dnspython): found at their Debian paths, run with
// a deadline, their output captured. A missing tool fails the test with what to install: these tests are the issue's
// proof and must not pass by skipping.

using System.Diagnostics;
using System.Text;

namespace Pkarr.DnsServer.Tests.Tools;

/// <summary>What a finished tool run printed.</summary>
internal sealed record ToolResult(string Command, int ExitCode, string Output, string Error)
{
    /// <summary>Everything for an assertion message.</summary>
    public override string ToString() => $"$ {Command}\nexit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
}

internal static class ExternalTool
{
    public const string Dig = "/usr/bin/dig";
    public const string Kdig = "/usr/bin/kdig";
    public const string Curl = "/usr/bin/curl";
    public const string Unbound = "/usr/sbin/unbound";

    // Debian's interpreter, where python3-dnspython lives (a python3 earlier on PATH, e.g. pyenv's, may lack it).
    public const string Python = "/usr/bin/python3";

    /// <summary>The path of <paramref name="path"/>, which must exist; otherwise fails with what to install.</summary>
    public static string Require(string path, string package)
    {
        if (!File.Exists(path))
        {
            Assert.Fail($"{path} is missing: run scripts/setup.sh (it installs Debian's {package}), or `apt-get install {package}`.");
        }

        return path;
    }

    /// <summary>Debian's python3 with dnspython importable; otherwise fails with what to install.</summary>
    public static async Task<string> RequireDnspythonAsync()
    {
        Require(Python, "python3");
        var check = await RunAsync(Python, ["-c", "import dns.message, dns.query, dns.rdatatype"], TimeSpan.FromSeconds(20));
        if (check.ExitCode != 0)
        {
            Assert.Fail($"dnspython is not importable by {Python}: run scripts/setup.sh (it installs Debian's python3-dnspython).\n{check}");
        }

        return Python;
    }

    /// <summary>Runs <paramref name="file"/> to completion or kills it at <paramref name="timeout"/> (then fails).</summary>
    public static async Task<ToolResult> RunAsync(string file, IEnumerable<string> arguments, TimeSpan timeout, string? standardInput = null)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = standardInput is not null,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // The tools must not read the machine's resolver settings or a user's ~/.digrc into the test.
        start.Environment["HOME"] = Path.GetTempPath();
        string command = file + " " + string.Join(' ', start.ArgumentList.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"'{a}'" : a));

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (standardInput is not null)
        {
            await process.StandardInput.WriteAsync(standardInput);
            process.StandardInput.Close();
        }

        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            Assert.Fail($"{command} did not finish within {timeout.TotalSeconds} s\n--- stdout\n{await output}\n--- stderr\n{await error}");
        }

        return new ToolResult(command, process.ExitCode, await output, await error);
    }

    /// <summary>Kills a process and its children; quiet when it has already exited.</summary>
    public static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Exited between the check and the kill.
        }
    }

    /// <summary>Collects a started process's output lines (for the message when it fails to start).</summary>
    public static StringBuilder Capture(Process process)
    {
        var lines = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (lines) { lines.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (lines) { lines.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return lines;
    }
}
