using System.Net;
using Mainline.Rpc;

namespace Mainline.Tests;

/// <summary>Public address votes (spec §5) with the recommended hardening: two /24 networks for a public address.</summary>
public sealed class LookupVoteTests
{
    private static Lookup NewLookup() => new(new LookupKey(NodeId.Random(), LookupKind.FindNode, null), null, 0);

    [Fact]
    public void A_public_address_voted_from_one_network_is_not_elected()
    {
        var lookup = NewLookup();
        var claimed = IPEndPoint.Parse("203.0.113.7:6881");
        lookup.Vote(claimed, IPAddress.Parse("198.51.100.1"));
        lookup.Vote(claimed, IPAddress.Parse("198.51.100.2"));
        lookup.Vote(claimed, IPAddress.Parse("198.51.100.250"));
        Assert.Null(lookup.ElectedAddress());
    }

    [Fact]
    public void A_public_address_voted_from_two_networks_is_elected()
    {
        var lookup = NewLookup();
        var claimed = IPEndPoint.Parse("203.0.113.7:6881");
        lookup.Vote(claimed, IPAddress.Parse("198.51.100.1"));
        lookup.Vote(claimed, IPAddress.Parse("192.0.2.9"));
        Assert.Equal(claimed, lookup.ElectedAddress());
    }

    [Fact]
    public void The_most_voted_address_wins_and_must_pass_the_rule_itself()
    {
        var lookup = NewLookup();
        var liar = IPEndPoint.Parse("203.0.113.66:6881");
        var truth = IPEndPoint.Parse("203.0.113.7:6881");
        for (int i = 1; i <= 5; i++)
        {
            lookup.Vote(liar, IPAddress.Parse($"198.51.100.{i}")); // five votes, one network
        }

        lookup.Vote(truth, IPAddress.Parse("192.0.2.1"));
        lookup.Vote(truth, IPAddress.Parse("198.18.0.1"));
        Assert.Null(lookup.ElectedAddress()); // the most voted fails the rule: no change rather than the runner-up

        lookup.Vote(liar, IPAddress.Parse("192.0.2.200"));
        Assert.Equal(liar, lookup.ElectedAddress());
    }

    [Theory]
    [InlineData("127.0.0.1:6881")]
    [InlineData("192.168.1.20:6881")]
    [InlineData("10.1.2.3:6881")]
    public void A_loopback_or_private_address_needs_one_vote(string address)
    {
        var lookup = NewLookup();
        var claimed = IPEndPoint.Parse(address);
        lookup.Vote(claimed, IPAddress.Loopback);
        Assert.Equal(claimed, lookup.ElectedAddress());
    }

    [Fact]
    public void No_votes_no_address() => Assert.Null(NewLookup().ElectedAddress());
}
