// Every exception the client throws is built here, so messages stay consistent and call sites stay short.

using System.Globalization;

namespace Pkarr.Client;

internal static class Error
{
    internal static ArgumentNullException ArgumentNull(string paramName) => new(paramName);

    internal static ArgumentOutOfRangeException UnknownPolicy(ResolvePolicy policy) =>
        new(nameof(policy), policy, "Not a resolve policy.");

    internal static PublishException PublishFailed(PublishResult result) => new(result);

    internal static ResolveException ResolveFailed(Keys.PublicKey key, ResolveError error) => new(key, error);

    internal static InvalidOperationException NoNetwork() =>
        new("The client has no network: enable the DHT (UseDht) or give at least one relay (UseRelays and Relays).");

    internal static InvalidOperationException EmptyListOfRelays() =>
        new("Relays are enabled but the list of relays is empty: give at least one relay URL, or set UseRelays to false.");

    internal static ArgumentException InvalidRelayUrl(string url, string reason) =>
        new($"'{url}' is not a usable relay URL: {reason}.");


    internal static ArgumentException InvalidBootstrap(string text) =>
        new($"'{text}' is not a DHT bootstrap node: write host:port, 1.2.3.4:port or [v6]:port.");

    internal static InvalidOperationException UpdateConflict(Keys.PublicKey key, int attempts) =>
        new(Invariant($"The packet of {key} kept changing under this update: {attempts} attempts all met a newer packet. Retry later."));

    internal static InvalidOperationException NoTimestampAbove(Keys.PublicKey key, Packets.Timestamp seen) =>
        new(Invariant($"The key {key} already has a value with timestamp {seen.Microseconds}: no newer packet fits a DHT seq (at most 2^63 - 1)."));

    internal static ArgumentOutOfRangeException Invariant(string paramName, object? value, FormattableString message) =>
        new(paramName, value, message.ToString(CultureInfo.InvariantCulture));

    internal static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
