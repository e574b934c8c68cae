using System.CommandLine;

namespace Pkarr.Cli.Commands.Dht;

/// <summary><c>pkarr dht put-immutable</c>: store a value as a BEP 44 immutable item.</summary>
internal static class PutImmutableCommand
{
    internal static Command Create(CliConsole console)
    {
        var common = new DhtCommonOptions();
        var value = new Option<string>("--value-hex")
        {
            Description = "The value as hex, at most 1000 bytes.",
            HelpName = "HEX",
            Required = true,
        };

        var command = new Command("put-immutable", "Store a value on the DHT as an immutable item (BEP 44) and print its target.")
        {
            value,
        };
        common.AddTo(command);
        command.SetAction((result, interrupt) => DhtInvocation.RunAsync(console, common, result, async run =>
        {
            byte[] bytes = DhtArguments.Value(result.GetValue(value)!, "--value-hex");

            await using var dht = await run.StartClientAsync().ConfigureAwait(false);
            var put = await dht.PutImmutableAsync(bytes, run.Token).ConfigureAwait(false);
            if (!put.Succeeded)
            {
                run.Console.Fail(DhtErrors.PutFailed(put, seq: null, cas: null));
                return 1;
            }

            run.Print(new DhtField("target", put.Target.ToString()), new DhtField("stored_on", put.StoredOn));
            return 0;
        }, interrupt));
        return command;
    }
}
