// The per-IP rule of shared spec §4.3 as an index: a node is refused when a node with the same IP exists and
// either of them is not BEP 42-secure, or both share the first 21 id bits. Net effect: one non-secure node
// per IP, or up to eight secure ones (one per r & 7). O(1) per check instead of a scan of every node.
using System.Net;

namespace Mainline.Routing;

internal sealed class IpIndex
{
    private readonly Dictionary<IPAddress, (int NonSecure, Dictionary<int, int> Prefixes)> _byIp = [];

    public bool Violates(DhtNode node)
    {
        if (!_byIp.TryGetValue(node.EndPoint.Address, out var entry))
        {
            return false;
        }

        var count = entry.NonSecure + entry.Prefixes.Values.Sum();
        return count > 0 && (!node.IsSecure || entry.NonSecure > 0 || entry.Prefixes.ContainsKey(node.Prefix21));
    }

    public void Add(DhtNode node)
    {
        if (!_byIp.TryGetValue(node.EndPoint.Address, out var entry))
        {
            entry = (0, []);
        }

        if (node.IsSecure)
        {
            entry.Prefixes[node.Prefix21] = entry.Prefixes.GetValueOrDefault(node.Prefix21) + 1;
        }
        else
        {
            entry.NonSecure++;
        }

        _byIp[node.EndPoint.Address] = entry;
    }

    public void Remove(DhtNode node)
    {
        if (!_byIp.TryGetValue(node.EndPoint.Address, out var entry))
        {
            return;
        }

        if (node.IsSecure)
        {
            if (entry.Prefixes.TryGetValue(node.Prefix21, out var n))
            {
                if (n <= 1)
                {
                    entry.Prefixes.Remove(node.Prefix21);
                }
                else
                {
                    entry.Prefixes[node.Prefix21] = n - 1;
                }
            }
        }
        else
        {
            entry.NonSecure--;
        }

        if (entry.NonSecure <= 0 && entry.Prefixes.Count == 0)
        {
            _byIp.Remove(node.EndPoint.Address);
        }
        else
        {
            _byIp[node.EndPoint.Address] = entry;
        }
    }
}
