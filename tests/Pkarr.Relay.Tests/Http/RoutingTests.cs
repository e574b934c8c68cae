// The rest of the route table and the GET errors (shared spec pkarr.md §6.1, §6.2): 400 bodies, 404 on unknown paths,
// 405 on other methods, the invalid-signed-packet 404, and 503 when the relay's DHT node has nobody to ask.

using System.Globalization;
using System.Net;
using Mainline;
using Pkarr.Keys;
using Pkarr.Packets;
using static Pkarr.Relay.Tests.Http.HttpApiSupport;

namespace Pkarr.Relay.Tests.Http;

public sealed class RoutingTests(SharedRelay shared) : IClassFixture<SharedRelay>
{
    private HttpClient Http => shared.Http;

    private RelayServer Server => shared.Server;

    [Theory]
    [InlineData("not-a-key")]
    [InlineData("pk:tooshort")]
    [InlineData("YBNDRFG8EJKMCPQXOT1UWISZA345H769YBNDRFG8EJKMCPQXOT1U")]
    public async Task Get_with_a_bad_key_is_400_with_text(string key)
    {
        using var response = await Http.GetAsync(new Uri("/" + Uri.EscapeDataString(key), UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("text/plain", Raw(response, "Content-Type"), StringComparison.Ordinal);
        Assert.StartsWith("Invalid public key: ", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("cacheonly")]
    [InlineData("CACHEFIRST")]
    [InlineData("Other")]
    [InlineData("")]
    public async Task Get_with_a_bad_policy_is_400_and_other_parameters_are_ignored(string policy)
    {
        using var keypair = Keypair.Random();
        var packet = Packet(keypair);
        Assert.True(await Server.Store!.PutIfNewerAsync(CachedPacket.Seen(packet)));
        string path = keypair.PublicKey.ToZ32();

        using var bad = await Http.GetAsync(path + "?policy=" + policy);
        using var good = await Http.GetAsync(path + "?policy=CacheOnly&other=" + policy);

        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.StartsWith("Invalid policy", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
    }

    [Theory]
    [InlineData("GET", "/a/b")]
    [InlineData("PUT", "/a/b")]
    [InlineData("GET", "/ybndrfg8ejkmcpqxot1uwisza345h769ybndrfg8ejkmcpqxot1u/x")]
    public async Task Unknown_paths_are_404_with_an_empty_body(string method, string path)
    {
        using var response = await SendAsync(Http, new HttpMethod(method), path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("DELETE")]
    [InlineData("POST")]
    [InlineData("PATCH")]
    public async Task Other_methods_on_a_key_are_405_with_an_empty_body(string method)
    {
        using var keypair = Keypair.Random();
        Assert.True(await Server.Store!.PutIfNewerAsync(CachedPacket.Seen(Packet(keypair))));

        using var response = await SendAsync(Http, new HttpMethod(method), keypair.PublicKey.ToZ32());

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        Assert.NotNull(await Server.Store.PeekAsync(keypair.PublicKey));
    }

    [Fact]
    public async Task A_newer_dht_item_that_is_no_dns_packet_is_404_with_its_seq()
    {
        using var keypair = Keypair.Random();
        long seq = (long)WholeSecondNow().Microseconds;
        var item = MutableItem.Sign(keypair.SecretKey(), "not a dns packet"u8, seq);
        Assert.True((await Server.Dht.PutMutableAsync(item)).Succeeded);
        string path = keypair.PublicKey.ToZ32();

        foreach (string policy in new[] { "NetworkOnly", "CacheFirst" })
        {
            using var response = await Http.GetAsync(path + "?policy=" + policy);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal(seq.ToString(CultureInfo.InvariantCulture), Raw(response, "Pkarr-Invalid-Signed-Packet-Seq"));
            Assert.Equal($"DHT mutable item at seq {seq} is not a valid signed packet", await response.Content.ReadAsStringAsync());
        }

        // It hides an older valid packet on the DHT; a newer valid packet hides it in turn.
        var newer = Packet(keypair, new Timestamp((ulong)seq + 1));
        await PutOnDhtAsync(Server.Dht, newer);
        using var found = await Http.GetAsync(path + "?policy=NetworkOnly");
        Assert.Equal(HttpStatusCode.OK, found.StatusCode);
        Assert.Null(Raw(found, "Pkarr-Invalid-Signed-Packet-Seq"));
        Assert.Equal(newer.RelayPayload.ToArray(), await found.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_relay_whose_dht_node_knows_nobody_answers_503_on_dht_paths_only()
    {
        await using var lonely = await RelayFixture.StartAsync(o =>
        {
            o.Testnet = false;
            o.Mainline.Bootstrap = [];
        });
        using var keypair = Keypair.Random();
        string path = keypair.PublicKey.ToZ32();

        foreach (string policy in new[] { "CacheFirst", "NetworkOnly" })
        {
            using var response = await lonely.Http.GetAsync(path + "?policy=" + policy);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.StartsWith("text/plain", Raw(response, "Content-Type"), StringComparison.Ordinal);
            Assert.Equal("No DHT nodes were queried", await response.Content.ReadAsStringAsync());
        }

        // CacheOnly never asks the DHT: a plain 404.
        using var cacheOnly = await lonely.Http.GetAsync(path + "?policy=CacheOnly");
        Assert.Equal(HttpStatusCode.NotFound, cacheOnly.StatusCode);

        // A PUT cannot be stored anywhere: 500, and nothing is acknowledged in the store.
        using var body = Body(Packet(keypair));
        using var put = await lonely.Http.PutAsync(path, body);
        Assert.Equal(HttpStatusCode.InternalServerError, put.StatusCode);
        Assert.Null(await lonely.Server.Store!.PeekAsync(keypair.PublicKey));
    }
}
