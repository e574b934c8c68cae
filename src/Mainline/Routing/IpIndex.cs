// The per-IP rule of shared spec §4.3 as an index: a node is refused when a node with the same IP exists and
// either of them is not BEP 42-secure, or both share the first 21 id bits. Net effect: one non-secure node
// per IP, or up to eight secure ones (one per r & 7). O(1) per check instead of a scan of every node.
//
// Callers pass whether the node is secure: they keep that flag with their entries, so that a check never
// recomputes it (a CRC32-C of the address).
//
// Every routing table and every lookup list keeps one, and nearly every IP holds one node: an IP's counts are a
// value in the dictionary, with its first prefix inline; only an IP with secure nodes under several prefixes gets a
// list for the others.
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
    private readonly Dictionary<IpKey, PerIp> _byIp = [];

    public bool Violates(DhtNode node, bool secure) => Violates(IpKey.Of(node.EndPoint.Address), node.Id, secure);

    public bool Violates(IpKey ip, NodeId id, bool secure)
    {
        if (!_byIp.TryGetValue(ip, out var entry))
        {
            return false;
        }

        return entry.Total > 0 && (!secure || entry.NonSecure > 0 || entry.Count(id.Prefix21) > 0);
    }

    public void Add(DhtNode node, bool secure) => Add(IpKey.Of(node.EndPoint.Address), node.Id, secure);

    public void Add(IpKey ip, NodeId id, bool secure)
    {
        ref var entry = ref CollectionsMarshal.GetValueRefOrAddDefault(_byIp, ip, out _);
        entry.Total++;
        if (secure)
        {
            entry.Change(id.Prefix21, +1);
        }
        else
        {
            entry.NonSecure++;
        }
    }

    public void Remove(DhtNode node, bool secure) => Remove(IpKey.Of(node.EndPoint.Address), node.Id, secure);

    public void Remove(IpKey ip, NodeId id, bool secure)
    {
        ref var entry = ref CollectionsMarshal.GetValueRefOrNullRef(_byIp, ip);
        if (System.Runtime.CompilerServices.Unsafe.IsNullRef(ref entry))
        {
            return;
        }

        if (secure)
        {
            var prefix = id.Prefix21;
            if (entry.Count(prefix) == 0)
            {
                return;
            }

            entry.Change(prefix, -1);
        }
        else
        {
            if (entry.NonSecure <= 0)
            {
                return;
            }

            entry.NonSecure--;
        }

        if (--entry.Total <= 0)
        {
            _byIp.Remove(ip);
        }
    }

    /// <summary>One IP's nodes: how many, how many not secure, and how many secure ones under each 21-bit prefix.</summary>
    private struct PerIp
    {
        public int Total;
        public int NonSecure;
        private int _firstPrefix;
        private int _firstCount;
        private List<(int Prefix, int Count)>? _more;

        public readonly int Count(int prefix)
        {
            if (_firstCount > 0 && _firstPrefix == prefix)
            {
                return _firstCount;
            }

            if (_more is not null)
            {
                foreach (var (p, n) in _more)
                {
                    if (p == prefix)
                    {
                        return n;
                    }
                }
            }

            return 0;
        }

        public void Change(int prefix, int delta)
        {
            // The inline prefix is empty only when no list exists: an emptied inline prefix takes one from the list.
            if (_firstCount == 0 || _firstPrefix == prefix)
            {
                _firstPrefix = prefix;
                _firstCount += delta;
                if (_firstCount == 0 && _more is { Count: > 0 })
                {
                    (_firstPrefix, _firstCount) = _more[^1];
                    _more.RemoveAt(_more.Count - 1);
                }

                return;
            }

            _more ??= [];
            var at = IndexIn(_more, prefix);
            var count = (at < 0 ? 0 : _more[at].Count) + delta;
            if (at >= 0 && count == 0)
            {
                _more.RemoveAt(at);
            }
            else if (at >= 0)
            {
                _more[at] = (prefix, count);
            }
            else if (count > 0)
            {
                _more.Add((prefix, count));
            }
        }

        // A loop rather than FindIndex with a lambda: capturing the prefix would allocate on every call.
        private static int IndexIn(List<(int Prefix, int Count)> more, int prefix)
        {
            for (var i = 0; i < more.Count; i++)
            {
                if (more[i].Prefix == prefix)
                {
                    return i;
                }
            }

            return -1;
        }
    }
}
