// The per-IP rule of shared spec §4.3 as an index: a node is refused when a node with the same IP exists and
// either of them is not BEP 42-secure, or both share the first 21 id bits. Net effect: one non-secure node
// per IP, or up to eight secure ones (one per r & 7). O(1) per check instead of a scan of every node.
//
// Callers pass whether the node is secure: they keep that flag with their entries, so that a check never
// recomputes it (a CRC32-C of the address).
using System.Net;

namespace Mainline.Routing;

internal sealed class IpIndex
{
    private readonly Dictionary<IPAddress, PerIp> _byIp = [];

    public bool Violates(DhtNode node, bool secure)
    {
        if (!_byIp.TryGetValue(node.EndPoint.Address, out var entry))
        {
            return false;
        }

        return entry.Total > 0 && (!secure || entry.NonSecure > 0 || entry.Prefixes.ContainsKey(node.Prefix21));
    }

    public void Add(DhtNode node, bool secure)
    {
        if (!_byIp.TryGetValue(node.EndPoint.Address, out var entry))
        {
            entry = new PerIp();
            _byIp[node.EndPoint.Address] = entry;
        }

        entry.Total++;
        if (secure)
        {
            entry.Prefixes[node.Prefix21] = entry.Prefixes.GetValueOrDefault(node.Prefix21) + 1;
        }
        else
        {
            entry.NonSecure++;
        }
    }

    public void Remove(DhtNode node, bool secure)
    {
        if (!_byIp.TryGetValue(node.EndPoint.Address, out var entry))
        {
            return;
        }

        if (secure)
        {
            if (!entry.Prefixes.TryGetValue(node.Prefix21, out var n))
            {
                return;
            }

            if (n <= 1)
            {
                entry.Prefixes.Remove(node.Prefix21);
            }
            else
            {
                entry.Prefixes[node.Prefix21] = n - 1;
            }
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
            _byIp.Remove(node.EndPoint.Address);
        }
    }

    private sealed class PerIp
    {
        public int Total { get; set; }

        public int NonSecure { get; set; }

        public Dictionary<int, int> Prefixes { get; } = [];
    }
}
