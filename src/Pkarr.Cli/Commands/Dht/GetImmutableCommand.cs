using System.CommandLine;

namespace Pkarr.Cli.Commands.Dht;

/// <summary><c>pkarr dht get-immutable</c>: fetch a BEP 44 immutable item by its target.</summary>
internal static class GetImmutableCommand
{
    internal static Command Create(CliConsole console)
    {
        var common = new DhtCommonOptions();
        var target = new Argument<string>("target")
        {
            Description = "The item's target: 40 hex characters, the SHA-1 that put-immutable printed.",
        };

        var command = new Command("get-immutable", "Fetch an immutable item (BEP 44); only a value that hashes to the target is accepted.")
        {
            target,
        };
        common.AddTo(command);
        command.SetAction((result, interrupt) => DhtInvocation.RunAsync(console, common, result, async run =>
        {
            var id = DhtArguments.Target(result.GetValue(target)!);

            await using var dht = await run.StartClientAsync().ConfigureAwait(false);
            if (await dht.GetImmutableAsync(id, run.Token).ConfigureAwait(false) is not { } value)
            {
                run.Console.Fail(await run.NoNodeAnsweredAsync(dht).ConfigureAwait(false)
                    ? DhtErrors.NoNodeAnswered
                    : DhtErrors.ImmutableNotFound(id));
                return 1;
            }

            run.Print(
                new DhtField("target", id.ToString(), JsonOnly: true),
                new DhtField("value_hex", Convert.ToHexStringLower(value)),
                new DhtField("value_text", DhtInvocation.TextOf(value)));
            return 0;
        }, interrupt));
        return command;
    }
}
