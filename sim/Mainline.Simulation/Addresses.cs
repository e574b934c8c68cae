// Node addresses and ids: unique public-looking IPv4 addresses and a BEP 42 secure id for each, all drawn from one
// seeded stream, so one seed always gives the same network.
using System.Buffers.Binary;
using System.Net;

namespace Mainline.Simulation;

/// <summary>Hands out unique public IPv4 addresses and BEP 42 secure ids from a seeded stream.</summary>
internal sealed class Addresses(SimRandom random)
{
    /// <summary>The UDP port every simulated node listens on (one node per address).</summary>
    public const int Port = 6881;

    private readonly HashSet<uint> _used = [];

    /// <summary>A fresh address that is public (not private, loopback, link-local, CGNAT, multicast, reserved,
    /// documentation or 0/8) and never handed out before in this run, so a departed node's address stays silent.</summary>
    public uint Next()
    {
        while (true)
        {
            var a = (uint)random.NextUInt64();
            if (TryClaim(a))
            {
                return a;
            }
        }
    }

    /// <summary>True when <paramref name="a"/> is public and not handed out yet: an address a host may still take.</summary>
    public bool IsFree(uint a) => IsPublic(a) && !_used.Contains(a);

    /// <summary>Hands out <paramref name="a"/> itself when it is free (a host that picks its address, as an attacker
    /// grinding ids does); false otherwise.</summary>
    public bool TryClaim(uint a) => IsPublic(a) && _used.Add(a);

    public static bool IsPublic(uint a)
    {
        var b0 = a >> 24;
        var b1 = (a >> 16) & 0xFF;
        var b2 = (a >> 8) & 0xFF;
        return b0 is not (0 or 10 or 127) && b0 < 224
            && !(b0 == 100 && (b1 & 0xC0) == 64)        // 100.64/10, carrier-grade NAT
            && !(b0 == 169 && b1 == 254)
            && !(b0 == 172 && (b1 & 0xF0) == 16)
            && !(b0 == 192 && b1 == 168)
            && !(b0 == 192 && b1 == 0 && b2 is 0 or 2)  // 192.0.0/24 protocol assignments, 192.0.2/24 TEST-NET-1
            && !(b0 == 198 && (b1 & 0xFE) == 18)        // 198.18/15 benchmarking
            && !(b0 == 198 && b1 == 51 && b2 == 100)    // TEST-NET-2
            && !(b0 == 203 && b1 == 0 && b2 == 113)     // TEST-NET-3
            && !NodeId.IsExempt(ToIPAddress(a));
    }

    public static IPAddress ToIPAddress(uint a)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, a);
        return new IPAddress(b);
    }

    /// <summary>The address of an IPv4 endpoint as a number; false for anything else.</summary>
    public static bool TryToUInt32(IPAddress address, out uint value)
    {
        Span<byte> b = stackalloc byte[4];
        if (Rpc.Endpoints.TryIPv4(address, b))
        {
            value = BinaryPrimitives.ReadUInt32BigEndian(b);
            return true;
        }

        value = 0;
        return false;
    }

    /// <summary>A BEP 42 secure id for <paramref name="address"/> whose free bits come from <paramref name="random"/>.</summary>
    public static NodeId SecureId(IPAddress address, SimRandom random)
    {
        Span<byte> b = stackalloc byte[NodeId.Size];
        random.Fill(b);
        return NodeId.CreateSecure(address, b);
    }
}
