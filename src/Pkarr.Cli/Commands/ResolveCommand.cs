using System.CommandLine;
using Pkarr.Cli.Commands.Dht;
using Pkarr.Client;

namespace Pkarr.Cli.Commands;

/// <summary>
/// <c>pkarr resolve</c>: the most recent packet of a key, from the cache, the DHT and the relays as the policy
/// says, printed as <c>pkarr inspect</c> prints a packet (with when it was last seen).
/// </summary>
internal static class ResolveCommand
{
    internal static Command Create(CliConsole console)
    {
        var network = new NetworkOptions();
        var key = new Argument<string>("key")
        {
            Description = "The public key: z-base32, a pk: URI, a domain or URL ending in the key, or 64 hex characters.",
        };
        var policy = new Option<string>("--policy", "-p")
        {
            Description = "cache-only: the cache (any age), then the relays' caches, never the DHT; cache-first: a fresh "
                + "cached packet, else the network; network-only: the network, ignoring the cache.",
            HelpName = "cache-only|cache-first|network-only",
            DefaultValueFactory = _ => "cache-first",
        };
        var command = new Command(
            "resolve",
            "Resolve a key to its most recent signed packet and print its records as a zone file (or JSON). "
            + "Exits 3 when nobody has a packet, 4 when the key's value is not a DNS packet, 2 on network errors.")
        {
            key,
            policy,
        };
        network.AddTo(command);
        command.SetAction((result, interrupt) => network.RunAsync(console, result, async run =>
        {
            var publicKey = DhtArguments.Key(result.GetValue(key)!);
            var resolvePolicy = ParsePolicy(result.GetValue(policy)!);
            string? cachePath = network.CachePath(result);

            await using var client = await network.CreateClientAsync(run, result).ConfigureAwait(false);
            ResolveResult resolved;
            await using (TerminalProgress.Start(console, $"resolving {publicKey}"))
            {
                resolved = await client.ResolveAsync(publicKey, resolvePolicy, run.Token).ConfigureAwait(false);
            }

            if (!resolved.Found)
            {
                var (message, exitCode) = CliErrors.ResolveFailed(publicKey, resolved.Error, resolvePolicy, cachePath, client.RelayUrls.Count > 0);
                console.Fail(message);
                return exitCode;
            }

            if (run.Json)
            {
                PacketOutput.WriteJson(console.Out, resolved.Packet, resolved.Entry.LastSeen);
            }
            else
            {
                PacketOutput.WriteText(console.Out, resolved.Entry, client.TimeProvider);
            }

            return ExitCodes.Success;
        }, interrupt));
        return command;
    }

    /// <summary>The policy names of the command line, or the relays' own (<c>CacheOnly</c>…).</summary>
    internal static ResolvePolicy ParsePolicy(string text) => text.Trim() switch
    {
        "cache-only" => ResolvePolicy.CacheOnly,
        "cache-first" => ResolvePolicy.CacheFirst,
        "network-only" => ResolvePolicy.NetworkOnly,
        var other => ResolvePolicyText.TryParse(other, out var policy) ? policy : throw CliErrors.BadPolicy(text),
    };
}
