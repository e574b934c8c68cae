using System.CommandLine;
using Pkarr.Dns;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Cli.Commands;

/// <summary><c>pkarr sign</c>: build and sign a packet from a zone file and print its bytes.</summary>
internal static class SignCommand
{
    internal enum OutputFormat
    {
        Hex,
        RelayHex,
        Bin,
    }

    internal static Command Create(CliConsole console)
    {
        var secret = PubkeyCommand.SecretOption();
        var zone = ZoneOption();
        var timestamp = new Option<ulong?>("--timestamp", "-t")
        {
            Description = "Timestamp in microseconds since the Unix epoch (default: now).",
        };
        var format = new Option<OutputFormat>("--format", "-f")
        {
            Description = "hex: canonical bytes (key, signature, timestamp, DNS) as hex; relay-hex: the relay body (without the key) as hex; bin: canonical bytes.",
            HelpName = "hex|relay-hex|bin",
            DefaultValueFactory = _ => OutputFormat.Hex,
            CustomParser = ParseFormat,
        };
        var output = new Option<FileInfo?>("--out", "-o") { Description = "Write to this file instead of standard output." };

        var command = new Command("sign", "Sign the records of a zone file into a pkarr packet.")
        {
            secret,
            zone,
            timestamp,
            format,
            output,
        };
        command.SetAction(result => console.Run(() =>
        {
            using var keypair = Keypair.FromSecretKeyFile(result.GetValue(secret)!.FullName);
            if (ReadZone(console, keypair, result.GetValue(zone)!) is not { } builder)
            {
                return 1;
            }

            if (result.GetValue(timestamp) is ulong micros)
            {
                builder.Timestamp(new Timestamp(micros));
            }

            if (!builder.TrySign(keypair, out var packet, out var signError))
            {
                console.Fail(signError.Message);
                return 1;
            }

            Write(console, packet, result.GetValue(format), result.GetValue(output));
            return 0;
        }));
        return command;
    }

    /// <summary>The <c>--zone</c> option of the commands that sign a zone file.</summary>
    internal static Option<FileInfo> ZoneOption() => new("--zone", "-z")
    {
        Description = "Zone file: records relative to the key, '@' for the apex, no SOA or $ORIGIN ($TTL allowed, default TTL 300).",
        Required = true,
    };

    /// <summary>A builder holding the records of <paramref name="zone"/>, owners relative to <paramref name="keypair"/>'s
    /// key; null after a one-line error when the zone file does not parse. A missing file throws (a user error).</summary>
    internal static SignedPacketBuilder? ReadZone(CliConsole console, Keypair keypair, FileInfo zone)
    {
        string text = File.ReadAllText(zone.FullName);
        if (!ZoneFile.TryParse(text, keypair.PublicKey.ToZ32(), out var records, out var zoneError))
        {
            console.Fail($"{zone.Name}: {zoneError.Message}");
            return null;
        }

        var builder = SignedPacket.Builder();
        foreach (var record in records)
        {
            builder.Record(record);
        }

        return builder;
    }

    private static void Write(CliConsole console, SignedPacket packet, OutputFormat format, FileInfo? output)
    {
        byte[] bytes = format == OutputFormat.RelayHex ? packet.RelayPayload.ToArray() : packet.Bytes.ToArray();
        if (format == OutputFormat.Bin)
        {
            if (output is not null)
            {
                File.WriteAllBytes(output.FullName, bytes);
                return;
            }

            using var stdout = console.OpenOutput();
            stdout.Write(bytes);
            return;
        }

        string hex = Convert.ToHexStringLower(bytes);
        if (output is not null)
        {
            File.WriteAllText(output.FullName, hex + "\n");
        }
        else
        {
            console.Out.WriteLine(hex);
        }
    }

    private static OutputFormat ParseFormat(System.CommandLine.Parsing.ArgumentResult result)
    {
        string value = result.Tokens.Count == 0 ? "hex" : result.Tokens[0].Value;
        switch (value)
        {
            case "hex":
                return OutputFormat.Hex;
            case "relay-hex":
                return OutputFormat.RelayHex;
            case "bin":
                return OutputFormat.Bin;
            default:
                result.AddError($"--format must be hex, relay-hex or bin, not '{value}'.");
                return OutputFormat.Hex;
        }
    }
}
