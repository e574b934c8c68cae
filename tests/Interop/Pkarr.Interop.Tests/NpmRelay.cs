// The npm `pkarr` 1.3.0 HTTP relay (its lib/relay.js, unmodified) as a child process: `pkarr-peer.mjs relay` on
// 127.0.0.1 with an OS-chosen port, its DHT node bootstrapped from an in-process Mainline testnet only. Stopped
// with SIGTERM by its process id, then killed if it lingers.

using Mainline;
using Mainline.Tests.Interop;

namespace Pkarr.Interop.Tests;

internal sealed class NpmRelay : IAsyncDisposable
{
    private readonly PeerProcess _process;

    private NpmRelay(PeerProcess process, Uri url)
    {
        _process = process;
        Url = url;
    }

    /// <summary>The relay's base URL, http://127.0.0.1:port.</summary>
    public Uri Url { get; }

    /// <summary>The last lines the relay wrote to stderr (it logs each request there).</summary>
    public string Log => _process.Stderr;

    /// <summary>Starts the relay over <paramref name="testnet"/> and waits for its ready line.</summary>
    public static async Task<NpmRelay> StartAsync(Testnet testnet, TimeSpan timeout)
    {
        string bootstrap = string.Join(",", testnet.Bootstrap.Select(e => e.ToString()));
        var process = PeerProcess.Start(
            "node",
            ["pkarr-peer.mjs", "relay", "--port", "0", "--bootstrap", bootstrap, "--duration-s", "300"],
            NodePeer.ScriptDirectory);
        try
        {
            var ready = await process.WaitForEventAsync("ready", timeout);
            return new NpmRelay(process, new Uri($"http://127.0.0.1:{ready.GetProperty("port").GetInt32()}"));
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _process.Signal("TERM");
        try
        {
            await _process.WaitForEventAsync("stopped", TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
            // Already gone, or stuck: disposing kills it.
        }

        await _process.DisposeAsync();
    }
}
