// Votes on our external address (shared spec §5), collected across lookups.
//
// Every reply to one of our queries carries `ip`: the endpoint the replier saw us at. The elected address moves
// our BEP 42 id once our own ping comes back through it, so a liar who wins the vote can move us next to a target
// of its choice. Votes are therefore counted per /24 network of the voter (many addresses in one /24 are cheap,
// many /24s are not), over a window of the most recent networks, and an address is elected only with votes from
// many networks and a clear majority of the window.
using System.Net;

namespace Mainline.Rpc;

internal sealed class AddressVotes
{
    /// <summary>
    /// The window: the latest vote of each of the last 64 distinct /24 networks that voted. One lookup hears from
    /// 20–40 nodes, so the window spans the last two or three lookups: an address change (a new DHCP lease) is
    /// adopted after a few lookups, while a liar's votes age out as honest replies keep arriving.
    /// </summary>
    public const int Window = 64;

    /// <summary>
    /// Distinct /24 networks that must vote for a public address: 8. The first lookup of an honest node hears from
    /// more than that many networks, so it still learns its address at once; an attacker needs nodes in 8 /24s
    /// that we happen to query, where two sufficed before.
    /// </summary>
    public const int MinNetworks = 8;

    /// <summary>
    /// A private network's voters all share a few /24s (a testnet's share 127.0.0.1), so there one network's vote
    /// is enough: the node trusts the network it was configured on.
    /// </summary>
    public const int MinNetworksPrivate = 1;

    // The elected address needs three quarters of the window: honest replies agree (one NAT mapping), so a clear
    // majority costs them nothing, while an attacker must outnumber the honest voters three to one.
    private const int MajorityNumerator = 3;
    private const int MajorityDenominator = 4;

    // The window: each voting /24 once, with its latest claim, oldest vote first (a vote moves its network to the
    // end), so that the network to forget is found in O(1) on every reply.
    private readonly Dictionary<int, LinkedListNode<(int Network, IPEndPoint Claimed)>> _byNetwork = [];
    private readonly LinkedList<(int Network, IPEndPoint Claimed)> _byAge = new();

    /// <summary>See <see cref="NodeCore.PrivateNetwork"/>: whether private addresses may be voted for, and how
    /// many networks must agree.</summary>
    public bool PrivateNetwork { get; set; }

    /// <summary>Counts a reply from <paramref name="voter"/> saying that we are <paramref name="claimed"/>; a
    /// network's newer vote replaces its older one.</summary>
    public void Add(IPEndPoint claimed, IPAddress voter)
    {
        // A public node is never at a private address: such a claim comes from a LAN peer or a liar.
        if (!Endpoints.IsUsable(claimed) || (!PrivateNetwork && NodeId.IsExempt(claimed.Address)))
        {
            return;
        }

        var network = Endpoints.Network24(voter) ?? 0;
        if (_byNetwork.TryGetValue(network, out var vote))
        {
            _byAge.Remove(vote);
            vote.Value = (network, claimed);
            _byAge.AddLast(vote);
            return;
        }

        _byNetwork[network] = _byAge.AddLast((network, claimed));
        if (_byAge.Count > Window)
        {
            var oldest = _byAge.First!;
            _byAge.RemoveFirst();
            _byNetwork.Remove(oldest.Value.Network);
        }
    }

    /// <summary>The address voted for by enough networks and by a clear majority of the window, or null.</summary>
    public IPEndPoint? Elected()
    {
        if (_byNetwork.Count == 0)
        {
            return null;
        }

        var (claimed, networks) = _byAge.GroupBy(v => v.Claimed).Select(g => (g.Key, g.Count())).MaxBy(g => g.Item2);
        var enough = networks >= (PrivateNetwork ? MinNetworksPrivate : MinNetworks);
        var majority = networks * MajorityDenominator >= _byNetwork.Count * MajorityNumerator;
        return enough && majority ? claimed : null;
    }
}
