using System.Net;
using Mainline.Rpc;

namespace Mainline.Tests;

/// <summary>Votes on our public address (spec §5) across lookups: many /24 networks and a clear majority.</summary>
public sealed class AddressVotesTests
{
    private static readonly IPEndPoint Truth = IPEndPoint.Parse("203.0.113.7:6881");
    private static readonly IPEndPoint Liar = IPEndPoint.Parse("203.0.113.66:6881");

    /// <summary>One vote from each of <paramref name="count"/> /24 networks, starting at 100.<paramref name="first"/>.0.0.</summary>
    private static void VoteFrom(AddressVotes votes, IPEndPoint claimed, int count, int first = 0)
    {
        for (var i = first; i < first + count; i++)
        {
            votes.Add(claimed, new IPAddress([100, (byte)(i / 250), (byte)(i % 250), 9]));
        }
    }

    [Fact]
    public void Many_voters_of_few_networks_elect_nothing()
    {
        var votes = new AddressVotes();
        for (var i = 1; i <= 50; i++)
        {
            votes.Add(Liar, IPAddress.Parse($"198.51.100.{i}"));
            votes.Add(Liar, IPAddress.Parse($"192.0.2.{i}"));
        }

        Assert.Null(votes.Elected());
    }

    [Fact]
    public void A_public_address_needs_eight_networks()
    {
        var votes = new AddressVotes();
        VoteFrom(votes, Truth, AddressVotes.MinNetworks - 1);
        Assert.Null(votes.Elected());
        VoteFrom(votes, Truth, 1, first: 100);
        Assert.Equal(Truth, votes.Elected());
    }

    [Fact]
    public void The_winner_needs_three_quarters_of_the_window()
    {
        var votes = new AddressVotes();
        VoteFrom(votes, Liar, 10);
        VoteFrom(votes, Truth, 20, first: 100);
        Assert.Null(votes.Elected()); // 20 of 30

        VoteFrom(votes, Truth, 10, first: 120);
        Assert.Equal(Truth, votes.Elected()); // 30 of 40
    }

    [Fact]
    public void An_honest_majority_replaces_an_earlier_address_as_old_votes_leave_the_window()
    {
        var votes = new AddressVotes();
        VoteFrom(votes, Liar, 20);
        Assert.Equal(Liar, votes.Elected());

        // A network's new vote replaces its old one, and networks beyond the window drop out.
        VoteFrom(votes, Truth, 10);
        Assert.Null(votes.Elected());
        VoteFrom(votes, Truth, AddressVotes.Window, first: 100);
        Assert.Equal(Truth, votes.Elected());
    }

    [Theory]
    [InlineData("127.0.0.1:6881")]
    [InlineData("192.168.1.20:6881")]
    [InlineData("10.1.2.3:6881")]
    public void A_private_address_is_refused_on_a_public_node_and_needs_one_network_on_a_private_one(string address)
    {
        var claimed = IPEndPoint.Parse(address);
        var publicNode = new AddressVotes();
        VoteFrom(publicNode, claimed, 40);
        Assert.Null(publicNode.Elected());

        var privateNode = new AddressVotes { PrivateNetwork = true };
        privateNode.Add(claimed, IPAddress.Loopback);
        Assert.Equal(claimed, privateNode.Elected());
    }

    [Theory]
    [InlineData("0.0.0.0:6881")]
    [InlineData("203.0.113.7:0")]
    [InlineData("239.1.2.3:6881")]
    [InlineData("255.255.255.255:6881")]
    public void Unusable_addresses_are_never_elected(string address)
    {
        var votes = new AddressVotes { PrivateNetwork = true };
        VoteFrom(votes, IPEndPoint.Parse(address), 40);
        Assert.Null(votes.Elected());
    }

    [Fact]
    public void No_votes_no_address() => Assert.Null(new AddressVotes().Elected());
}
