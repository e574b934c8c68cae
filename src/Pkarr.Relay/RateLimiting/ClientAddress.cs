// The "real client IP" the HTTP and user-DHT limits are keyed by (shared spec pkarr.md §6.5). With behind_proxy off
// it is the TCP peer; with it on, the first of X-Forwarded-For (its first entry that parses as an IP), X-Real-IP,
// Forwarded (RFC 7239 for=), then the peer. Clients write these headers themselves, so they are trusted only when an
// operator says a proxy in front rewrites them.
//
// Addresses parse strictly: an IPv4 address is a dotted quad of decimal octets (no "127.1", no octal "010.0.0.1",
// which .NET's IPAddress.Parse would accept and turn into some other address), an IPv6 address has no brackets,
// zone or port (except in Forwarded, whose syntax brackets it and may add a port).

using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Pkarr.Relay.RateLimiting;

internal static class ClientAddress
{
    /// <summary>The key of clients whose address is unknown (no TCP peer, e.g. a Unix socket): they share one bucket.</summary>
    public static readonly IPAddress Unknown = IPAddress.None;

    /// <summary>The real client IP of <paramref name="context"/>.</summary>
    public static IPAddress Of(HttpContext context, bool behindProxy) =>
        Resolve(context.Request.Headers, context.Connection.RemoteIpAddress, behindProxy);

    /// <summary>The real client IP from the request's headers and its TCP peer; IPv4-mapped IPv6 addresses become
    /// IPv4 so that one client has one key.</summary>
    public static IPAddress Resolve(IHeaderDictionary headers, IPAddress? peer, bool behindProxy)
    {
        if (behindProxy
            && (FromForwardedFor(headers["X-Forwarded-For"])
                ?? FromList(headers["X-Real-IP"])
                ?? FromForwarded(headers["Forwarded"])) is { } forwarded)
        {
            return Normalize(forwarded);
        }

        return peer is null ? Unknown : Normalize(peer);
    }

    /// <summary>Parses a bare IP address: a strict dotted quad, or IPv6 without brackets, zone or port.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, [NotNullWhen(true)] out IPAddress? address)
    {
        address = null;
        text = text.Trim();
        if (text.IsEmpty)
        {
            return false;
        }

        if (text.Contains(':'))
        {
            return text.IndexOfAny('[', '%', '/') < 0
                && IPAddress.TryParse(text, out address) && address.AddressFamily == AddressFamily.InterNetworkV6;
        }

        return IsDottedQuad(text) && IPAddress.TryParse(text, out address);
    }

    private static IPAddress? FromForwardedFor(StringValues values)
    {
        foreach (string? value in values)
        {
            foreach (var range in value.AsSpan().Split(','))
            {
                if (TryParse(value.AsSpan()[range], out var address))
                {
                    return address;
                }
            }
        }

        return null;
    }

    private static IPAddress? FromList(StringValues values)
    {
        foreach (string? value in values)
        {
            if (TryParse(value, out var address))
            {
                return address;
            }
        }

        return null;
    }

    /// <summary>The first <c>for=</c> of RFC 7239 that names an IP: <c>for=192.0.2.60</c>, <c>for="192.0.2.60:80"</c>,
    /// <c>for="[2001:db8::17]:4711"</c>; obfuscated names (<c>for=_hidden</c>, <c>for=unknown</c>) are skipped.</summary>
    private static IPAddress? FromForwarded(StringValues values)
    {
        foreach (string? value in values)
        {
            var header = value.AsSpan();
            foreach (var element in header.SplitAny(",;"))
            {
                var pair = header[element].Trim();
                int equals = pair.IndexOf('=');
                if (equals < 0 || !pair[..equals].Trim().Equals("for", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                if (TryParseNode(pair[(equals + 1)..].Trim(), out var address))
                {
                    return address;
                }
            }
        }

        return null;
    }

    /// <summary>An RFC 7239 node: an optionally quoted IPv4 address or bracketed IPv6 address, each with an optional
    /// port.</summary>
    private static bool TryParseNode(ReadOnlySpan<char> node, [NotNullWhen(true)] out IPAddress? address)
    {
        if (node.Length >= 2 && node[0] == '"' && node[^1] == '"')
        {
            node = node[1..^1];
        }

        if (node.StartsWith('['))
        {
            int close = node.IndexOf(']');
            address = null;
            return close > 0 && (close == node.Length - 1 || node[close + 1] == ':')
                && TryParse(node[1..close], out address) && address.AddressFamily == AddressFamily.InterNetworkV6;
        }

        // "a.b.c.d:port": one colon ends an IPv4 address; more than one is an (unbracketed) IPv6 address.
        int colon = node.IndexOf(':');
        if (colon >= 0 && node.LastIndexOf(':') == colon)
        {
            node = node[..colon];
        }

        return TryParse(node, out address);
    }

    private static bool IsDottedQuad(ReadOnlySpan<char> text)
    {
        int parts = 0;
        foreach (var range in text.Split('.'))
        {
            var part = text[range];
            if (++parts > 4 || part.Length is 0 or > 3 || (part.Length > 1 && part[0] == '0') || !IsDigits(part)
                || int.Parse(part, provider: System.Globalization.CultureInfo.InvariantCulture) > 255)
            {
                return false;
            }
        }

        return parts == 4;
    }

    private static bool IsDigits(ReadOnlySpan<char> text) => !text.ContainsAnyExceptInRange('0', '9');

    private static IPAddress Normalize(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        // A zone (fe80::1%eth0) does not make another client.
        return address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0
            ? new IPAddress(address.GetAddressBytes())
            : address;
    }
}
