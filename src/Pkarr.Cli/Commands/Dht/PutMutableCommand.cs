using System.CommandLine;
using System.Security.Cryptography;
using Mainline;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Cli.Commands.Dht;

/// <summary><c>pkarr dht put-mutable</c>: sign a value with a secret-key file and store it as a BEP 44 mutable item.</summary>
internal static class PutMutableCommand
{
    internal static Command Create(CliConsole console)
    {
        var common = new DhtCommonOptions();
        var secret = PubkeyCommand.SecretOption();
        var value = new Option<string>("--value-hex")
        {
            Description = "The value as hex, at most 1000 bytes.",
            HelpName = "HEX",
            Required = true,
        };
        var seq = new Option<long?>("--seq")
        {
            Description = "The sequence number; it must exceed the stored item's (default: the current time in microseconds).",
            HelpName = "N",
        };
        var (salt, saltHex) = DhtCommonOptions.SaltOptions();
        var cas = new Option<long?>("--cas")
        {
            Description = "Store only if the item's current seq is N (compare-and-swap; nodes answer error 301 otherwise).",
            HelpName = "N",
        };

        var command = new Command("put-mutable", "Sign a value and store it on the DHT as a mutable item (BEP 44).")
        {
            secret,
            value,
            seq,
            salt,
            saltHex,
            cas,
        };
        common.AddTo(command);
        command.SetAction((result, interrupt) => DhtInvocation.RunAsync(console, common, result, async run =>
        {
            byte[] bytes = DhtArguments.Value(result.GetValue(value)!, "--value-hex");
            byte[]? saltBytes = DhtArguments.Salt(result.GetValue(salt), result.GetValue(saltHex));
            // The DHT's seq is pkarr's timestamp: microseconds, strictly increasing within this process.
            long sequence = result.GetValue(seq) ?? (long)Timestamp.Now().Microseconds;
            long? expected = result.GetValue(cas);
            DhtArguments.RequireNotNegative("--seq", sequence);
            DhtArguments.RequireNotNegative("--cas", expected);
            var (item, publicKey) = Sign(result.GetValue(secret)!.FullName, bytes, sequence, saltBytes);

            await using var dht = await run.StartClientAsync().ConfigureAwait(false);
            var put = await dht.PutMutableAsync(item, expected, run.Token).ConfigureAwait(false);
            if (!put.Succeeded)
            {
                run.Console.Fail(DhtErrors.PutFailed(put, sequence, expected));
                return 1;
            }

            run.Print(
                new DhtField("public_key", publicKey.ToString(), JsonOnly: true),
                new DhtField("target", put.Target.ToString()),
                new DhtField("seq", item.Seq),
                new DhtField("stored_on", put.StoredOn));
            return 0;
        }, interrupt));
        return command;
    }

    /// <summary>Signs with the file's 32-byte seed: Mainline signs BEP 44 items itself and takes the raw seed.</summary>
    private static (MutableItem Item, PublicKey Key) Sign(string secretFile, byte[] value, long seq, byte[]? salt)
    {
        using var keypair = Keypair.FromSecretKeyFile(secretFile);
        byte[] seed = keypair.SecretKey();
        try
        {
            return (MutableItem.Sign(seed, value, seq, salt), keypair.PublicKey);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }
}
