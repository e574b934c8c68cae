// Every message a `pkarr dht` command fails with, in one place so they stay consistent. Each says what went
// wrong and what to do next; CliConsole prints them as one `error: ...` line with exit code 1.
using System.Globalization;
using Mainline;

namespace Pkarr.Cli.Commands.Dht;

internal static class DhtErrors
{
    /// <summary>Hint appended when the network, not the item, is the likely problem.</summary>
    private const string CheckNetwork = "check --bootstrap or your network";

    internal static FormatException BadHex(string what, string text) =>
        new($"{what} is not valid hex (expected an even number of 0-9a-f characters): '{Shorten(text)}'");

    internal static FormatException WrongLength(string what, int expected, int actual) =>
        new($"{what} must be {expected} bytes ({expected * 2} hex characters), got {actual} bytes");

    internal static FormatException TooLong(string what, int limit, int actual) =>
        new($"{what} is {actual} bytes; BEP 44 allows at most {limit}");

    internal static FormatException BadKey(string text, string reason) =>
        new($"'{Shorten(text)}' is not a public key (64 hex characters, 52 z-base32 characters or a pk: URI): {reason}");

    internal static FormatException BadTarget(string text) =>
        new($"'{Shorten(text)}' is not a target: expected 40 hex characters (the SHA-1 printed by put-immutable)");

    internal static FormatException BadEndpoint(string text) =>
        new($"--bootstrap '{text}' is not HOST:PORT (for example 127.0.0.1:6881 or router.bittorrent.com:6881)");

    internal static FormatException BadAddress(string text) =>
        new($"--bind '{text}' is not an IPv4 address (for example 0.0.0.0 or 127.0.0.1)");

    internal static ArgumentException NotPositive(string option, double value) =>
        new(string.Create(CultureInfo.InvariantCulture, $"{option} must be a number of seconds greater than 0, got {value}"));

    internal static ArgumentException Negative(string option, long value) =>
        new(string.Create(CultureInfo.InvariantCulture, $"{option} must not be negative (BEP 44 sequence numbers start at 0), got {value}"));

    internal static ArgumentException BadPort(int port) =>
        new(string.Create(CultureInfo.InvariantCulture, $"--port must be 1 to 65535, or 0 for any free port, got {port}"));

    internal static ArgumentException OneOf(string first, string second) =>
        new($"give either {first} or {second}, not both");

    internal static string TimedOut(TimeSpan timeout) =>
        string.Create(CultureInfo.InvariantCulture,
            $"timed out after {timeout.TotalSeconds} s: {CheckNetwork}, or raise --timeout");

    internal static string CannotBind(string reason) => $"cannot open the UDP socket: {reason}; pick another --port or --bind";

    internal static string NoNodeAnswered => $"no DHT node answered: {CheckNetwork}";

    internal static string MutableNotFound(string key, bool salted, long? moreRecentThan) =>
        $"no mutable item found for {key}{(salted ? " with this salt" : "")}"
        + (moreRecentThan is { } seq ? string.Create(CultureInfo.InvariantCulture, $" with a seq greater than {seq}") : "")
        + ": it was never stored, has expired (republish it) or the key or salt is wrong";

    internal static string ImmutableNotFound(NodeId target) =>
        $"no immutable item found for {target}: it was never stored, has expired (put it again) or the target is wrong";

    /// <summary>The reason a put failed, as the user should act on it.</summary>
    internal static string PutFailed(PutResult result, long? seq, long? cas) => result.Status switch
    {
        PutStatus.NoClosestNodes => $"no DHT node offered to store {result.Target} (none returned a write token): {CheckNetwork}",
        PutStatus.Timeout => $"no DHT node answered the put of {result.Target}: {CheckNetwork}",
        PutStatus.CasFailed => string.Create(CultureInfo.InvariantCulture,
            $"the stored item's seq is not --cas {cas} (error 301): read it with get-mutable and retry with its seq as --cas"),
        PutStatus.NotMostRecent => string.Create(CultureInfo.InvariantCulture,
            $"seq {seq} is not newer than the stored item's (error 302): read it with get-mutable and use a higher --seq"),
        PutStatus.ConflictRisk => "another put for the same target is running: wait for it or pass --cas",
        PutStatus.ErrorResponse => string.Create(CultureInfo.InvariantCulture,
            $"DHT nodes refused the put with error {result.ErrorCode?.ToString(CultureInfo.InvariantCulture) ?? "?"}: check the value, salt and seq"),
        _ => $"the put ended with {result.Status}",
    };

    /// <summary>Long inputs are cut in messages so the error stays one readable line.</summary>
    private static string Shorten(string text) => text.Length <= 80 ? text : text[..77] + "...";
}
