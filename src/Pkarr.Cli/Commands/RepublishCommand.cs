using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Pkarr.Cli.Commands.Dht;
using Pkarr.Client.Republishing;

namespace Pkarr.Cli.Commands;

/// <summary>
/// <c>pkarr republish</c>: the republisher in the foreground. Each cycle republishes every key (its latest packet,
/// re-signed only when nodes need it and the secret is given), checks how many DHT nodes hold it, and prints one
/// line; then it waits one interval. Ctrl+C stops it between or during cycles.
/// </summary>
internal static class RepublishCommand
{
    internal static Command Create(CliConsole console)
    {
        var network = new NetworkOptions();
        network.Common.Timeout.Description = "Give up joining the network after this many seconds (the cycles themselves run until stopped).";
        var secrets = new Option<FileInfo[]>("--secret", "-s")
        {
            Description = "A secret-key file whose packet to keep alive (re-signed when nodes refuse it unchanged); repeat for more.",
            HelpName = "FILE",
        };
        var keys = new Option<string[]>("--key", "-k")
        {
            Description = "A public key whose latest packet (from the network or the cache) to keep alive unchanged; repeat for more.",
            HelpName = "KEY",
        };
        var defaults = new RepublisherOptions();
        var minNodes = new Option<int>("--min-nodes")
        {
            Description = "DHT nodes that must hold a packet after a put; fewer are retried with backoff.",
            HelpName = "N",
            DefaultValueFactory = _ => defaults.MinimumHolders,
        };
        var interval = new Option<string>("--interval")
        {
            Description = "The wait between cycles: seconds, or a number with ms, s, m, h or d (BEP 44 nodes may drop an item 2 h after its last put).",
            HelpName = "DURATION",
            DefaultValueFactory = _ => "1h",
        };
        var cycles = new Option<int?>("--cycles")
        {
            Description = "Stop after N cycles; the exit code is then 0 only when the last cycle republished every key (default: run until Ctrl+C).",
            HelpName = "N",
        };
        var command = new Command(
            "republish",
            "Keep packets alive on the DHT: republish every key each interval and print a line per cycle. "
            + "Exits 0 when stopped by Ctrl+C; with --cycles, 0 when the last cycle republished every key, else 2.")
        {
            secrets,
            keys,
            minNodes,
            interval,
            cycles,
        };
        network.AddTo(command);
        command.SetAction((result, interrupt) => network.RunAsync(console, result, async run =>
        {
            var files = result.GetValue(secrets) ?? [];
            var publicKeys = (result.GetValue(keys) ?? []).Select(DhtArguments.Key).ToList();
            if (files.Length == 0 && publicKeys.Count == 0)
            {
                throw CliErrors.NoKeysToRepublish();
            }

            var options = new RepublisherOptions
            {
                MinimumHolders = result.GetValue(minNodes),
                Interval = ParseDuration(result.GetValue(interval)!),
            };
            if (options.Failures() is { Count: > 0 } failures)
            {
                throw CliErrors.BadRepublisherOption(failures[0]);
            }

            int? stopAfter = result.GetValue(cycles);
            if (stopAfter is < 1)
            {
                throw CliErrors.BadCycles(stopAfter.Value);
            }

            await using var client = await network.CreateClientAsync(run, result).ConfigureAwait(false);
            await using var republisher = new Republisher(client, options);
            foreach (var file in files)
            {
                republisher.AddSecretFile(file.FullName);
            }

            foreach (var key in publicKeys)
            {
                republisher.AddKey(key);
            }

            // The cycles run until Ctrl+C, not until --timeout, which bounds the start only.
            try
            {
                for (int cycle = 1; ; cycle++)
                {
                    var report = await republisher.RunCycleAsync(run.Interrupt).ConfigureAwait(false);
                    console.Out.WriteLine(run.Json ? ToJson(cycle, report) : ToText(cycle, report));
                    console.Out.Flush();
                    if (cycle == stopAfter)
                    {
                        return report.Failed == 0 ? ExitCodes.Success : ExitCodes.NetworkError;
                    }

                    await Task.Delay(options.Interval, client.TimeProvider, run.Interrupt).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (run.Interrupt.IsCancellationRequested)
            {
                console.Error.WriteLine("republisher stopped");
                return ExitCodes.Success;
            }
        }, interrupt));
        return command;
    }

    /// <summary>
    /// One line per cycle, failures named:
    /// <code>cycle 1 at 2026-12-02T12:00:00Z: 2 keys, 1 republished, 1 failed in 3.2 s; ybnd…: too few holders (5)</code>
    /// </summary>
    internal static string ToText(int cycle, RepublishReport report)
    {
        var line = new System.Text.StringBuilder();
        line.Append(CultureInfo.InvariantCulture,
            $"cycle {cycle} at {report.Started.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}: {report.Keys.Count} keys, {report.Succeeded} republished, "
            + $"{report.Failed} failed in {(report.Finished - report.Started).TotalSeconds:0.0} s");
        foreach (var key in report.Keys.Where(k => !k.Succeeded))
        {
            line.Append("; ").Append(key.PublicKey).Append(": ").Append(Describe(key));
        }

        return line.ToString();
    }

    /// <summary>One JSON object per cycle:
    /// <code>{"cycle":1,"started":"…","finished":"…","republished":2,"failed":0,"keys":[{"public_key":"…","outcome":"republished",
    /// "timestamp":…,"stored_on":12,"holders":10,"attempts":1,"adopted":false,"resigned":false}]}</code>
    /// A failed put adds <c>"error":{"kind":…,"message":…}</c>; a key whose newer value is not a packet, <c>invalid_seq</c>.
    /// </summary>
    internal static string ToJson(int cycle, RepublishReport report) => CliJson.Write(writer =>
    {
        writer.WriteStartObject();
        writer.WriteNumber("cycle", cycle);
        writer.WriteString("started", report.Started);
        writer.WriteString("finished", report.Finished);
        writer.WriteNumber("republished", report.Succeeded);
        writer.WriteNumber("failed", report.Failed);
        writer.WriteStartArray("keys");
        foreach (var key in report.Keys)
        {
            writer.WriteStartObject();
            writer.WriteString("public_key", key.PublicKey.ToString());
            writer.WriteString("outcome", JsonNamingPolicy.SnakeCaseLower.ConvertName(key.Outcome.ToString()));
            if (key.Packet is { } packet)
            {
                writer.WriteNumber("timestamp", packet.Timestamp.Microseconds);
            }

            writer.WriteNumber("stored_on", key.StoredOn);
            if (key.Holders is int holders)
            {
                writer.WriteNumber("holders", holders);
            }

            writer.WriteNumber("attempts", key.Attempts);
            writer.WriteBoolean("adopted", key.Adopted);
            writer.WriteBoolean("resigned", key.Resigned);
            if (key.InvalidSeq is long seq)
            {
                writer.WriteNumber("invalid_seq", seq);
            }

            PublishCommand.WriteError(writer, key.Error);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    });

    /// <summary>A duration: a number of seconds, or a number with a unit (<c>500ms</c>, <c>90s</c>, <c>30m</c>,
    /// <c>1h</c>, <c>1.5d</c>), or a .NET time span (<c>01:00:00</c>).</summary>
    internal static TimeSpan ParseDuration(string text)
    {
        string trimmed = text.Trim();
        (string Suffix, double Seconds)[] units = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)];
        foreach (var (suffix, seconds) in units)
        {
            if (trimmed.EndsWith(suffix, StringComparison.Ordinal) && Number(trimmed[..^suffix.Length]) is double count)
            {
                return Positive(count * seconds);
            }
        }

        if (Number(trimmed) is double plain)
        {
            return Positive(plain);
        }

        return TimeSpan.TryParse(trimmed, CultureInfo.InvariantCulture, out var span) && span > TimeSpan.Zero
            ? span
            : throw CliErrors.BadDuration(text);

        static double? Number(string digits) =>
            double.TryParse(digits, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value) ? value : null;

        TimeSpan Positive(double seconds) => seconds > 0 && seconds < TimeSpan.MaxValue.TotalSeconds
            ? TimeSpan.FromSeconds(seconds)
            : throw CliErrors.BadDuration(text);
    }

    private static string Describe(KeyRepublishResult key) => key.Outcome switch
    {
        RepublishOutcome.TooFewHolders => string.Create(CultureInfo.InvariantCulture,
            $"too few holders ({key.Holders?.ToString(CultureInfo.InvariantCulture) ?? "?"}) after {key.Attempts} attempts"),
        RepublishOutcome.PublishFailed => $"publish failed: {key.Error}",
        RepublishOutcome.NoPacket => "no packet known for it (publish one first)",
        RepublishOutcome.NewerValueNotAPacket => string.Create(CultureInfo.InvariantCulture,
            $"its newest value (seq {key.InvalidSeq}) is not a DNS packet; left alone"),
        _ => key.Outcome.ToString(),
    };
}
