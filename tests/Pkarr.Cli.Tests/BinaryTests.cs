using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Pkarr.Cli.Tests;

/// <summary>
/// The built <c>pkarr</c> executable run as a user runs it: a separate process, real standard streams, real exit
/// codes. In-process tests cannot see what the runtime prints for an exception nobody caught, nor how the process
/// ends; these can. Every process is bounded in time and killed when it overruns.
/// </summary>
public sealed class BinaryTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateTempSubdirectory("pkarr-bin-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal sealed record Exited(int Code, string Out, string Error);

    /// <summary>The apphost the test project copies next to itself from its reference to the CLI project.</summary>
    private static string Executable
    {
        get
        {
            string path = Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "Pkarr.Cli.exe" : "Pkarr.Cli");
            Assert.True(File.Exists(path), $"the pkarr executable is missing at {path}");
            return path;
        }
    }

    private static ProcessStartInfo StartInfo(IEnumerable<string> args)
    {
        var info = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // No colour or terminal-width effects from the environment the suite happens to run in.
        info.Environment["NO_COLOR"] = "1";
        info.Environment["DOTNET_CLI_UI_LANGUAGE"] = "en";
        return info;
    }

    internal static async Task<Exited> Pkarr(params string[] args)
    {
        using var process = Process.Start(StartInfo(args))!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Bound);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"pkarr {string.Join(' ', args)} did not exit within {Bound.TotalSeconds} s");
        }

        return new Exited(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>What every failing command must look like: exit 1, nothing on stdout, one <c>error:</c> line naming
    /// the problem, and nothing of the runtime's (no stack trace, no "Unhandled exception").</summary>
    private static void AssertOneLineError(Exited run, params string[] mentions) => AssertOneLineError(run, 1, mentions);

    /// <summary>As <see cref="AssertOneLineError(Exited, string[])"/>, with exit code <paramref name="code"/>.</summary>
    private static void AssertOneLineError(Exited run, int code, params string[] mentions)
    {
        Assert.True(run.Code == code, $"exit code {run.Code}, expected {code}, stderr: {run.Error}");
        Assert.Equal("", run.Out);
        string error = run.Error.TrimEnd('\n', '\r');
        Assert.False(error.Contains('\n', StringComparison.Ordinal), $"more than one line on stderr:\n{run.Error}");
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled", run.Error, StringComparison.OrdinalIgnoreCase);
        foreach (string mention in mentions)
        {
            Assert.Contains(mention, error, StringComparison.Ordinal);
        }
    }

    private string Write(string name, string content)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    private async Task<(string File, string Key)> Keygen()
    {
        string file = Path.Combine(_dir, $"{Guid.NewGuid():N}.key");
        var run = await Pkarr("keygen", "--out", file);
        Assert.Equal(0, run.Code);
        Assert.Contains(file, run.Error, StringComparison.Ordinal);
        string key = run.Out.Trim();
        Assert.Equal(52, key.Length);
        return (file, key);
    }

    [Fact]
    public async Task A_missing_secret_file_is_one_line_naming_the_file()
    {
        string missing = Path.Combine(_dir, "nowhere.key");
        AssertOneLineError(await Pkarr("pubkey", "--secret", missing), "nowhere.key");
    }

    [Fact]
    public async Task A_secret_file_with_the_wrong_content_is_one_line()
    {
        string bad = Write("bad.key", "not hex at all\n");
        AssertOneLineError(await Pkarr("pubkey", "--secret", bad), "bad.key");
    }

    [Fact]
    public async Task A_zone_file_with_an_error_is_one_line_naming_the_line()
    {
        var (secret, _) = await Keygen();
        string zone = Write("bad.zone", "$TTL 300\n@ IN A 192.0.2.1\nwww IN A 999.1.2.3\n");
        AssertOneLineError(await Pkarr("sign", "--secret", secret, "--zone", zone), "line 3", "999.1.2.3");
    }

    [Fact]
    public async Task A_missing_zone_file_is_one_line()
    {
        var (secret, _) = await Keygen();
        AssertOneLineError(await Pkarr("sign", "--secret", secret, "--zone", Path.Combine(_dir, "absent.zone")), "absent.zone");
    }

    [Fact]
    public async Task Inspecting_bytes_that_are_not_a_packet_is_one_line()
    {
        AssertOneLineError(await Pkarr("inspect", "00ff"), "104 bytes");
        var (_, key) = await Keygen();
        AssertOneLineError(await Pkarr("inspect", new string('a', 200), "--key", key), "signature");
    }

    [Fact]
    public async Task A_bad_public_key_for_a_dht_get_is_one_line()
    {
        AssertOneLineError(await Pkarr("dht", "get-mutable", "not-a-key", "--bootstrap", "127.0.0.1:9", "--timeout", "1"), "not-a-key");
    }

    [Fact]
    public async Task A_bad_bootstrap_endpoint_is_one_line_naming_it()
    {
        var (secret, _) = await Keygen();
        AssertOneLineError(
            await Pkarr("dht", "put-mutable", "--secret", secret, "--value-hex", "00", "--bootstrap", "no-port-here"),
            "no-port-here");
    }

    [Fact]
    public async Task An_unknown_command_fails_without_a_stack_trace()
    {
        var run = await Pkarr("frobnicate");
        Assert.NotEqual(0, run.Code);
        Assert.Contains("frobnicate", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Testnet_refuses_a_node_count_out_of_range()
    {
        AssertOneLineError(await Pkarr("testnet", "--nodes", "0"), "--nodes");
    }

    [Fact]
    public async Task Publish_with_a_missing_secret_file_or_a_bad_zone_is_one_line()
    {
        string zone = Write("ok.zone", "@ IN A 192.0.2.1\n");
        string[] offline = ["--bootstrap", "127.0.0.1:9", "--no-relays", "--cache-dir", Path.Combine(_dir, "cache"), "--timeout", "5"];
        AssertOneLineError(await Pkarr(["publish", "--secret", Path.Combine(_dir, "nowhere.key"), "--zone", zone, .. offline]), "nowhere.key");
        var (secret, _) = await Keygen();
        string bad = Write("bad.zone", "@ IN A 192.0.2.1\nwww IN A 999.1.2.3\n");
        AssertOneLineError(await Pkarr(["publish", "--secret", secret, "--zone", bad, .. offline]), "line 2", "999.1.2.3");
    }

    [Fact]
    public async Task Resolve_with_a_bad_key_or_an_unknown_policy_is_one_line()
    {
        string[] offline = ["--bootstrap", "127.0.0.1:9", "--no-relays", "--cache-dir", Path.Combine(_dir, "cache"), "--timeout", "5"];
        AssertOneLineError(await Pkarr(["resolve", "not-a-key", .. offline]), "not-a-key");
        var (_, key) = await Keygen();
        AssertOneLineError(await Pkarr(["resolve", key, "--policy", "sometimes", .. offline]), "--policy 'sometimes'");
    }

    [Fact]
    public async Task Help_lists_the_exit_codes()
    {
        var run = await Pkarr("resolve", "--help");
        Assert.Equal(0, run.Code);
        Assert.Contains("--policy <cache-only|cache-first|network-only>", run.Out, StringComparison.Ordinal);
        Assert.Contains("Exit codes:", run.Out, StringComparison.Ordinal);
        Assert.Contains("3    not found", run.Out, StringComparison.Ordinal);
        Assert.Contains("Exit codes:", (await Pkarr("--help")).Out, StringComparison.Ordinal);
    }

    /// <summary>
    /// The README's main job through the binary: publish to a testnet (in this process; the binary reaches it over
    /// loopback), resolve it from another cache directory, then cache-only finds it in that directory in a new
    /// process and not in an empty one (exit 3). Stderr stays empty on success: it is not a terminal here.
    /// </summary>
    [Fact]
    public async Task Publish_then_resolve_over_a_testnet_and_cache_only_across_processes()
    {
        await using var testnet = await Mainline.Testnet.CreateAsync(10).WaitAsync(Bound);
        string[] Offline(string cache) =>
            ["--bootstrap", testnet.Bootstrap[0].ToString(), "--no-relays", "--cache-dir", Path.Combine(_dir, cache), "--timeout", "30"];
        var (secret, key) = await Keygen();
        string zone = Write("me.zone", "$TTL 300\n@ IN A 192.0.2.10\n_hi IN TXT \"hello\"\n");

        var publish = await Pkarr(["publish", "--secret", secret, "--zone", zone, "--json", .. Offline("publisher")]);
        Assert.True(publish.Code == 0, publish.Error);
        Assert.Equal("", publish.Error);
        using (var published = JsonDocument.Parse(publish.Out))
        {
            Assert.True(published.RootElement.GetProperty("published").GetBoolean());
            Assert.True(published.RootElement.GetProperty("dht").GetProperty("stored_on").GetInt32() >= 1);
        }

        var resolve = await Pkarr(["resolve", key, "--policy", "network-only", .. Offline("reader")]);
        Assert.True(resolve.Code == 0, resolve.Error);
        Assert.Equal("", resolve.Error);
        Assert.EndsWith("@ 300 IN A 192.0.2.10\n_hi 300 IN TXT \"hello\"\n", resolve.Out, StringComparison.Ordinal);

        var cached = await Pkarr(["resolve", "pk:" + key, "--policy", "cache-only", "--json", .. Offline("reader")]);
        Assert.True(cached.Code == 0, cached.Error);
        using (var packet = JsonDocument.Parse(cached.Out))
        {
            Assert.Equal(key, packet.RootElement.GetProperty("public_key").GetString());
            Assert.Equal(2, packet.RootElement.GetProperty("records").GetArrayLength());
        }

        AssertOneLineError(await Pkarr(["resolve", key, "--policy", "cache-only", .. Offline("empty")]), 3, "no packet for", "in the cache");
    }

    /// <summary>
    /// The offline round trip of the README's main job, through the binary: a testnet of 12 nodes, a mutable item
    /// put through one of its nodes and read back through another process, then Ctrl+C (SIGINT) stops the testnet
    /// cleanly. Its --duration bounds it should the signal be lost.
    /// </summary>
    [Fact]
    public async Task Testnet_serves_a_put_and_a_get_from_other_processes_and_stops_on_interrupt()
    {
        var info = StartInfo(["testnet", "--nodes", "12", "--duration", "50", "--json"]);
        using var testnet = Process.Start(info)!;
        try
        {
            using var started = new CancellationTokenSource(Bound);
            string? line = await testnet.StandardOutput.ReadLineAsync(started.Token);
            Assert.NotNull(line);
            using var json = JsonDocument.Parse(line);
            Assert.Equal(12, json.RootElement.GetProperty("nodes").GetInt32());
            var bootstrap = json.RootElement.GetProperty("bootstrap").EnumerateArray().Select(e => e.GetString()!).ToList();
            Assert.Equal(12, bootstrap.Count);
            Assert.All(bootstrap, b => Assert.StartsWith("127.0.0.1:", b, StringComparison.Ordinal));
            Assert.Equal(12, bootstrap.Distinct().Count());

            var (secret, key) = await Keygen();
            var put = await Pkarr("dht", "put-mutable", "--secret", secret, "--value-hex", "68656c6c6f", "--seq", "7",
                "--bootstrap", bootstrap[0], "--timeout", "20");
            Assert.True(put.Code == 0, put.Error);
            Assert.Contains("seq=7", put.Out, StringComparison.Ordinal);

            var get = await Pkarr("dht", "get-mutable", key, "--bootstrap", bootstrap[^1], "--timeout", "20");
            Assert.True(get.Code == 0, get.Error);
            Assert.Equal("seq=7 value_hex=68656c6c6f value_text=hello", get.Out.Trim());
        }
        finally
        {
            using (var kill = Process.Start("kill", ["-s", "INT", testnet.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            // The kill below only guards a testnet that ignores the interrupt and its own --duration.
            using var stop = new CancellationTokenSource(Bound);
            try
            {
                await testnet.WaitForExitAsync(stop.Token);
            }
            catch (OperationCanceledException)
            {
                testnet.Kill(entireProcessTree: true);
            }
        }

        Assert.Equal(0, testnet.ExitCode);
        Assert.Contains("testnet stopped", await testnet.StandardError.ReadToEndAsync(), StringComparison.Ordinal);
    }
}
