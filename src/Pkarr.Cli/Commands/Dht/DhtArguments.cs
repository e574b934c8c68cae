// Turns the text a user typed into DHT values. Every method throws a FormatException or ArgumentException from
// DhtErrors, which CliConsole prints as one line; nothing here touches the network.
using System.Net;
using System.Text;
using Mainline;
using Pkarr.Keys;

namespace Pkarr.Cli.Commands.Dht;

internal static class DhtArguments
{
    /// <summary>Hex of any even length, empty included.</summary>
    internal static byte[] Hex(string text, string what)
    {
        var hex = text.AsSpan().Trim();
        if (hex.Length % 2 != 0 || hex.ContainsAnyExcept(HexDigits))
        {
            throw DhtErrors.BadHex(what, text);
        }

        return Convert.FromHexString(hex);
    }

    /// <summary>A BEP 44 value given as hex.</summary>
    internal static byte[] Value(string hex, string what)
    {
        var value = Hex(hex, what);
        return value.Length <= MutableItem.MaxValueLength ? value : throw DhtErrors.TooLong(what, MutableItem.MaxValueLength, value.Length);
    }

    /// <summary>An Ed25519 public key as 64 hex characters or in any form pkarr accepts (z-base32, pk: URI, domain).</summary>
    internal static PublicKey Key(string text)
    {
        var trimmed = text.Trim();
        PublicKeyError error;
        if (trimmed.Length == PublicKey.Length * 2 && !trimmed.AsSpan().ContainsAnyExcept(HexDigits))
        {
            if (PublicKey.TryFromBytes(Convert.FromHexString(trimmed), out var fromHex, out error))
            {
                return fromHex;
            }
        }
        else if (PublicKey.TryParse(trimmed, out var parsed, out error))
        {
            return parsed;
        }

        throw DhtErrors.BadKey(text, error.Message);
    }

    /// <summary>An immutable item's target: 40 hex characters.</summary>
    internal static NodeId Target(string text) =>
        NodeId.TryParse(text.Trim(), null, out var target) ? target : throw DhtErrors.BadTarget(text);

    /// <summary>The salt from <c>--salt TEXT</c> (UTF-8) or <c>--salt-hex HEX</c>; null when neither is given.</summary>
    internal static byte[]? Salt(string? text, string? hex)
    {
        if (text is not null && hex is not null)
        {
            throw DhtErrors.OneOf("--salt", "--salt-hex");
        }

        var salt = text is not null ? Encoding.UTF8.GetBytes(text) : hex is not null ? Hex(hex, "--salt-hex") : null;
        return salt is null || salt.Length <= MutableItem.MaxSaltLength ? salt : throw DhtErrors.TooLong("the salt", MutableItem.MaxSaltLength, salt.Length);
    }

    /// <summary>Parses HOST:PORT entries with the library's parser; null (no option) means the library's default
    /// public bootstrap nodes.</summary>
    internal static IList<EndPoint>? Bootstrap(string[]? entries)
    {
        if (entries is null || entries.Length == 0)
        {
            return null;
        }

        var endPoints = new List<EndPoint>(entries.Length);
        foreach (var entry in entries)
        {
            endPoints.Add(DhtEndPoint.TryParse(entry, out var endPoint) ? endPoint : throw DhtErrors.BadEndpoint(entry));
        }

        return endPoints;
    }

    /// <summary>
    /// The address to bind: <paramref name="explicitAddress"/> if given; loopback when every bootstrap node is a
    /// loopback address (a private test network needs no wider socket); otherwise every IPv4 interface.
    /// </summary>
    internal static IPAddress BindAddress(string? explicitAddress, IList<EndPoint>? bootstrap)
    {
        if (explicitAddress is not null)
        {
            return IPAddress.TryParse(explicitAddress, out var address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
                ? address
                : throw DhtErrors.BadAddress(explicitAddress);
        }

        bool allLoopback = bootstrap is { Count: > 0 } && bootstrap.All(entry => entry is IPEndPoint ip && IPAddress.IsLoopback(ip.Address));
        return allLoopback ? IPAddress.Loopback : IPAddress.Any;
    }

    internal static void RequirePositive(string option, double seconds)
    {
        if (!(seconds > 0) || double.IsInfinity(seconds))
        {
            throw DhtErrors.NotPositive(option, seconds);
        }
    }

    internal static void RequireNotNegative(string option, long? seq)
    {
        if (seq is < 0)
        {
            throw DhtErrors.Negative(option, seq.Value);
        }
    }

    private static readonly System.Buffers.SearchValues<char> HexDigits =
        System.Buffers.SearchValues.Create("0123456789abcdefABCDEF");
}
