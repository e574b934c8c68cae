using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Threading.Channels;

namespace Mainline.Tests.Interop;

/// <summary>A third-party peer process started by a test: JSON lines on stdout, killed (by its id) on dispose.</summary>
internal sealed class PeerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly List<string> _stderr = [];

    private PeerProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _lines.Writer.TryComplete();
            }
            else
            {
                _lines.Writer.TryWrite(e.Data);
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

    public int Id => _process.Id;

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return string.Join('\n', _stderr.TakeLast(30));
            }
        }
    }

    public static PeerProcess Start(string file, IEnumerable<string> args, string workingDirectory)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        return new PeerProcess(Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}"));
    }

    /// <summary>The next stdout JSON object with <c>"event": <paramref name="eventName"/></c>.</summary>
    public async Task<JsonElement> WaitForEventAsync(string eventName, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var line = await _lines.Reader.ReadAsync(cts.Token);
                if (TryJson(line) is { } json && json.TryGetProperty("event", out var e) && e.GetString() == eventName)
                {
                    return json;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
        {
            throw new TimeoutException($"no '{eventName}' from {_process.StartInfo.FileName} within {timeout}; stderr:\n{Stderr}");
        }
    }

    /// <summary>Sends one JSON command line and waits for its result line.</summary>
    public async Task<JsonElement> CommandAsync(object command, TimeSpan timeout)
    {
        await _process.StandardInput.WriteLineAsync(JsonSerializer.Serialize(command));
        await _process.StandardInput.FlushAsync();
        return await WaitForEventAsync("result", timeout);
    }

    /// <summary>Runs a one-shot command to completion and returns its last JSON stdout line.</summary>
    public static async Task<JsonElement> RunAsync(string file, IEnumerable<string> args, string workingDirectory, TimeSpan timeout)
    {
        await using var p = Start(file, args, workingDirectory);
        p._process.StandardInput.Close();
        JsonElement? last = null;
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await foreach (var line in p._lines.Reader.ReadAllAsync(cts.Token))
            {
                last = TryJson(line) ?? last;
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {timeout}; stderr:\n{p.Stderr}");
        }

        return last ?? throw new InvalidOperationException($"{file} printed no JSON; stderr:\n{p.Stderr}");
    }

    public void Signal(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill?.WaitForExit(5000);
    }

    private static JsonElement? TryJson(string line)
    {
        if (!line.StartsWith('{'))
        {
            return null;
        }

        try
        {
            return JsonDocument.Parse(line).RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync(new CancellationTokenSource(5000).Token);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException or System.ComponentModel.Win32Exception)
        {
        }

        _process.Dispose();
    }

    /// <summary>A base port with <paramref name="count"/> consecutive free UDP ports on 127.0.0.1.</summary>
    public static int FreeUdpPortRange(int count)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var start = Random.Shared.Next(30000, 50000);
            var sockets = new List<Socket>();
            try
            {
                for (var i = 0; i < count; i++)
                {
                    var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                    sockets.Add(s);
                    s.Bind(new IPEndPoint(IPAddress.Loopback, start + i));
                }

                return start;
            }
            catch (SocketException)
            {
            }
            finally
            {
                sockets.ForEach(s => s.Dispose());
            }
        }

        throw new InvalidOperationException("no free UDP port range on 127.0.0.1");
    }
}
