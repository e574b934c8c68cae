// The one text form of a DHT node's address, for bootstrap lists in configuration files and on command lines:
//   host:port       → DnsEndPoint   (a DNS name, resolved when a node starts)
//   a.b.c.d:port    → IPEndPoint    (dotted-quad IPv4, four decimal parts 0..255)
//   [v6]:port       → IPEndPoint    (an IPv6 literal in brackets)
// with a decimal port 1..65535. Nothing else is accepted: no port 0, no bare IPv6, no legacy IPv4 forms ("1.2.3").
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Mainline;

/// <summary>Parses bootstrap endpoints: <c>host:port</c>, <c>a.b.c.d:port</c> or <c>[v6]:port</c>.</summary>
public static class DhtEndPoint
{
    /// <summary>Parses <paramref name="text"/> into a <see cref="DnsEndPoint"/> or an <see cref="IPEndPoint"/>.</summary>
    /// <exception cref="FormatException">When the text is not one of the accepted forms.</exception>
    public static EndPoint Parse(string text) =>
        TryParse(text, out var endPoint) ? endPoint : throw Error.BadEndPoint(text);

    /// <summary>Parses <paramref name="text"/>; false (never an exception) when it is not one of the accepted forms.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out EndPoint? endPoint)
    {
        endPoint = null;
        var colon = text?.LastIndexOf(':') ?? -1;
        if (colon <= 0 || !TryParsePort(text.AsSpan(colon + 1), out var port))
        {
            return false;
        }

        var host = text.AsSpan(0, colon);
        if (host[0] == '[')
        {
            if (host.Length > 2 && host[^1] == ']' && IPAddress.TryParse(host[1..^1], out var v6)
                && v6.AddressFamily == AddressFamily.InterNetworkV6)
            {
                endPoint = new IPEndPoint(v6, port);
            }
        }
        else if (!host.ContainsAnyExcept(DigitsAndDots))
        {
            if (TryParseDottedQuad(host, out var v4))
            {
                endPoint = new IPEndPoint(v4, port);
            }
        }
        else
        {
            var name = host.ToString();
            if (Uri.CheckHostName(name) == UriHostNameType.Dns)
            {
                endPoint = new DnsEndPoint(name, port);
            }
        }

        return endPoint is not null;
    }

    private static readonly System.Buffers.SearchValues<char> DigitsAndDots = System.Buffers.SearchValues.Create("0123456789.");

    private static bool TryParsePort(ReadOnlySpan<char> text, out int port) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is >= 1 and <= 65535;

    private static bool TryParseDottedQuad(ReadOnlySpan<char> text, [NotNullWhen(true)] out IPAddress? address)
    {
        address = null;
        Span<byte> bytes = stackalloc byte[4];
        var part = 0;
        foreach (var range in text.Split('.'))
        {
            if (part == 4 || !byte.TryParse(text[range], NumberStyles.None, CultureInfo.InvariantCulture, out bytes[part]))
            {
                return false;
            }

            part++;
        }

        if (part != 4)
        {
            return false;
        }

        address = new IPAddress(bytes);
        return true;
    }
}
