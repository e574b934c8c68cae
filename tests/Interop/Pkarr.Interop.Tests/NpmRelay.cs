// The npm `pkarr` 1.3.0 HTTP relay (its lib/relay.js, unmodified) as a child process: `pkarr-peer.mjs relay` on
// 127.0.0.1 with an OS-chosen port, its DHT node bootstrapped from an in-process Mainline testnet only. Stopped
// by SIGTERM through its process id, then killed if it lingers.

using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;
using Mainline;

namespace Pkarr.Interop.Tests;

internal sealed class NpmRelay : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _stdout = Channel.CreateUnbounded<string>();
    private readonly List<string> _stderr = [];

    private NpmRelay(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _stdout.Writer.TryComplete();
            }
            else
            {
                _stdout.Writer.TryWrite(e.Data);
            }
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_stderr)
                {
                    _stderr.Add(e.Data);
                }
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The relay's base URL, http://127.0.0.1:port.</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>The last lines the relay wrote to stderr (it logs each request there).</summary>
    public string Log
    {
        get
        {
            lock (_stderr)
            {
                return string.Join('\n', _stderr.TakeLast(40));
            }
        }
    }

    /// <summary>Starts the relay over <paramref name="testnet"/> and waits for its ready line.</summary>
    public static async Task<NpmRelay> StartAsync(Testnet testnet, TimeSpan timeout)
    {
        var info = new ProcessStartInfo("node")
        {
            WorkingDirectory = NodePeer.ScriptDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string bootstrap = string.Join(",", testnet.Bootstrap.Select(e => e.ToString()));
        foreach (string arg in new[] { "pkarr-peer.mjs", "relay", "--port", "0", "--bootstrap", bootstrap, "--duration-s", "300" })
        {
            info.ArgumentList.Add(arg);
        }

        var relay = new NpmRelay(Process.Start(info) ?? throw new InvalidOperationException("cannot start node"));
        try
        {
            using var cts = new CancellationTokenSource(timeout);
            while (true)
            {
                string line = await relay._stdout.Reader.ReadAsync(cts.Token);
                using var json = JsonDocument.Parse(line);
                if (json.RootElement.TryGetProperty("event", out var e) && e.GetString() == "ready")
                {
                    int port = json.RootElement.GetProperty("port").GetInt32();
                    relay.Url = new Uri($"http://127.0.0.1:{port}");
                    return relay;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException or JsonException)
        {
            string log = relay.Log;
            await relay.DisposeAsync();
            throw new TimeoutException($"the npm relay did not get ready within {timeout}: {ex.Message}\n{log}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // SIGTERM to this child only, by its id; it closes its server and DHT socket and exits.
            using (var term = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false }))
            {
                await (term?.WaitForExitAsync() ?? Task.CompletedTask);
            }

            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
    }
}
