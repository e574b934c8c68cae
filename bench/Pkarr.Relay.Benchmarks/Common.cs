// Helpers of the relay benchmarks: arguments, wrk as a child process, the Kestrel hello-world (the ceiling), the npm
// pkarr relay (the peer), the relay itself, process memory and file sizes. Everything binds to 127.0.0.1.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Pkarr.Relay.Benchmarks;

internal sealed class Args(string[] args)
{
    public int Int(string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    public string Str(string name, string fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }

    public bool Flag(string name) => args.Contains(name);
}

internal static class Paths
{
    public static string Root { get; } = FindRoot();

    public static string Lua(string name) => Path.Combine(Root, "bench", "relay", name);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Pkarr.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("repository root (Pkarr.slnx) not found");
    }
}

/// <summary>One wrk run's summary, as printed by the done() of bench/relay/*.lua.</summary>
internal sealed record WrkResult(long Requests, double Rps, long P50Us, long P90Us, long P99Us, long MaxUs, long StatusErrors, long SocketErrors, long Wrapped, long Stored = -1, long Other = -1)
{
    public string Row => string.Create(CultureInfo.InvariantCulture,
        $"{Rps,10:F0} req/s  p50 {P50Us / 1000.0,7:F3} ms  p90 {P90Us / 1000.0,7:F3} ms  p99 {P99Us / 1000.0,7:F3} ms  max {MaxUs / 1000.0,8:F2} ms  n={Requests}  non-2xx/3xx={StatusErrors}  socket errors={SocketErrors}");
}

internal static class Wrk
{
    /// <summary>Runs <c>wrk --latency</c> with a Lua script against a loopback URL and returns its summary line.</summary>
    public static async Task<WrkResult> RunAsync(Uri url, int threads, int connections, int seconds, string script, params string[] scriptArgs)
    {
        if (!IPAddress.IsLoopback(IPAddress.Parse(url.Host)))
        {
            throw new InvalidOperationException($"refusing non-loopback URL {url}");
        }

        var start = new ProcessStartInfo("wrk") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-t", threads.ToString(CultureInfo.InvariantCulture), "-c", connections.ToString(CultureInfo.InvariantCulture),
            "-d", seconds.ToString(CultureInfo.InvariantCulture) + "s", "--timeout", "10s", "-s", Paths.Lua(script), url.ToString().TrimEnd('/'), "--" })
        {
            start.ArgumentList.Add(a);
        }

        foreach (var a in scriptArgs)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start wrk (run bench/relay/setup.sh)");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var expiry = new CancellationTokenSource(TimeSpan.FromSeconds(seconds + 120));
        try
        {
            await process.WaitForExitAsync(expiry.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("wrk did not finish in time");
        }

        string output = await stdout;
        string? line = output.Split('\n').LastOrDefault(l => l.StartsWith("{\"wrk\"", StringComparison.Ordinal));
        if (line is null)
        {
            throw new InvalidOperationException($"wrk printed no summary (exit {process.ExitCode}):\n{output}\n{await stderr}");
        }

        var j = JsonDocument.Parse(line).RootElement;
        var e = j.GetProperty("errors");
        return new WrkResult(
            j.GetProperty("requests").GetInt64(), j.GetProperty("rps").GetDouble(),
            j.GetProperty("p50_us").GetInt64(), j.GetProperty("p90_us").GetInt64(), j.GetProperty("p99_us").GetInt64(), j.GetProperty("max_us").GetInt64(),
            e.GetProperty("status").GetInt64(),
            e.GetProperty("connect").GetInt64() + e.GetProperty("read").GetInt64() + e.GetProperty("write").GetInt64() + e.GetProperty("timeout").GetInt64(),
            j.TryGetProperty("wrapped", out var w) ? w.GetInt64() : 0,
            j.TryGetProperty("stored", out var st) ? st.GetInt64() : -1,
            j.TryGetProperty("other", out var o) ? o.GetInt64() : -1);
    }
}

/// <summary>
/// The ceiling: a Kestrel app with the relay's Kestrel settings (RelayServer.Build: the slim builder, no providers of
/// logs, no Server header, the 1104-byte body limit, one loopback listener, routing) whose route <c>/{key}</c>
/// answers a constant "Hello, World!", so that the wrk script and the routing are the relay's own.
/// </summary>
internal sealed class HelloWorld : IAsyncDisposable
{
    private readonly WebApplication _app;

