// Votes on our external address (shared spec §5), collected across lookups.
//
// Every reply to one of our queries carries `ip`: the endpoint the replier saw us at. The elected address moves
// our BEP 42 id once our own ping comes back through it, so a liar who wins the vote can move us next to a target
// of its choice. Votes are therefore counted per /24 network of the voter (many addresses in one /24 are cheap,
// many /24s are not), over a window of the most recent networks, and an address is elected only with votes from
// many networks and a clear majority of the window.
using System.Buffers.Binary;
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
    // end). Every node keeps one and every reply votes, so a vote is two integers (the claim is the IPv4 address and
    // port), not a list node and an endpoint object.
    private readonly (int Network, long Claim)[] _votes = new (int, long)[Window];
    private int _count;

    /// <summary>See <see cref="NodeCore.PrivateNetwork"/>: whether private addresses may be voted for, and how
    /// many networks must agree.</summary>
    public bool PrivateNetwork { get; set; }

    /// <summary>Counts a reply from <paramref name="voter"/> saying that we are <paramref name="claimed"/>; a
    /// network's newer vote replaces its older one.</summary>
    public void Add(IPEndPoint claimed, IPAddress voter)
    {
        // A public node is never at a private address: such a claim comes from a LAN peer or a liar.
        Span<byte> address = stackalloc byte[4];
        if (!Endpoints.IsUsable(claimed) || (!PrivateNetwork && NodeId.IsExempt(claimed.Address))
            || !Endpoints.TryIPv4(claimed.Address, address))
        {
            return;
        }

        var claim = ((long)BinaryPrimitives.ReadUInt32BigEndian(address) << 16) | (ushort)claimed.Port;
        var network = Endpoints.Network24(voter) ?? 0;
        var at = _count - 1;
        while (at >= 0 && _votes[at].Network != network)
        {
            at--;
        }

        if (at >= 0 || _count == Window)
        {
            // The network's older vote, or the oldest vote of a full window, leaves; the rest move up.
            var drop = at >= 0 ? at : 0;
            Array.Copy(_votes, drop + 1, _votes, drop, _count - drop - 1);
            _count--;
        }

        _votes[_count++] = (network, claim);
    }

    /// <summary>The address voted for by enough networks and by a clear majority of the window, or null.</summary>
    public IPEndPoint? Elected()
    {
        if (_count == 0)
        {
            return null;
        }

        Span<long> claims = stackalloc long[_count];
        for (var i = 0; i < _count; i++)
        {
            claims[i] = _votes[i].Claim;
        }

        claims.Sort();
        long claimed = 0;
        var networks = 0;
        for (int start = 0, end; start < claims.Length; start = end)
        {
            for (end = start + 1; end < claims.Length && claims[end] == claims[start]; end++)
            {
            }

            if (end - start > networks)
            {
                (claimed, networks) = (claims[start], end - start);
            }
        }

        var enough = networks >= (PrivateNetwork ? MinNetworksPrivate : MinNetworks);
        var majority = networks * MajorityDenominator >= _count * MajorityNumerator;
        if (!enough || !majority)
        {
            return null;
        }

        Span<byte> address = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(address, (uint)(claimed >> 16));
        return new IPEndPoint(new IPAddress(address), (int)(claimed & 0xFFFF));
    }
}
