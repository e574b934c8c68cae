using System.Net;
using Mainline.Krpc;
using static Mainline.Tests.Hostile.ServerAttack;

namespace Mainline.Tests.Hostile;

/// <summary>Issue 9, medium 6 (peers): one address announcing under many ids and ports must not take every peer
/// slot of an info hash; an honest announcer is still returned.</summary>
public sealed class PeerSlotTests
{
    [Fact]
    public async Task One_address_takes_at_most_its_quota_of_an_info_hashs_peer_slots()
    {
        var clock = new Clock();
        await using var node = await ServerAsync(clock, o =>
        {
            o.RateLimitPerIp = 0; // spread over minutes in a real attack; only storage is tested
            o.RateLimitPerSubnet = 0;
            o.ReplyBytesPerSecond = 0;
        });
        var to = node.LocalEndPoint;
        var hash = NodeId.Random();
        using var attacker = Socket("127.0.12.1");
        var token = (await Raw.AskAsync(attacker, to, new GetPeersQuery(NodeId.Random(), hash), Ct()))!.Response!.Token!;
        var slots = new ServerSettings().MaxPeersPerInfoHash;
        for (var i = 0; i < slots; i++)
        {
            var announce = await Raw.AskAsync(attacker, to, new AnnouncePeerQuery(NodeId.Random(), hash, 10_000 + (i % 2 == 0 ? i : 0), false, token), Ct());
            Assert.Equal(MessageKind.Response, announce!.Kind); // refused by nobody: the quota recycles its own slots
        }

        using var honest = Socket("127.0.13.1");
        var honestToken = (await Raw.AskAsync(honest, to, new GetPeersQuery(NodeId.Random(), hash), Ct()))!.Response!.Token!;
        Assert.Equal(MessageKind.Response, (await Raw.AskAsync(honest, to, new AnnouncePeerQuery(NodeId.Random(), hash, 7000, false, honestToken), Ct()))!.Kind);

        var held = await node.Node.InvokeAsync(() => node.Node.Core.Storage.GetPeers(hash, node.Node.Now, int.MaxValue), Ct());
        var quota = new ServerSettings().MaxPeersPerIp;
        Assert.InRange(held.Count(p => p.Address.Equals(IPAddress.Parse("127.0.12.1"))), 1, quota);
        Assert.Contains(new IPEndPoint(IPAddress.Parse("127.0.13.1"), 7000), held);

        var reply = await Raw.AskAsync(honest, to, new GetPeersQuery(NodeId.Random(), hash), Ct());
        Assert.Contains(new IPEndPoint(IPAddress.Parse("127.0.13.1"), 7000), reply!.Response!.Values!);
    }
}
