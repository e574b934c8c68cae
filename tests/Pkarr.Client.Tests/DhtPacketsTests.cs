using System.Net;
using Mainline;
using Pkarr.Keys;
using Pkarr.Packets;
using Pkarr.Tests;

namespace Pkarr.Client.Tests;

public sealed class DhtPacketsTests
{
    private static readonly byte[] Seed = Convert.FromHexString("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");

    /// <summary>Every computed vector of pkarr-vectors.json, as the signed packet the core decodes.</summary>
    public static TheoryData<string> VectorNames()
    {
        using var vectors = Vectors.Load();
        var names = new TheoryData<string>();
        foreach (var vector in vectors.RootElement.GetProperty("signed_packets").EnumerateObject())
        {
            names.Add(vector.Name);
        }

        return names;
    }

    private static SignedPacket Vector(string name)
    {
        using var vectors = Vectors.Load();
        string hex = vectors.RootElement.GetProperty("signed_packets").GetProperty(name).GetProperty("signed_packet_hex").GetString()!;
        return SignedPacket.FromBytes(Convert.FromHexString(hex));
    }

    [Theory]
    [MemberData(nameof(VectorNames))]
    public void A_vector_packet_goes_to_an_item_and_back_to_the_same_bytes(string name)
    {
        var packet = Vector(name);
        Assert.True(DhtPackets.TryToMutableItem(packet, out var item));
        Assert.Equal(packet.PublicKey.Bytes.ToArray(), item.Key.ToArray());
        Assert.Equal(packet.Timestamp.AsSeq, item.Seq);
        Assert.Equal(packet.Signature.ToArray(), item.Signature.ToArray());
        Assert.Equal(packet.EncodedPacket.ToArray(), item.Value.ToArray());
        Assert.True(item.Salt.IsEmpty);

        Assert.True(DhtPackets.TryToSignedPacket(item, out var back, out var error), error.Message);
        Assert.True(back.IsSameAs(packet));
        Assert.Equal(packet.Bytes.ToArray(), back.Bytes.ToArray());
    }

    [Fact]
    public void A_timestamp_that_is_no_seq_is_not_published()
    {
        using var keypair = Keypair.FromSecretKey(Seed);
        var packet = SignedPacket.Builder().Timestamp(new Timestamp((ulong)long.MaxValue + 1)).Sign(keypair);
        Assert.False(DhtPackets.TryToMutableItem(packet, out var item));
        Assert.Null(item);

        var last = SignedPacket.Builder().Timestamp(Timestamp.MaxSeq).Sign(keypair);
        Assert.True(DhtPackets.TryToMutableItem(last, out var lastItem));
        Assert.Equal(long.MaxValue, lastItem.Seq);
    }

    [Fact]
    public void An_item_whose_value_is_not_dns_is_an_invalid_packet_not_a_crash()
    {
        var item = MutableItem.Sign(Seed, "not a DNS message"u8, 5);
        Assert.False(DhtPackets.TryToSignedPacket(item, out var packet, out var error));
        Assert.Null(packet);
        Assert.Equal(SignedPacketErrorKind.InvalidDnsPacket, error.Kind);
    }

    [Fact]
    public void A_salted_item_is_refused_even_when_its_value_is_a_valid_packet()
    {
        var dns = Vector("single_a_record").EncodedPacket.Span;
        var salted = MutableItem.Sign(Seed, dns, 7, "salt"u8);
        Assert.False(DhtPackets.TryToSignedPacket(salted, out _, out var error));
        Assert.Equal(SignedPacketErrorKind.InvalidSignature, error.Kind);

        var unsalted = MutableItem.Sign(Seed, dns, 7);
        Assert.True(DhtPackets.TryToSignedPacket(unsalted, out var packet, out _));
        Assert.Equal(7UL, packet.Timestamp.Microseconds);
    }

    [Fact]
    public void Seq_zero_is_a_packet_and_a_negative_seq_never_becomes_an_item()
    {
        byte[] dns = Vector("empty_packet").EncodedPacket.ToArray();
        var item = MutableItem.Sign(Seed, dns, 0);
        Assert.True(DhtPackets.TryToSignedPacket(item, out _, out _));
        Assert.Throws<ArgumentException>(() => MutableItem.Sign(Seed, dns, -1));
    }

    /// <summary>A packet published on a loopback testnet comes back from another node as the same packet.</summary>
    [Fact]
    public async Task A_packet_put_on_a_testnet_is_resolved_from_another_node()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var testnet = await Testnet.CreateAsync(12, cancellationToken: timeout.Token);
        using var keypair = Keypair.Random();
        var packet = SignedPacket.Builder()
            .Address("@", IPAddress.Parse("192.0.2.10"), ttl: 300)
            .Txt("_hi", "hello from the DHT")
            .Sign(keypair);

        Assert.True(DhtPackets.TryToMutableItem(packet, out var item));
        var put = await testnet.Nodes[0].PutMutableAsync(item, cancellationToken: timeout.Token);
        Assert.True(put.Succeeded, put.Status.ToString());

        var found = new List<SignedPacket>();
        await foreach (var got in testnet.Nodes[^1].GetMutableAsync(keypair.PublicKey.Bytes.ToArray(), cancellationToken: timeout.Token))
        {
            Assert.True(DhtPackets.TryToSignedPacket(got, out var resolved, out var error), error.Message);
            found.Add(resolved);
        }

        // Many nodes hold the item; the stream yields it once.
        var only = Assert.Single(found);
        Assert.True(only.IsSameAs(packet));
        var txt = Assert.Single(only.ResourceRecords("_hi"));
        Assert.Contains("\"hello from the DHT\"", txt.ToString(), StringComparison.Ordinal);
    }
}
