// All exceptions of the library are built here, so messages stay consistent (style: errors from one place).
namespace Mainline;

internal static class Error
{
    public static InvalidOperationException DuplicateKey() =>
        new("A bencode dictionary was built with a duplicate key; keys must be unique.");

    public static ArgumentException InvalidLength(string paramName, int expected, int actual) =>
        new($"{paramName} must be {expected} bytes, got {actual}.", paramName);

    public static ArgumentException ValueTooLarge(int length, string paramName) =>
        new($"A BEP 44 value may be at most {MutableItem.MaxValueLength} bytes, got {length}.", paramName);

    public static ArgumentException SaltTooLarge(int length, string paramName) =>
        new($"A BEP 44 salt may be at most {MutableItem.MaxSaltLength} bytes, got {length}.", paramName);

    public static ArgumentException NegativeSeq(long seq, string paramName) =>
        new($"A BEP 44 sequence number must not be negative, got {seq}.", paramName);

    public static FormatException InvalidHex(string what) => new($"{what} is not valid hexadecimal of the right length.");

    public static ObjectDisposedException Stopped() => new("Dht", "The DHT node has been shut down.");

    public static ArgumentOutOfRangeException OutOfRange(string paramName, object? value, string message) =>
        new(paramName, value, message);

    public static FormatException BadEndPoint(string? text) =>
        new($"'{text}' is not a DHT endpoint: expected host:port, a.b.c.d:port or [IPv6]:port with a port 1..65535.");

    public static ArgumentException InvalidOptions(IEnumerable<string> failures, string paramName) =>
        new($"Invalid DHT options: {string.Join(" ", failures)}", paramName);
}
