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

    internal static ArgumentException InvalidScheme(string scheme) =>
        new($"'{scheme}' is not a URI scheme usable in a service name: a letter, then letters, digits, '+' or '-'.", nameof(scheme));

    internal static HttpRequestException NoEndpoint(string host) =>
        new(HttpRequestError.NameResolutionError,
            $"'{host}' is a pkarr name without an HTTPS endpoint: its packet could not be resolved, or none of its HTTPS records leads to an address.");

    internal static HttpRequestException NoEndpointReachable(string host, IReadOnlyList<Exception> failures) =>
        new(HttpRequestError.ConnectionError,
            $"No HTTPS endpoint of the pkarr name '{host}' accepted a connection ({failures.Count} addresses tried).",
            new AggregateException(failures));

    internal static ArgumentException InvalidBootstrap(string text) =>
        new($"'{text}' is not a DHT bootstrap node: write host:port, 1.2.3.4:port or [v6]:port.");

    internal static InvalidOperationException UpdateConflict(Keys.PublicKey key, int attempts) =>
        new(Invariant($"The packet of {key} kept changing under this update: {attempts} attempts all met a newer packet. Retry later."));

    internal static InvalidDataException CorruptKeySet(string path, FormattableString reason, Exception? inner = null) =>
        new(Invariant($"The republisher's key set '{path}' cannot be read: {reason.ToString(CultureInfo.InvariantCulture)}. Fix or delete the file (a missing file is an empty key set)."), inner);

    internal static ArgumentException InvalidRepublisherOptions(IReadOnlyList<string> failures, string paramName) =>
        new("Invalid republisher options: " + string.Join(" ", failures), paramName);

    internal static ArgumentException PacketOfAnotherKey(Keys.PublicKey key, Keys.PublicKey signer, string paramName) =>
        new($"The packet given for {key} is signed by another key ({signer}).", paramName);

    internal static InvalidOperationException RepublisherAlreadyStarted() =>
        new("The republisher is already running; stop it before starting it again.");

    internal static InvalidOperationException NoTimestampAbove(Keys.PublicKey key, Packets.Timestamp seen) =>
        new(Invariant($"The key {key} already has a value with timestamp {seen.Microseconds}: no newer packet fits a DHT seq (at most 2^63 - 1)."));

    internal static ArgumentOutOfRangeException Invariant(string paramName, object? value, FormattableString message) =>
        new(paramName, value, message.ToString(CultureInfo.InvariantCulture));

    internal static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
