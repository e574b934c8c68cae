using System.CommandLine;
using System.Text;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Cli.Commands;

/// <summary><c>pkarr inspect</c>: verify a packet and print it, as text or JSON.</summary>
internal static class InspectCommand
{
    internal static Command Create(CliConsole console)
    {
        var input = new Argument<string?>("packet")
        {
            Description = "The packet as hex, or '-' to read hex or binary from standard input.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var file = new Option<FileInfo?>("--file") { Description = "Read the packet from this file (hex text or binary)." };
        var key = new Option<string?>("--key", "-k")
        {
            Description = "The signer's public key: the input is then a relay payload (signature, timestamp, DNS) without the key.",
        };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of zone-file text." };

        var command = new Command("inspect", "Verify a signed packet and print its records; exits 1 with the reason when it is not valid.")
        {
            input,
            file,
            key,
            json,
        };
        command.SetAction(result => console.Run(() =>
        {
            byte[]? bytes = ReadInput(console, result.GetValue(input), result.GetValue(file));
            if (bytes is null)
            {
                return 1;
            }

            SignedPacket? packet;
            SignedPacketError error;
            if (result.GetValue(key) is string keyText)
            {
                if (!PublicKey.TryParse(keyText, out var publicKey, out var keyError))
                {
                    console.Fail($"--key: {keyError.Message}");
                    return 1;
                }

                SignedPacket.TryFromRelayPayload(publicKey, bytes, out packet, out error);
            }
            else
            {
                SignedPacket.TryFromBytes(bytes, out packet, out error);
            }

            if (packet is null)
            {
                console.Fail($"not a valid signed packet: {error.Message}");
                return 1;
            }

            if (result.GetValue(json))
            {
                PacketOutput.WriteJson(console.Out, packet);
            }
            else
            {
                PacketOutput.WriteText(console.Out, packet);
            }

            return 0;
        }));
        return command;
    }

    private static byte[]? ReadInput(CliConsole console, string? argument, FileInfo? file)
    {
        if (file is not null && argument is not null)
        {
            console.Fail("give the packet either as an argument or with --file, not both");
            return null;
        }

        byte[] raw;
        if (file is not null)
        {
            raw = File.ReadAllBytes(file.FullName);
        }
        else if (argument is null or "-")
        {
            using var stdin = console.OpenInput();
            using var buffer = new MemoryStream();
            stdin.CopyTo(buffer);
            raw = buffer.ToArray();
        }
        else
        {
            return DecodeHex(console, argument);
        }

        // Files and standard input hold either hex text or the raw bytes.
        string text = Encoding.ASCII.GetString(raw).Trim();
        bool looksHex = text.Length > 0 && text.All(Uri.IsHexDigit);
        return looksHex ? DecodeHex(console, text) : raw;
    }

    private static byte[]? DecodeHex(CliConsole console, string hex)
    {
        hex = hex.Trim();
        if (hex.Length % 2 != 0 || !hex.All(Uri.IsHexDigit))
        {
            console.Fail("the packet is not valid hex (expected an even number of 0-9a-f characters)");
            return null;
        }

        return Convert.FromHexString(hex);
    }
}
