// The store's exceptions: a store that cannot be opened stops the relay at start, with the setting to fix.

namespace Pkarr.Relay;

internal static partial class Error
{
    internal static InvalidOperationException RedisUrlMissing() =>
        new("[cache] backend is \"redis\" but redis_url is not set: set it to the Redis server, e.g. redis://127.0.0.1:6379/0");

    internal static InvalidOperationException RedisUrlInvalid(string url, string reason, Exception? inner = null) =>
        new($"[cache] redis_url \"{url}\" is not a Redis URL (redis://[[user]:password@]host[:port][/db]) nor a StackExchange.Redis configuration string: {reason}", inner);

    internal static InvalidOperationException RedisUnreachable(string location, string url, Exception inner) =>
        new($"Cannot connect to the Redis store {location} ([cache] redis_url \"{url}\"): {inner.Message}", inner);

    internal static InvalidOperationException SqliteUnopenable(string file, Exception inner) =>
        new($"Cannot open the SQLite store {file} ([cache] path): {inner.Message}", inner);
}
