// Which endpoints a node sends to, and which it takes from its peers' node lists (issue 9, High 2).
using System.Net;
using System.Net.Sockets;

namespace Mainline.Rpc;

internal static class Endpoints
{
    /// <summary>
    /// False for endpoints no datagram should go to: port 0, 0.0.0.0/8 ("this network": Linux delivers
    /// 0.0.0.0 to the local host, so a peer could aim our queries at our own machine), 224.0.0.0/4 (multicast)
    /// and 240.0.0.0/4 (reserved, with the broadcast address 255.255.255.255). IPv4 only, as the node.
    /// </summary>
    public static bool IsUsable(IPEndPoint endPoint)
    {
        if (endPoint.Port == 0 || endPoint.AddressFamily != AddressFamily.InterNetwork)
        {
            return false;
        }

        Span<byte> a = stackalloc byte[4];
        return endPoint.Address.TryWriteBytes(a, out var written) && written == 4 && a[0] != 0 && a[0] < 224;
    }

    /// <summary>
    /// Whether a node entry listed by a peer may become a lookup candidate: usable, and not loopback, private or
    /// link-local unless this node runs on a private network itself. On the public DHT such entries point into
    /// our own host or LAN (a peer can aim our queries there) and can never be the nodes a target lives on.
    /// </summary>
    public static bool AcceptsFromPeer(IPEndPoint endPoint, bool privateNetwork) =>
        IsUsable(endPoint) && (privateNetwork || !NodeId.IsExempt(endPoint.Address));

    /// <summary>The /24 network: the first three bytes of an IPv4 address (mapped ones too); null for IPv6, which this node does not use.</summary>
    public static int? Network24(IPAddress address)
    {
        Span<byte> b = stackalloc byte[4];
        return TryIPv4(address, b) ? (b[0] << 16) | (b[1] << 8) | b[2] : null;
    }

    /// <summary>The four bytes of an IPv4 address, IPv4-mapped IPv6 ones included; false for any other IPv6 address.</summary>
    public static bool TryIPv4(IPAddress address, Span<byte> bytes)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return address.AddressFamily == AddressFamily.InterNetwork && address.TryWriteBytes(bytes, out _);
    }
}