    private HelloWorld(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
    }

    public Uri Url { get; }

    public static async Task<HelloWorld> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "hello", ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 1104;
            kestrel.Listen(IPAddress.Loopback, 0);
        });
        builder.Services.AddRouting();
        var app = builder.Build();
        app.MapGet("/{key}", (string key) => Results.Text("Hello, World!"));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new HelloWorld(app, new Uri(address + "/"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>The npm pkarr 1.3.0 relay (lib/relay.js, unmodified) run by tests/Interop/js/pkarr-peer.mjs on 127.0.0.1,
/// its DHT node bootstrapped from loopback nodes only. Killed by its process id.</summary>
internal sealed class NpmRelay : IAsyncDisposable
{
    private readonly Process _process;

    private NpmRelay(Process process, Uri url, string dht)
    {
        _process = process;
        Url = url;
        DhtEndPoint = dht;
    }

    public Uri Url { get; }

    public string DhtEndPoint { get; }

    public int ProcessId => _process.Id;

    public static async Task<NpmRelay> StartAsync(IEnumerable<IPEndPoint> bootstrap)
    {
        string dir = Path.Combine(Paths.Root, "tests", "Interop", "js");
        if (!File.Exists(Path.Combine(dir, "node_modules", "pkarr", "package.json")))
        {
            throw new InvalidOperationException("npm pkarr is not installed: run scripts/setup.sh");
        }

        var start = new ProcessStartInfo("node") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "pkarr-peer.mjs", "relay", "--port", "0", "--bootstrap", string.Join(',', bootstrap.Select(e => e.ToString())), "--duration-s", "3600" })
        {
            start.ArgumentList.Add(a);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start node");
        // lib/relay.js logs every request (console.log, which pkarr-peer.mjs sends to stderr): read and drop it, so the
        // pipe never fills.
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        using var expiry = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await process.StandardOutput.ReadLineAsync(expiry.Token) is { } line)
        {
            if (line.Contains("\"ready\"", StringComparison.Ordinal))
            {
                var j = JsonDocument.Parse(line).RootElement;
                return new NpmRelay(process, new Uri($"http://127.0.0.1:{j.GetProperty("port").GetInt32()}/"), j.GetProperty("dht").GetString()!);
            }
        }

        process.Kill(entireProcessTree: true);
        throw new InvalidOperationException("the npm relay did not start");
    }

    /// <summary>The resident set of the node process, in MiB.</summary>
    public double RssMiB() => Memory.RssMiB(_process.Id);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _process.WaitForExitAsync(wait.Token);
        }

        _process.Dispose();
    }
}

internal static class Memory
{
    /// <summary>VmRSS of a process (this one by default) in MiB; NaN when unavailable.</summary>
    public static double RssMiB(int? pid = null)
    {
        string file = pid is { } p ? $"/proc/{p}/status" : "/proc/self/status";
        foreach (var line in File.ReadLines(file))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
            }
        }

        return double.NaN;
    }

    /// <summary>The bytes of a SQLite database with its -wal and -shm files.</summary>
    public static long SqliteBytes(string db) =>
        new[] { db, db + "-wal", db + "-shm" }.Where(File.Exists).Sum(f => new FileInfo(f).Length);
}

internal static class Relays
{
    /// <summary>A relay as the benchmarks run it: the in-process testnet behind it, HTTP on 127.0.0.1 (an OS-chosen
    /// port), no rate limits, no republisher, the store in <paramref name="storeDirectory"/> (null: ephemeral).</summary>
    public static Task<RelayServer> StartAsync(string? storeDirectory, int size, int? hotSize = null)
    {
        var options = RelayOptions.ForTestnet();
        options.Http.Port = 0;
        options.RateLimiter = null;
        options.Republisher.Enabled = false;
        options.Cache.Path = storeDirectory;
        options.Cache.Size = size;
        if (hotSize is { } hot)
        {
            options.Cache.HotSize = hot;
        }

        return RelayServer.StartAsync(options);
    }
}

internal static class Text
{
    public static string F(double v, int decimals = 1) => v.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
