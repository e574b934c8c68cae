// One run of a `pkarr dht` command: the validated common options, the deadline, the client node and the output.
// RunAsync is the async counterpart of CliConsole.Run: user mistakes and network outcomes end as one
// `error: ...` line with exit code 1, never a stack trace.
using System.CommandLine;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Text.Json;
using Mainline;

namespace Pkarr.Cli.Commands.Dht;

/// <summary>A named value of a result, printed as <c>name=value</c> or as a JSON member; null values are left out.</summary>
/// <param name="Name">The snake_case name, the same in text and JSON.</param>
/// <param name="Value">A string or a whole number; null leaves the field out.</param>
/// <param name="JsonOnly">Long details (signatures, keys the user typed) that would crowd a text line.</param>
internal readonly record struct DhtField(string Name, object? Value, bool JsonOnly = false);

internal sealed class DhtInvocation : IDisposable
{
    /// <summary>The shell's exit code for a command stopped by Ctrl+C (128 + SIGINT).</summary>
    internal const int InterruptedExitCode = ExitCodes.Interrupted;

    /// <summary>CancellationTokenSource accepts at most int.MaxValue milliseconds; 2,000,000 s (23 days) stays below.</summary>
    private const double MaxTimeoutSeconds = 2_000_000;

    private readonly CancellationTokenSource _deadline;
    private readonly CancellationTokenSource _stop;

    private DhtInvocation(CliConsole console, IList<System.Net.EndPoint>? bootstrap, TimeSpan timeout, bool json, CancellationToken interrupt)
    {
        Console = console;
        Bootstrap = bootstrap;
        Timeout = timeout;
        Json = json;
        Interrupt = interrupt;
        _deadline = new CancellationTokenSource(timeout);
        _stop = CancellationTokenSource.CreateLinkedTokenSource(interrupt, _deadline.Token);
    }

    internal CliConsole Console { get; }

    /// <summary>The parsed <c>--bootstrap</c> entries; null for the library's default public nodes.</summary>
    internal IList<System.Net.EndPoint>? Bootstrap { get; }

    internal TimeSpan Timeout { get; }

    internal bool Json { get; }

    /// <summary>Cancelled by Ctrl+C.</summary>
    internal CancellationToken Interrupt { get; }

    /// <summary>Cancelled by Ctrl+C or when <see cref="Timeout"/> has passed since the command started.</summary>
    internal CancellationToken Token => _stop.Token;

    /// <summary>True when <see cref="Timeout"/> has passed (and not because of Ctrl+C).</summary>
    internal bool TimedOut => _deadline.IsCancellationRequested && !Interrupt.IsCancellationRequested;

    /// <summary>Checks the common options, then runs <paramref name="body"/>, turning failures into one-line errors.
    /// <paramref name="timedOutExitCode"/> is the exit code when <c>--timeout</c> passes: 1 for the dht commands,
    /// which exit 1 on every failure; <see cref="ExitCodes.NetworkError"/> for the client commands.</summary>
    internal static async Task<int> RunAsync(
        CliConsole console, DhtCommonOptions options, ParseResult result, Func<DhtInvocation, Task<int>> body, CancellationToken interrupt,
        int timedOutExitCode = 1)
    {
        try
        {
            var bootstrap = DhtArguments.Bootstrap(result.GetValue(options.Bootstrap));
            double seconds = result.GetValue(options.Timeout);
            DhtArguments.RequirePositive("--timeout", seconds);
            if (seconds > MaxTimeoutSeconds)
            {
                throw DhtErrors.NotPositive("--timeout", seconds);
            }

            using var run = new DhtInvocation(console, bootstrap, TimeSpan.FromSeconds(seconds), result.GetValue(options.Json), interrupt);
            try
            {
                return await body(run).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (interrupt.IsCancellationRequested)
            {
                return InterruptedExitCode;
            }
            catch (OperationCanceledException) when (run.TimedOut)
            {
                console.Fail(DhtErrors.TimedOut(run.Timeout));
                return timedOutExitCode;
            }
        }
        catch (SocketException error)
        {
            console.Fail(DhtErrors.CannotBind(error.Message));
            return 1;
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            // CliConsole alone decides which exceptions are user mistakes; any other keeps its stack trace.
            return console.Run(() =>
            {
                ExceptionDispatchInfo.Throw(error);
                return 1;
            });
        }
    }

    /// <summary>Starts a short-lived read-only node (BEP 43) on an OS-chosen port, joined through <see cref="Bootstrap"/>.</summary>
    internal Task<Mainline.Dht> StartClientAsync() => Mainline.Dht.CreateAsync(
        new DhtOptions
        {
            Bootstrap = Bootstrap,
            Port = 0,
            BindAddress = DhtArguments.BindAddress(null, Bootstrap),
            Mode = DhtMode.Client,
        },
        Token);

    /// <summary>True when no node ever answered: nothing reached the routing table.</summary>
    internal async Task<bool> NoNodeAnsweredAsync(Mainline.Dht dht)
    {
        var info = await dht.GetInfoAsync(Token).ConfigureAwait(false);
        return info.RoutingTableSize == 0;
    }

    /// <summary>Prints one result: a JSON object with <c>--json</c>, else <c>name=value</c> pairs on one line.</summary>
    internal void Print(params ReadOnlySpan<DhtField> fields)
    {
        Console.Out.WriteLine(Json ? FormatJson(fields) : FormatText(fields));
    }

    /// <summary>The value as text when it is valid UTF-8 without control characters other than tab and line breaks;
    /// null otherwise, and only its hex is shown.</summary>
    internal static string? TextOf(byte[] value)
    {
        string text;
        try
        {
            text = StrictUtf8.GetString(value);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }

        return text.Any(c => char.IsControl(c) && c is not ('\t' or '\n' or '\r')) ? null : text;
    }

    public void Dispose()
    {
        _stop.Dispose();
        _deadline.Dispose();
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static string FormatJson(ReadOnlySpan<DhtField> fields)
    {
        var members = fields.ToArray();
        return CliJson.Write(writer =>
        {
            writer.WriteStartObject();
            foreach (var field in members)
            {
                switch (field.Value)
                {
                    case null:
                        break;
                    case string text:
                        writer.WriteString(field.Name, text);
                        break;
                    case long number:
                        writer.WriteNumber(field.Name, number);
                        break;
                    case int number:
                        writer.WriteNumber(field.Name, number);
                        break;
                    default:
                        writer.WriteString(field.Name, Convert.ToString(field.Value, CultureInfo.InvariantCulture));
                        break;
                }
            }

            writer.WriteEndObject();
        });
    }

    private static string FormatText(ReadOnlySpan<DhtField> fields)
    {
        var line = new StringBuilder();
        foreach (var field in fields)
        {
            if (field.Value is null || field.JsonOnly)
            {
                continue;
            }

            string value = Convert.ToString(field.Value, CultureInfo.InvariantCulture) ?? "";
            line.Append(line.Length == 0 ? "" : " ").Append(field.Name).Append('=')
                .Append(NeedsQuotes(value) ? JsonSerializer.Serialize(value, CliJson.Options) : value);
        }

        return line.ToString();
    }

    /// <summary>Values with spaces, quotes, '=' or control characters are quoted so each line splits unambiguously.</summary>
    private static bool NeedsQuotes(string value) =>
        value.Length == 0 || value.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '"' or '=' or '\\');
}
