using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Pkarr.Client;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Cli.Commands;

/// <summary>
/// <c>pkarr publish</c>: sign a zone file as <c>pkarr sign</c> does, with a timestamp newer than the cached packet of
/// the key, and publish it to the DHT and every relay at once; print what each backend did and the verdict.
/// </summary>
internal static class PublishCommand
{
    internal static Command Create(CliConsole console)
    {
        var network = new NetworkOptions();
        var secret = PubkeyCommand.SecretOption();
        var zone = SignCommand.ZoneOption();
        var command = new Command(
            "publish",
            "Sign the records of a zone file and publish the packet to the DHT and the relays; print each backend's result. "
            + "Exits 0 when at least one backend stored it, 2 when none answered usefully, 5 when a newer packet is known or nodes rejected it.")
        {
            secret,
            zone,
        };
        network.AddTo(command);
        command.SetAction((result, interrupt) => network.RunAsync(console, result, async run =>
        {
            using var keypair = Keypair.FromSecretKeyFile(result.GetValue(secret)!.FullName);
            if (SignCommand.ReadZone(console, keypair, result.GetValue(zone)!) is not { } builder)
            {
                return ExitCodes.BadInput;
            }

            await using var client = await network.CreateClientAsync(run, result).ConfigureAwait(false);
            builder.Timestamp(await TimestampAsync(client, keypair.PublicKey, run.Token).ConfigureAwait(false));
            if (!builder.TrySign(keypair, out var packet, out var signError))
            {
                console.Fail(signError.Message);
                return ExitCodes.BadInput;
            }

            PublishResult published;
            await using (TerminalProgress.Start(console, $"publishing {packet.PublicKey}"))
            {
                published = await client.PublishAsync(packet, cancellationToken: run.Token).ConfigureAwait(false);
            }

            console.Out.WriteLine(run.Json ? ToJson(packet, published) : ToText(packet, published));
            if (published.Error is not { } error)
            {
                return ExitCodes.Success;
            }

            var (message, exitCode) = CliErrors.PublishFailed(packet.PublicKey, error);
            console.Fail(message);
            return exitCode;
        }, interrupt));
        return command;
    }

    /// <summary>Now, or just above the cached packet's timestamp when that is not older than now (a clock that went
    /// back, or a packet published a moment ago), so that the cache never refuses the new packet as older.</summary>
    private static async Task<Timestamp> TimestampAsync(PkarrClient client, PublicKey key, CancellationToken cancellationToken)
    {
        var now = client.Clock.Now();
        if (client.Cache is { } cache && await cache.PeekAsync(key, cancellationToken).ConfigureAwait(false) is { } cached
            && cached.Packet.Timestamp >= now)
        {
            return cached.Packet.Timestamp.AddMicroseconds(1);
        }

        return now;
    }

    /// <summary>One line for the packet, one per backend, one for the verdict:
    /// <code>
    /// packet ybnd…8ho timestamp 1700000000000000 (3 records, 250 bytes)
    /// dht: stored on 12 nodes
    /// relay http://127.0.0.1:6882/: 200, stored on 8 nodes
    /// verdict: published, stored on 12 nodes
    /// </code>
    /// </summary>
    internal static string ToText(SignedPacket packet, PublishResult published)
    {
        var lines = new List<string>
        {
            Invariant($"packet {packet.PublicKey} timestamp {packet.Timestamp.Microseconds} ({packet.AllResourceRecords.Count} records, {packet.Bytes.Length} bytes)"),
        };
        if (published.Dht is { } dht)
        {
            lines.Add(dht.Error is { } error ? $"dht: failed: {error}" : $"dht: stored on {Nodes(dht.StoredOn)}");
        }

        foreach (var relay in published.Relays)
        {
            string status = relay.StatusCode is int code ? code.ToString(CultureInfo.InvariantCulture) : "no answer";
            lines.Add(relay.Error is { } error
                ? $"relay {relay.Relay}: {status}, failed: {error}"
                : $"relay {relay.Relay}: {status}, stored on {Nodes(relay.StoredOn)}");
        }

        lines.Add(published.Error is { } verdict ? $"verdict: failed: {verdict}" : $"verdict: published, stored on {Nodes(published.StoredOn)}");
        return string.Join('\n', lines);
    }

    /// <summary>The same as one JSON object:
    /// <code>
    /// {"public_key":"…","timestamp":…,"records":3,"size":250,"published":true,"stored_on":12,
    ///  "dht":{"stored_on":12},"relays":[{"relay":"http://…/","status":200,"stored_on":8}]}
    /// </code>
    /// A failure adds <c>"error":{"kind":"no_responses","message":"…"}</c> to the object, the DHT or the relay;
    /// <c>dht</c> is null without the DHT, <c>status</c> null for a relay that did not answer.
    /// </summary>
    internal static string ToJson(SignedPacket packet, PublishResult published) => CliJson.Write(writer =>
    {
        writer.WriteStartObject();
        writer.WriteString("public_key", packet.PublicKey.ToString());
        writer.WriteNumber("timestamp", packet.Timestamp.Microseconds);
        writer.WriteNumber("records", packet.AllResourceRecords.Count);
        writer.WriteNumber("size", packet.Bytes.Length);
        writer.WriteBoolean("published", published.Succeeded);
        writer.WriteNumber("stored_on", published.StoredOn);
        WriteError(writer, published.Error);
        if (published.Dht is { } dht)
        {
            writer.WriteStartObject("dht");
            writer.WriteNumber("stored_on", dht.StoredOn);
            WriteError(writer, dht.Error);
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteNull("dht");
        }

        writer.WriteStartArray("relays");
        foreach (var relay in published.Relays)
        {
            writer.WriteStartObject();
            writer.WriteString("relay", relay.Relay.ToString());
            if (relay.StatusCode is int code)
            {
                writer.WriteNumber("status", code);
            }
            else
            {
                writer.WriteNull("status");
            }

            writer.WriteNumber("stored_on", relay.StoredOn);
            WriteError(writer, relay.Error);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    });

    /// <summary>Writes <c>"error":{"kind":"no_responses","message":"…"}</c>; nothing when <paramref name="error"/> is null.</summary>
    internal static void WriteError(Utf8JsonWriter writer, PublishError? error)
    {
        if (error is null)
        {
            return;
        }

        writer.WriteStartObject("error");
        writer.WriteString("kind", JsonNamingPolicy.SnakeCaseLower.ConvertName(error.Kind.ToString()));
        writer.WriteString("message", error.ToString());
        writer.WriteEndObject();
    }

    private static string Nodes(int count) => count == 1 ? "1 node" : Invariant($"{count} nodes");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
