using System.CommandLine;
using Mainline;
using Pkarr.Keys;

namespace Pkarr.Cli.Commands.Dht;

/// <summary><c>pkarr dht get-mutable</c>: look up a BEP 44 mutable item and print its verified values.</summary>
internal static class GetMutableCommand
{
    internal static Command Create(CliConsole console)
    {
        var common = new DhtCommonOptions();
        var key = new Argument<string>("key")
        {
            Description = "The writer's public key: 64 hex characters, 52 z-base32 characters or a pk: URI.",
        };
        var (salt, saltHex) = DhtCommonOptions.SaltOptions();
        var seq = new Option<long?>("--seq")
        {
            Description = "Only items with a seq greater than N (sent to the nodes, which then skip older items).",
            HelpName = "N",
        };
        var mostRecent = new Option<bool>("--most-recent")
        {
            Description = "Wait for the whole lookup and print only the most recent item (highest seq).",
        };

        var command = new Command("get-mutable", "Look up a mutable item (BEP 44) and print each distinct verified value as it arrives.")
        {
            key,
            salt,
            saltHex,
            seq,
            mostRecent,
        };
        common.AddTo(command);
        command.SetAction((result, interrupt) => DhtInvocation.RunAsync(console, common, result, async run =>
        {
            var publicKey = DhtArguments.Key(result.GetValue(key)!);
            byte[]? saltBytes = DhtArguments.Salt(result.GetValue(salt), result.GetValue(saltHex));
            long? moreRecentThan = result.GetValue(seq);
            DhtArguments.RequireNotNegative("--seq", moreRecentThan);
            byte[] keyBytes = publicKey.Bytes.ToArray();

            await using var dht = await run.StartClientAsync().ConfigureAwait(false);
            int printed = 0;
            if (result.GetValue(mostRecent))
            {
                // The detailed get, unlike GetMutableMostRecentAsync, sends --seq to the nodes.
                var outcome = await dht.GetMutableDetailedAsync(keyBytes, saltBytes, moreRecentThan, run.Token).ConfigureAwait(false);
                if (outcome.MostRecent is { } item)
                {
                    Print(run, publicKey, item);
                    printed++;
                }
            }
            else
            {
                // One line per distinct item: the stream yields each once, however many nodes hold it.
                try
                {
                    await foreach (var item in dht.GetMutableAsync(keyBytes, saltBytes, moreRecentThan, run.Token).ConfigureAwait(false))
                    {
                        Print(run, publicKey, item);
                        printed++;
                    }
                }
                catch (OperationCanceledException) when (run.TimedOut && printed > 0)
                {
                    // The lookup was cut short, but what it found is printed: a success.
                    return 0;
                }
            }

            if (printed > 0)
            {
                return 0;
            }

            run.Console.Fail(await run.NoNodeAnsweredAsync(dht).ConfigureAwait(false)
                ? DhtErrors.NoNodeAnswered
                : DhtErrors.MutableNotFound(publicKey.ToString(), saltBytes is not null, moreRecentThan));
            return 1;
        }, interrupt));
        return command;
    }

    private static void Print(DhtInvocation run, PublicKey key, MutableItem item) => run.Print(
        new DhtField("public_key", key.ToString(), JsonOnly: true),
        new DhtField("salt_hex", item.Salt.IsEmpty ? null : Convert.ToHexStringLower(item.Salt.Span)),
        new DhtField("seq", item.Seq),
        new DhtField("value_hex", Convert.ToHexStringLower(item.Value.Span)),
        new DhtField("value_text", DhtInvocation.TextOf(item.Value.ToArray())),
        new DhtField("signature", Convert.ToHexStringLower(item.Signature.Span), JsonOnly: true),
        new DhtField("target", item.Target.ToString(), JsonOnly: true));
}
