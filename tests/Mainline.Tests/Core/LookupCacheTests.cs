using System.Net;
using Mainline.Routing;
using Mainline.Rpc;

namespace Mainline.Tests.Core;

public sealed class LookupCacheTests
{
    private static DhtNode Node(string endPoint) => new(NodeId.Random(), IPEndPoint.Parse(endPoint));

    [Fact]
    public void A_find_node_result_comes_back_node_for_node_in_order_without_tokens()
    {
        List<Candidate> result = [new(Node("203.0.113.7:6881"), null, 0), new(Node("198.51.100.2:1"), null, 0), new(Node("10.0.0.9:65535"), null, 0)];
        var cache = new LookupCache();
        cache.Add(new CachedLookup(NodeId.Random(), result, 1000, 0, 3, isFindNode: true));
        var target = NodeId.Random();
        cache.Add(new CachedLookup(target, result, 1000, 0, 3, isFindNode: true));

        var nodes = cache.Get(target)!.Nodes;

        Assert.Equal(result.Select(c => c.Node), nodes.Select(c => c.Node));
        Assert.All(nodes, c => Assert.Null(c.Token));
        Assert.Equal(result.Select(c => c.Secure), nodes.Select(c => c.Secure));
    }

    [Fact]
    public void A_result_with_tokens_or_an_endpoint_other_than_ipv4_is_kept_as_it_is()
    {
        var withToken = new Candidate(Node("203.0.113.7:6881"), [1, 2, 3, 4], 42);
        var ipv6 = new Candidate(Node("[2001:db8::1]:6881"), null, 0);
        var mapped = new Candidate(new DhtNode(NodeId.Random(), new IPEndPoint(IPAddress.Parse("203.0.113.8").MapToIPv6(), 7)), null, 0);
        var cache = new LookupCache();
        foreach (var c in new[] { withToken, ipv6, mapped })
        {
            var target = NodeId.Random();
            cache.Add(new CachedLookup(target, [c], 1000, 1000, 1, isFindNode: c.Token is null));

            // The same candidate: its token, token time and exact endpoint (a mapped address stays mapped).
            Assert.Same(c, Assert.Single(cache.Get(target)!.Nodes));
        }
    }
}
