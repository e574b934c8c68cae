// The per-IP rule of shared spec §4.3 as an index: a node is refused when a node with the same IP exists and
// either of them is not BEP 42-secure, or both share the first 21 id bits. Net effect: one non-secure node
// per IP, or up to eight secure ones (one per r & 7).
//
// Callers pass whether the node is secure: they keep that flag with their entries, so that a check never
// recomputes it (a CRC32-C of the address).
//
// Every routing table keeps one for its life, and nearly every IP holds one node: a node is one number in a sorted
// list (8 bytes, no object), and a check is a binary search that reads the nodes at the IP (one, but on a testnet).
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Mainline.Routing;

/// <summary>An IP as a key: a plain IPv4 address as its 32 bits (no object to keep), any other address as itself.</summary>
/// <param name="IPv4">The IPv4 address, most significant byte first, when <paramref name="Other"/> is null.</param>
/// <param name="Other">An address that is not plain IPv4 (IPv6, IPv4-mapped IPv6 included: as unequal to the
/// IPv4 address as <see cref="IPAddress.Equals(object?)"/> has it).</param>
internal readonly record struct IpKey(uint IPv4, IPAddress? Other)
{
    public static IpKey Of(IPAddress address) => TryPlainIPv4(address, out var ipv4) ? new(ipv4, null) : new(0, address);

    /// <summary>The 32 bits of an <see cref="AddressFamily.InterNetwork"/> address; false for any other.</summary>
    public static bool TryPlainIPv4(IPAddress address, out uint ipv4)
    {
        Span<byte> b = stackalloc byte[4];
        if (address.AddressFamily == AddressFamily.InterNetwork && address.TryWriteBytes(b, out _))
        {
            ipv4 = BinaryPrimitives.ReadUInt32BigEndian(b);
            return true;
        }

        ipv4 = 0;
        return false;
    }

    public static IPAddress ToAddress(uint ipv4)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, ipv4);
        return new IPAddress(b);
    }
}

internal sealed class IpIndex
{
    // The rule part of a node that is not secure: one such node per IP, whatever its id.
    private const uint NotSecure = 0x8000_0000;

    // One number per node at a plain IPv4 address: the address in the high 32 bits, then the node's rule part (the
    // 21-bit prefix of a secure node, or NotSecure). Sorted, so that the nodes at an IP lie side by side.
    private readonly List<ulong> _ipv4 = [];

    // The nodes at any other address (IPv6, IPv4-mapped: rare, as this DHT is IPv4), scanned.
    private readonly List<(IPAddress Address, uint Rule)> _others = [];

    public bool Violates(DhtNode node, bool secure) => Violates(IpKey.Of(node.EndPoint.Address), node.Id, secure);

    public bool Violates(IpKey ip, NodeId id, bool secure)
    {
        if (ip.Other is { } other)
        {
            foreach (var (address, rule) in _others)
            {
                if (address.Equals(other) && Conflicts(rule, id, secure))
                {
                    return true;
                }
            }

            return false;
        }

        var sorted = CollectionsMarshal.AsSpan(_ipv4);
        for (var i = FirstAt(sorted, ip.IPv4); i < sorted.Length && (uint)(sorted[i] >> 32) == ip.IPv4; i++)
        {
            if (Conflicts((uint)sorted[i], id, secure))
            {
                return true;
            }
        }

        return false;
    }

    public void Add(DhtNode node, bool secure) => Add(IpKey.Of(node.EndPoint.Address), node.Id, secure);

    public void Add(IpKey ip, NodeId id, bool secure)
    {
        if (ip.Other is { } other)
        {
            _others.Add((other, Rule(id, secure)));
            return;
        }

        var key = Key(ip.IPv4, id, secure);
        var at = CollectionsMarshal.AsSpan(_ipv4).BinarySearch(key);
        _ipv4.Insert(at < 0 ? ~at : at, key);
    }

    public void Remove(DhtNode node, bool secure) => Remove(IpKey.Of(node.EndPoint.Address), node.Id, secure);

    /// <summary>Removes one node at <paramref name="ip"/> with the rule part of (<paramref name="id"/>,
    /// <paramref name="secure"/>); nothing when there is none.</summary>
    public void Remove(IpKey ip, NodeId id, bool secure)
    {
        if (ip.Other is { } other)
        {
            var rule = Rule(id, secure);
            var found = _others.FindIndex(o => o.Rule == rule && o.Address.Equals(other));
            if (found >= 0)
            {
                _others.RemoveAt(found);
            }

            return;
        }

        if (CollectionsMarshal.AsSpan(_ipv4).BinarySearch(Key(ip.IPv4, id, secure)) is >= 0 and var at)
        {
            _ipv4.RemoveAt(at);
        }
    }

    private static uint Rule(NodeId id, bool secure) => secure ? (uint)id.Prefix21 : NotSecure;

    private static ulong Key(uint ipv4, NodeId id, bool secure) => ((ulong)ipv4 << 32) | Rule(id, secure);

    /// <summary>Another node with rule part <paramref name="held"/> at the IP refuses this one: either is not secure, or
    /// both share the prefix.</summary>
    private static bool Conflicts(uint held, NodeId id, bool secure) => !secure || held == NotSecure || held == (uint)id.Prefix21;

    /// <summary>The index of the first node at <paramref name="ipv4"/> or after it.</summary>
    private static int FirstAt(ReadOnlySpan<ulong> sorted, uint ipv4)
    {
        var key = (ulong)ipv4 << 32;
        int low = 0, high = sorted.Length;
        while (low < high)
        {
            var mid = (low + high) >>> 1;
            if (sorted[mid] < key)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }

        return low;
    }
}
