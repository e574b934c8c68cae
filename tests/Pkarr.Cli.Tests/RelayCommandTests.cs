using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Pkarr.Cli.Commands;
using Pkarr.Keys;
using Pkarr.Packets;
using Pkarr.Relay;
using static Pkarr.Cli.Tests.ServerCommandRuns;

namespace Pkarr.Cli.Tests;

/// <summary>
/// <c>pkarr relay</c>: how its flags, the config file and <c>--testnet</c> become the relay's options, its errors,
/// and a real relay run in-process on an OS-chosen port: page, PUT/GET round trip, stop on cancellation.
/// </summary>
public sealed partial class RelayCommandTests : IDisposable
{
    /// <summary>No PKARR_* variable of the machine that runs the tests reaches the options.</summary>
    private static readonly Dictionary<string, string?> NoEnvironment = [];

    private readonly string _dir = Directory.CreateTempSubdirectory("pkarr-relay-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (RelayArguments Arguments, ParseResult Result) Parse(params string[] args)
    {
        var arguments = new RelayArguments();
        var command = new Command("relay");
        arguments.AddTo(command);
        return (arguments, command.Parse(args));
    }

    private static RelayOptions Options(params string[] args)
    {
        var (arguments, result) = Parse(args);
        Assert.Empty(result.Errors);
        return arguments.ToOptions(result, NoEnvironment);
    }

    [Fact]
    public void Without_flags_the_options_are_the_built_in_defaults_of_the_real_network()
    {
        var options = Options();
        Assert.False(options.Testnet);
        Assert.Equal(HttpSettings.DefaultPort, options.Http.Port);
        Assert.Equal(IPAddress.Any, options.Http.BindAddress);
        Assert.Null(options.Mainline.Bootstrap);
        Assert.Null(options.Cache.Path);

        // Without a config file the reference's default rate limits are on.
        Assert.NotNull(options.RateLimiter);
        var (arguments, result) = Parse();
        Assert.Equal(LogLevel.Information, arguments.Level(result));
    }

    [Fact]
    public void Each_flag_lands_in_its_option()
    {
        string cache = Path.Combine(_dir, "made", "by", "the", "flag");
        var options = Options(
            "--http-port", "8080", "--dht-port", "7000", "--bootstrap", "127.0.0.1:6881", "--bootstrap", "router.example:6881",
            "--cache-dir", cache);
        Assert.Equal(8080, options.Http.Port);
        Assert.Equal(7000, options.Mainline.Port);
        Assert.Equal(["127.0.0.1:6881", "router.example:6881"], options.Mainline.Bootstrap);
        Assert.Equal(Path.GetFullPath(cache), options.Cache.Path);
        Assert.True(Directory.Exists(cache), "--cache-dir creates its directory");
        Assert.False(options.Testnet);

        var (arguments, result) = Parse("--log-level", "debug");
        Assert.Equal(LogLevel.Debug, arguments.Level(result));
        (arguments, result) = Parse("--log-level", "Error");
        Assert.Equal(LogLevel.Error, arguments.Level(result));
    }

    [Fact]
    public void Testnet_is_loopback_on_15411_without_rate_limits_and_flags_still_win()
    {
        var options = Options("--testnet");
        Assert.True(options.Testnet);
        Assert.Equal(HttpSettings.TestnetPort, options.Http.Port);
        Assert.Equal(IPAddress.Loopback, options.Http.BindAddress);
        Assert.Equal(IPAddress.Loopback, options.Mainline.BindAddress);
        Assert.Null(options.RateLimiter);

        var overridden = Options("--testnet", "--http-port", "0", "--dht-port", "0", "--cache-dir", _dir);
        Assert.True(overridden.Testnet);
        Assert.Equal(0, overridden.Http.Port);
        Assert.Equal(0, overridden.Mainline.Port);
        Assert.Equal(_dir, overridden.Cache.Path);
        Assert.Null(overridden.RateLimiter);
    }

    [Fact]
    public void Testnet_over_a_loaded_configuration_replaces_only_the_network_parts()
    {
        var options = new RelayOptions();
        options.Http.Port = 80;
        options.Mainline.Port = 6881;
        options.Mainline.Bootstrap = ["router.example:6881"];
        options.Cache.Path = _dir;
        options.Cache.Size = 1234;
        options.Republisher.Enabled = false;

        RelayArguments.ApplyTestnet(options);
        Assert.True(options.Testnet);
        Assert.Equal(HttpSettings.TestnetPort, options.Http.Port);
        Assert.Equal(IPAddress.Loopback, options.Http.BindAddress);
        Assert.Equal(IPAddress.Loopback, options.Mainline.BindAddress);
        Assert.Equal(0, options.Mainline.Port);
        Assert.Null(options.Mainline.Bootstrap);
        Assert.Null(options.RateLimiter);
        Assert.Equal(_dir, options.Cache.Path);
        Assert.Equal(1234, options.Cache.Size);
        Assert.False(options.Republisher.Enabled);
    }

    [Theory]
    [InlineData("--http-port", "65536")]
    [InlineData("--http-port", "-1")]
    [InlineData("--dht-port", "70000")]
    public void A_port_out_of_range_is_refused_naming_the_flag(string flag, string value)
    {
        var (arguments, result) = Parse(flag, value);
        var error = Assert.Throws<ArgumentException>(() => arguments.ToOptions(result, NoEnvironment));
        Assert.Contains(flag, error.Message, StringComparison.Ordinal);
        Assert.Contains(value, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_bootstrap_entries_and_bootstrap_with_testnet_are_refused()
    {
        var (arguments, result) = Parse("--bootstrap", "no-port-here");
        Assert.Contains("no-port-here", Assert.Throws<FormatException>(() => arguments.ToOptions(result, NoEnvironment)).Message, StringComparison.Ordinal);

        (arguments, result) = Parse("--testnet", "--bootstrap", "127.0.0.1:6881");
        var error = Assert.Throws<ArgumentException>(() => arguments.ToOptions(result, NoEnvironment));
        Assert.Contains("--testnet", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_log_level_is_a_parse_error()
    {
        var (_, result) = Parse("--log-level", "loud");
        Assert.Contains(result.Errors, error => error.Message.Contains("--log-level", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_config_file_error_is_one_line_naming_the_file_and_exit_1()
    {
        string file = Path.Combine(_dir, "relay.toml");
        await File.WriteAllTextAsync(file, "[http]\nport = \"not a port\"\n");
        var run = await RunToEnd("relay", "--config", file);
        Assert.Equal(ExitCodes.BadInput, run.Exit);
        Assert.Equal("", run.Out);
        string error = run.Error.TrimEnd();
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error);
        Assert.Contains("relay.toml", error, StringComparison.Ordinal);
        Assert.Contains("http.port", error, StringComparison.Ordinal);

        // The same file with a good value starts nothing wrong: the refusal was the value's.
        await File.WriteAllTextAsync(file, "[http]\nport = 8080\n");
        Assert.Equal(8080, Options("--config", file).Http.Port);
    }

    [Fact]
    public async Task A_missing_config_file_is_one_line_naming_it()
    {
        string file = Path.Combine(_dir, "nowhere.toml");
        var run = await RunToEnd("relay", "-c", file);
        Assert.Equal(ExitCodes.BadInput, run.Exit);
        Assert.Equal("", run.Out);
        Assert.StartsWith("error: ", run.Error, StringComparison.Ordinal);
        Assert.Contains("nowhere.toml", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Flags_override_the_config_file_and_testnet_keeps_its_store_settings()
    {
        string store = Directory.CreateDirectory(Path.Combine(_dir, "store")).FullName;
        string file = Path.Combine(_dir, "relay.toml");
        await File.WriteAllTextAsync(file, $"""
            [http]
            port = 8080
            [mainline]
            port = 7000
            bootstrap = ["127.0.0.1:6881"]
            [cache]
            path = "{store}"
            size = 1234
            [rate_limiter]
            behind_proxy = true
            quota = "5r/s"
            dht_quota = "5r/s"
            user_dht_quota = "5r/s"
            [republisher]
            enabled = false
            """);

        var fromFile = Options("-c", file);
        Assert.Equal(8080, fromFile.Http.Port);
        Assert.Equal(7000, fromFile.Mainline.Port);
        Assert.Equal(["127.0.0.1:6881"], fromFile.Mainline.Bootstrap);
        Assert.Equal(store, fromFile.Cache.Path);
        Assert.NotNull(fromFile.RateLimiter);
        Assert.True(fromFile.RateLimiter.BehindProxy);

        string other = Path.Combine(_dir, "other");
        var flags = Options("-c", file, "--http-port", "9090", "--dht-port", "0", "--bootstrap", "127.0.0.1:7777", "--cache-dir", other);
        Assert.Equal(9090, flags.Http.Port);
        Assert.Equal(0, flags.Mainline.Port);
        Assert.Equal(["127.0.0.1:7777"], flags.Mainline.Bootstrap);
        Assert.Equal(other, flags.Cache.Path);
        Assert.Equal(1234, flags.Cache.Size);
        Assert.NotNull(flags.RateLimiter);

        var testnet = Options("-c", file, "--testnet");
        Assert.True(testnet.Testnet);
        Assert.Equal(HttpSettings.TestnetPort, testnet.Http.Port);
        Assert.Equal(IPAddress.Loopback, testnet.Http.BindAddress);
        Assert.Equal(IPAddress.Loopback, testnet.Mainline.BindAddress);
        Assert.Null(testnet.Mainline.Bootstrap);
        Assert.Null(testnet.RateLimiter);
        Assert.Equal(store, testnet.Cache.Path);
        Assert.Equal(1234, testnet.Cache.Size);
        Assert.False(testnet.Republisher.Enabled);
    }

    [Fact]
    public void The_environment_overrides_the_file_and_the_flags_override_the_environment()
    {
        Dictionary<string, string?> environment = new() { ["PKARR_RELAY__HTTP__PORT"] = "8181" };
        var (arguments, result) = Parse();
        Assert.Equal(8181, arguments.ToOptions(result, environment).Http.Port);
        (arguments, result) = Parse("--http-port", "9191");
        Assert.Equal(9191, arguments.ToOptions(result, environment).Http.Port);
    }

    [Fact]
    public async Task A_taken_http_port_is_one_line_that_says_to_use_http_port()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var run = await RunToEnd("relay", "--testnet", "--http-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--log-level", "error");
        Assert.Equal(ExitCodes.BadInput, run.Exit);
        Assert.Equal("", run.Out);
        string error = run.Error.TrimEnd();
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error);
        Assert.Contains($"HTTP port {port}", error, StringComparison.Ordinal);
        Assert.Contains("--http-port", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Testnet_relay_serves_its_page_and_a_put_get_round_trip_then_stops_on_cancellation()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var output = TextWriter.Synchronized(stdout);
        var errors = TextWriter.Synchronized(stderr);
        var console = new CliConsole(output, errors, () => new MemoryStream(), () => new MemoryStream());
        using var stop = new CancellationTokenSource();
        var run = PkarrCommand.RunAsync(["relay", "--testnet", "--http-port", "0", "--log-level", "warning"], console, stop.Token);

        Uri url = await WaitForUrl(run, output, stdout, errors, stderr);
        Assert.Equal(IPAddress.Loopback.ToString(), url.Host);
        Assert.NotEqual(HttpSettings.TestnetPort, url.Port);
        string banner = Read(output, stdout);
        Assert.Contains($"web    {url} (resolve and publish from a browser)", banner, StringComparison.Ordinal);
        Assert.Contains($"status {url}status", banner, StringComparison.Ordinal);
        Assert.Contains($"pkarr publish --relay {url} --no-dht", banner, StringComparison.Ordinal);
        Assert.Contains($"pkarr resolve --relay {url} --no-dht <key>", banner, StringComparison.Ordinal);
        Assert.Contains($"curl -s -o payload.bin -w '%{{http_code}}\\n' {url}<key>", banner, StringComparison.Ordinal);
        Assert.Matches(@"dht    udp 127\.0\.0\.1:\d+ \(a private testnet", banner);
        Assert.Contains("(ephemeral", banner, StringComparison.Ordinal);

        using (var http = new HttpClient { BaseAddress = url, Timeout = Bound })
        {
            using var page = await http.GetAsync("/");
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("<script type=\"module\"", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            using var status = await http.GetAsync("status");
            Assert.Contains("<title>Pkarr Relay</title>", await status.Content.ReadAsStringAsync(), StringComparison.Ordinal);

            using var keypair = Keypair.Random();
            var packet = SignedPacket.Builder().A("@", IPAddress.Parse("192.0.2.7")).Sign(keypair);
            string key = keypair.PublicKey.ToZ32();
            using (var before = await http.GetAsync(key + "?policy=CacheOnly"))
            {
                Assert.Equal(HttpStatusCode.NotFound, before.StatusCode);
            }

            using var body = new ByteArrayContent(packet.RelayPayload.ToArray());
            using (var put = await http.PutAsync(key, body))
            {
                Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
            }

            using var get = await http.GetAsync(key + "?policy=CacheOnly");
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            Assert.Equal(packet.RelayPayload.ToArray(), await get.Content.ReadAsByteArrayAsync());
        }

        Assert.False(run.IsCompleted, "the relay stopped before it was asked to");
        await stop.CancelAsync();
        Assert.Equal(ExitCodes.Success, await run.WaitAsync(Bound));
        Assert.Contains("relay stopped", Read(errors, stderr), StringComparison.Ordinal);

        // Stopped means stopped: nothing listens on its port any more.
        using var after = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(10) };
        await Assert.ThrowsAsync<HttpRequestException>(() => after.GetAsync("/"));
    }

    private static async Task<Uri> WaitForUrl(Task<int> run, TextWriter output, StringWriter stdout, TextWriter errors, StringWriter stderr)
    {
        var deadline = DateTime.UtcNow + Bound;
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(run.IsCompleted, $"the relay exited early: {Read(errors, stderr)}");
            if (RelayLine().Match(Read(output, stdout)) is { Success: true } match)
            {
                return new Uri(match.Groups[1].Value);
            }

            await Task.Delay(50);
        }

        Assert.Fail($"the relay printed no URL within {Bound.TotalSeconds} s: {Read(errors, stderr)}");
        return null!;
    }

    [GeneratedRegex(@"^  relay  (http://\S+)$", RegexOptions.Multiline)]
    private static partial Regex RelayLine();
}
