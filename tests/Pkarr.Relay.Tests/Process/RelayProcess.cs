// `pkarr relay` as a child process, as an operator runs it: the built CLI (src/Pkarr.Cli, found through the
// PkarrCliDirectory metadata of this assembly) started by the same dotnet host that runs the tests. It is ready
// when it prints its URL; it can be killed (SIGKILL) or asked to stop (SIGTERM). Disposing kills what still runs.

using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

// The namespace is not the folder's name: a namespace Pkarr.Relay.Tests.Process would hide System.Diagnostics.Process
// from every test file under Pkarr.Relay.Tests.
namespace Pkarr.Relay.Tests.Processes;

internal sealed partial class RelayProcess : IAsyncDisposable
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _errors = new();
    private readonly TaskCompletionSource<Uri> _url = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _reading;

    private RelayProcess(Process process)
    {
        _process = process;
        _reading = Task.WhenAll(ReadOutput(), ReadErrors());
    }

    /// <summary>The relay's base URL, as it printed it.</summary>
    public Uri Url { get; private set; } = null!;

    public bool HasExited => _process.HasExited;

    /// <summary>Standard error so far: the logs and any error line.</summary>
    public string Errors
    {
        get
        {
            lock (_errors)
            {
                return _errors.ToString();
            }
        }
    }

    /// <summary>Standard output so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts <c>pkarr <paramref name="args"/></c> and waits until it prints its URL.</summary>
    public static async Task<RelayProcess> StartAsync(params string[] args)
    {
        var start = CliStartInfo(args);
        var process = Process.Start(start);
        Assert.NotNull(process);
        process.StandardInput.Close();
        var relay = new RelayProcess(process);
        try
        {
            using var timeout = new CancellationTokenSource(Bound);
            relay.Url = await relay._url.Task.WaitAsync(timeout.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException)
        {
            await relay.DisposeAsync();
            Assert.Fail($"pkarr {string.Join(' ', args)} printed no URL ({e.Message}); stderr:\n{relay.Errors}");
        }

        return relay;
    }

    /// <summary>How to start <c>pkarr <paramref name="args"/></c>: the built CLI (PkarrCliDirectory metadata of the
    /// test assembly this file is compiled into) on the host that runs the tests, all three streams redirected, without colours.</summary>
    internal static ProcessStartInfo CliStartInfo(IEnumerable<string> args)
    {
        string directory = typeof(RelayProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(attribute => attribute.Key == "PkarrCliDirectory").Value!;
        string cli = Path.Combine(directory, "Pkarr.Cli.dll");
        Assert.True(File.Exists(cli), $"the pkarr CLI is not built at {cli}");

        // The host that runs the tests runs the CLI too; the SDK names it when it starts the test host.
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path ? path : "dotnet";
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add(cli);
        foreach (string argument in args)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["NO_COLOR"] = "1";
        return start;
    }

    /// <summary>SIGKILL: the process gets no chance to flush or close anything.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        using var timeout = new CancellationTokenSource(Bound);
        await _process.WaitForExitAsync(timeout.Token);
    }

    /// <summary>SIGTERM, as systemd or docker stop send it; returns the exit code.</summary>
    public async Task<int> TerminateAsync()
    {
        using (var kill = Process.Start("kill", ["-s", "TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(Bound);
        await _process.WaitForExitAsync(timeout.Token);
        await _reading.WaitAsync(timeout.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            using var timeout = new CancellationTokenSource(Bound);
            await _process.WaitForExitAsync(timeout.Token);
        }

        await _reading.WaitAsync(Bound).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _process.Dispose();
    }

    private async Task ReadOutput()
    {
        while (await _process.StandardOutput.ReadLineAsync() is { } line)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }

            if (RelayLine().Match(line) is { Success: true } match)
            {
                _url.TrySetResult(new Uri(match.Groups[1].Value));
            }
        }

        _url.TrySetException(new InvalidOperationException($"the relay exited with {(_process.HasExited ? _process.ExitCode : -1)}"));
    }

    private async Task ReadErrors()
    {
        while (await _process.StandardError.ReadLineAsync() is { } line)
        {
            lock (_errors)
            {
                _errors.AppendLine(line);
            }
        }
    }

    [GeneratedRegex(@"^  relay  (http://\S+)$")]
    private static partial Regex RelayLine();
}
