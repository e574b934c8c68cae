// A real redis-server for the Redis store tests, started once for the collection on a free loopback port, with
// persistence off, and killed at the end. Each test keeps its keys under a prefix of its own.

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Pkarr.Relay.Tests.Storage;

public sealed class RedisServerFixture : IAsyncLifetime
{
    private Process? _process;

    public int Port { get; private set; }

    /// <summary>The server as a redis:// URL.</summary>
    public string Url => $"redis://127.0.0.1:{Port}/0";

    /// <summary>A key prefix no other test uses.</summary>
    public static string NewPrefix() => "test-" + Guid.NewGuid().ToString("N") + ":";

    public async Task InitializeAsync()
    {
        string executable = Find("redis-server")
            ?? throw new InvalidOperationException(
                "redis-server is not installed: the Redis store tests start their own server. Run scripts/setup.sh " +
                "(it installs Debian's redis-server) or `apt-get install redis-server`.");

        // A port found free may be taken before the server binds it: a few tries, each with a new port.
        string? lastOutput = null;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            int port = FreePort();
            var start = new ProcessStartInfo(executable)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (string argument in new[] { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no" })
            {
                start.ArgumentList.Add(argument);
            }

            var process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start");
            var output = new System.Text.StringBuilder();
            process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
            process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();

            if (await AcceptsAsync(port, process))
            {
                _process = process;
                Port = port;
                return;
            }

            Stop(process);
            lock (output)
            {
                lastOutput = output.ToString();
            }
        }

        throw new InvalidOperationException("redis-server did not accept connections on 127.0.0.1 after 3 tries:\n" + lastOutput);
    }

    public Task DisposeAsync()
    {
        if (_process is not null)
        {
            Stop(_process);
        }

        return Task.CompletedTask;
    }

    private static void Stop(Process process)
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

        process.Dispose();
    }

    // Polls the port for up to 10 s; false as soon as the process exits (the port was taken).
    private static async Task<bool> AcceptsAsync(int port, Process process)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (process.HasExited)
            {
                return false;
            }

            using var client = new TcpClient();
            try
            {
                await client.ConnectAsync(IPAddress.Loopback, port);
                return true;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        return false;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? Find(string name)
    {
        foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator).Append("/usr/bin").Append("/usr/sbin"))
        {
            string candidate = Path.Combine(directory, name);
            if (directory.Length > 0 && File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}

[CollectionDefinition(Name)]
public sealed class RedisCollection : ICollectionFixture<RedisServerFixture>
{
    public const string Name = "redis-server";
}
