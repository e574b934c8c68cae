using System.CommandLine;

namespace Pkarr.Cli.Commands.Dht;

/// <summary><c>pkarr dht</c>: the Mainline DHT directly — run a node, get and put BEP 44 items.</summary>
internal static class DhtCommand
{
    internal static Command Create(CliConsole console) =>
        new("dht", "Use the Mainline DHT directly: run a node, get and put BEP 44 mutable and immutable items.")
        {
            NodeCommand.Create(console),
            GetMutableCommand.Create(console),
            PutMutableCommand.Create(console),
            GetImmutableCommand.Create(console),
            PutImmutableCommand.Create(console),
        };
}
