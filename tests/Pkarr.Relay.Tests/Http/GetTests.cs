// GET and HEAD /{key} (shared spec pkarr.md §6.2): the success headers, the three policies against the store and the
// DHT, and conditional GETs on the full microsecond timestamp.

using System.Net;
using Pkarr.Keys;
using Pkarr.Packets;
using static Pkarr.Relay.Tests.Http.HttpApiSupport;

namespace Pkarr.Relay.Tests.Http;

public sealed class GetTests(SharedRelay shared) : IClassFixture<SharedRelay>
{
    private HttpClient Http => shared.Http;

    private RelayServer Server => shared.Server;

    [Fact]
    public async Task Get_serves_the_payload_with_the_four_headers()
    {
        using var keypair = Keypair.Random();
        var timestamp = WholeSecondNow(500_000);
        var packet = SignedPacket.Builder()
            .A("@", IPAddress.Parse("192.0.2.1"), 1200)
            .A("www", IPAddress.Parse("192.0.2.2"), 600)
            .Timestamp(timestamp)
            .Sign(keypair);
        var lastSeen = WholeSecondNow().SubtractMicroseconds(7_000_000);
        Assert.True(await Server.Store!.PutIfNewerAsync(new CachedPacket(packet, lastSeen)));

        using var response = await Http.GetAsync(keypair.PublicKey.ToZ32());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(packet.RelayPayload.ToArray(), await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(PayloadType, Raw(response, "Content-Type"));
        Assert.Equal(packet.RelayPayload.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), Raw(response, "Content-Length"));
        // max-age is the smallest record TTL (600, not 1200), not the remaining lifetime (593).
        Assert.Equal("public, max-age=600", Raw(response, "Cache-Control"));
        // Last-Modified truncates the packet's x.5 s to x; Memento-Datetime is when the relay saw the packet.
        Assert.Equal(HttpDate(timestamp.Seconds), Raw(response, "Last-Modified"));
        Assert.Equal(HttpDate(lastSeen.Seconds), Raw(response, "Memento-Datetime"));
        Assert.Null(Raw(response, "Pkarr-Invalid-Signed-Packet-Seq"));
        Assert.Null(Raw(response, "ETag"));
    }

    [Theory]
    [InlineData(10u, 300)]
    [InlineData(299u, 300)]
    [InlineData(301u, 301)]
    [InlineData(100_000u, 86_400)]
    public async Task Max_age_is_the_minimum_ttl_clamped_to_the_relay_bounds(uint ttl, int maxAge)
    {
        using var keypair = Keypair.Random();
        var packet = Packet(keypair, ttl: ttl);
        Assert.True(await Server.Store!.PutIfNewerAsync(CachedPacket.Seen(packet)));

        using var response = await Http.GetAsync(keypair.PublicKey.ToZ32() + "?policy=CacheOnly");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"public, max-age={maxAge}", Raw(response, "Cache-Control"));
    }

    [Fact]
    public async Task Head_has_the_headers_of_get_and_no_body()
    {
        using var keypair = Keypair.Random();
        var packet = Packet(keypair);
        Assert.True(await Server.Store!.PutIfNewerAsync(CachedPacket.Seen(packet)));

        using var head = await SendAsync(Http, HttpMethod.Head, keypair.PublicKey.ToZ32());
        using var get = await SendAsync(Http, HttpMethod.Get, keypair.PublicKey.ToZ32());

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        Assert.Equal(packet.RelayPayload.Length, head.Content.Headers.ContentLength);
        foreach (var name in new[] { "Content-Type", "Content-Length", "Cache-Control", "Last-Modified", "Memento-Datetime" })
        {
            Assert.NotNull(Raw(head, name));
            Assert.Equal(Raw(get, name), Raw(head, name));
        }

        Assert.Equal(packet.RelayPayload.Length, (await get.Content.ReadAsByteArrayAsync()).Length);

        using var missing = await SendAsync(Http, HttpMethod.Head, Keypair.Random().PublicKey.ToZ32() + "?policy=CacheOnly");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Cache_only_serves_the_stored_packet_even_when_expired_and_never_asks_the_dht()
    {
        using var keypair = Keypair.Random();
        var stored = Packet(keypair, WholeSecondNow().SubtractMicroseconds(10_000_000), address: "192.0.2.10");
        var lastSeen = WholeSecondNow().SubtractMicroseconds(3_600_000_000);
        Assert.True(await Server.Store!.PutIfNewerAsync(new CachedPacket(stored, lastSeen)));
        Assert.True((await Server.Store.PeekAsync(keypair.PublicKey))!.IsExpired());

        // A newer packet on the DHT is not looked at.
        await PutOnDhtAsync(Server.Dht, Packet(keypair, address: "192.0.2.11"));

        using var response = await Http.GetAsync(keypair.PublicKey.ToZ32() + "?policy=CacheOnly");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(stored.RelayPayload.ToArray(), await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpDate(lastSeen.Seconds), Raw(response, "Memento-Datetime"));

        // Nothing stored: 404 with an empty body, although the DHT has a packet for this key.
        using var other = Keypair.Random();
        await PutOnDhtAsync(Server.Dht, Packet(other));
        using var miss = await Http.GetAsync(other.PublicKey.ToZ32() + "?policy=CacheOnly");
        Assert.Equal(HttpStatusCode.NotFound, miss.StatusCode);
        Assert.Empty(await miss.Content.ReadAsByteArrayAsync());
        Assert.Null(await Server.Store.PeekAsync(other.PublicKey));
    }

    [Fact]
    public async Task Cache_first_serves_a_fresh_stored_packet_without_the_dht()
    {
        using var keypair = Keypair.Random();
        var stored = Packet(keypair, address: "192.0.2.20");
        Assert.True(await Server.Store!.PutIfNewerAsync(CachedPacket.Seen(stored)));
        // The DHT has a newer one, which CacheFirst does not need while the stored one is fresh.
        await PutOnDhtAsync(Server.Dht, Packet(keypair, address: "192.0.2.21"));

        using var implicitPolicy = await Http.GetAsync(keypair.PublicKey.ToZ32());
        using var explicitPolicy = await Http.GetAsync(keypair.PublicKey.ToZ32() + "?policy=CacheFirst");

        Assert.Equal(stored.RelayPayload.ToArray(), await implicitPolicy.Content.ReadAsByteArrayAsync());
        Assert.Equal(stored.RelayPayload.ToArray(), await explicitPolicy.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Cache_first_goes_to_the_dht_when_the_stored_packet_has_expired()
    {
        using var keypair = Keypair.Random();
        var stored = Packet(keypair, WholeSecondNow().SubtractMicroseconds(10_000_000), address: "192.0.2.30");
        var longAgo = WholeSecondNow().SubtractMicroseconds(3_600_000_000);
        Assert.True(await Server.Store!.PutIfNewerAsync(new CachedPacket(stored, longAgo)));
        var newer = Packet(keypair, address: "192.0.2.31");
        await PutOnDhtAsync(Server.Dht, newer);

        using var response = await Http.GetAsync(keypair.PublicKey.ToZ32());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(newer.RelayPayload.ToArray(), await response.Content.ReadAsByteArrayAsync());
        Assert.True(Timestamp.TryParseHttpDate(Raw(response, "Memento-Datetime"), out var seen));
        Assert.True(seen.Seconds + 60 >= Timestamp.Now().Seconds, "served from the DHT just now");
        // The served packet replaces the expired one in the store.
        Assert.Equal(newer.Timestamp, (await Server.Store.PeekAsync(keypair.PublicKey))!.Packet.Timestamp);
    }

    [Fact]
    public async Task Cache_first_answers_404_for_an_expired_stored_packet_the_dht_no_longer_has()
    {
        using var keypair = Keypair.Random();
        var stored = Packet(keypair, WholeSecondNow().SubtractMicroseconds(10_000_000));
        Assert.True(await Server.Store!.PutIfNewerAsync(new CachedPacket(stored, WholeSecondNow().SubtractMicroseconds(3_600_000_000))));

        using var cacheFirst = await Http.GetAsync(keypair.PublicKey.ToZ32());
        using var cacheOnly = await Http.GetAsync(keypair.PublicKey.ToZ32() + "?policy=CacheOnly");

        Assert.Equal(HttpStatusCode.NotFound, cacheFirst.StatusCode);
        Assert.Empty(await cacheFirst.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.OK, cacheOnly.StatusCode);
    }

    [Fact]
    public async Task Cache_first_answers_404_when_the_dht_has_only_packets_below_the_expired_stored_one()
    {
        using var keypair = Keypair.Random();
        var older = Packet(keypair, WholeSecondNow().SubtractMicroseconds(20_000_000), address: "192.0.2.35");
        var stored = Packet(keypair, WholeSecondNow().SubtractMicroseconds(10_000_000), address: "192.0.2.36");
        await PutOnDhtAsync(Server.Dht, older);
        Assert.True(await Server.Store!.PutIfNewerAsync(new CachedPacket(stored, WholeSecondNow().SubtractMicroseconds(3_600_000_000))));
        string path = keypair.PublicKey.ToZ32();

        using var cacheFirst = await Http.GetAsync(path);
        using var networkOnly = await Http.GetAsync(path + "?policy=NetworkOnly");

        Assert.Equal(HttpStatusCode.NotFound, cacheFirst.StatusCode);
        Assert.Equal(HttpStatusCode.OK, networkOnly.StatusCode);
        Assert.Equal(older.RelayPayload.ToArray(), await networkOnly.Content.ReadAsByteArrayAsync());
        Assert.Equal(stored.Timestamp, (await Server.Store.PeekAsync(keypair.PublicKey))!.Packet.Timestamp);
    }

    [Fact]
    public async Task Cache_first_does_not_report_an_invalid_item_no_newer_than_the_stored_packet()
    {
        using var keypair = Keypair.Random();
        var stored = Packet(keypair, WholeSecondNow().SubtractMicroseconds(10_000_000));
        long invalidSeq = (long)WholeSecondNow().SubtractMicroseconds(20_000_000).Microseconds;
        Assert.True((await Server.Dht.PutMutableAsync(Mainline.MutableItem.Sign(keypair.SecretKey(), "no dns"u8, invalidSeq))).Succeeded);
        Assert.True(await Server.Store!.PutIfNewerAsync(new CachedPacket(stored, WholeSecondNow().SubtractMicroseconds(3_600_000_000))));
        string path = keypair.PublicKey.ToZ32();

        using var cacheFirst = await Http.GetAsync(path);
        using var networkOnly = await Http.GetAsync(path + "?policy=NetworkOnly");

        Assert.Equal(HttpStatusCode.NotFound, cacheFirst.StatusCode);
        Assert.Null(Raw(cacheFirst, "Pkarr-Invalid-Signed-Packet-Seq"));
        Assert.Empty(await cacheFirst.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.NotFound, networkOnly.StatusCode);
        Assert.Equal(invalidSeq.ToString(System.Globalization.CultureInfo.InvariantCulture), Raw(networkOnly, "Pkarr-Invalid-Signed-Packet-Seq"));
    }

    [Fact]
    public async Task Network_only_ignores_the_store_as_floor_and_as_fallback()
    {
        // Floor: the store holds a newer packet than the DHT; NetworkOnly serves the DHT's, and the store keeps the newer.
        using var keypair = Keypair.Random();
        var older = Packet(keypair, WholeSecondNow().SubtractMicroseconds(20_000_000), address: "192.0.2.40");
        var newer = Packet(keypair, WholeSecondNow().SubtractMicroseconds(10_000_000), address: "192.0.2.41");
        await PutOnDhtAsync(Server.Dht, older);
        Assert.True(await Server.Store!.PutIfNewerAsync(CachedPacket.Seen(newer)));

        using var served = await Http.GetAsync(keypair.PublicKey.ToZ32() + "?policy=NetworkOnly");
        using var cacheFirst = await Http.GetAsync(keypair.PublicKey.ToZ32());

        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal(older.RelayPayload.ToArray(), await served.Content.ReadAsByteArrayAsync());
        Assert.Equal(newer.RelayPayload.ToArray(), await cacheFirst.Content.ReadAsByteArrayAsync());
        Assert.Equal(newer.Timestamp, (await Server.Store.PeekAsync(keypair.PublicKey))!.Packet.Timestamp);

        // Fallback: a fresh stored packet that the DHT does not have is not served under NetworkOnly.
        using var storedOnly = Keypair.Random();
        Assert.True(await Server.Store.PutIfNewerAsync(CachedPacket.Seen(Packet(storedOnly))));
        using var missing = await Http.GetAsync(storedOnly.PublicKey.ToZ32() + "?policy=NetworkOnly");
        using var present = await Http.GetAsync(storedOnly.PublicKey.ToZ32() + "?policy=CacheFirst");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.OK, present.StatusCode);
    }

    [Fact]
    public async Task Conditional_get_compares_the_full_microsecond_timestamp()
    {
        using var keypair = Keypair.Random();
        var timestamp = WholeSecondNow(500_000).SubtractMicroseconds(5_000_000);
        var packet = Packet(keypair, timestamp);
        var lastSeen = WholeSecondNow();
        Assert.True(await Server.Store!.PutIfNewerAsync(new CachedPacket(packet, lastSeen)));
        string path = keypair.PublicKey.ToZ32();

        // x.5 s is newer than IMS x: 200 with the body.
        using var newer = await SendAsync(Http, HttpMethod.Get, path, r => IfModifiedSince(r, HttpDate(timestamp.Seconds)));
        Assert.Equal(HttpStatusCode.OK, newer.StatusCode);
        Assert.Equal(packet.RelayPayload.ToArray(), await newer.Content.ReadAsByteArrayAsync());

        // IMS x + 1 s: 304, the same four headers, no body.
        using var notModified = await SendAsync(Http, HttpMethod.Get, path, r => IfModifiedSince(r, HttpDate(timestamp.Seconds + 1)));
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());
        Assert.Equal(PayloadType, Raw(notModified, "Content-Type"));
        Assert.Equal("public, max-age=300", Raw(notModified, "Cache-Control"));
        Assert.Equal(HttpDate(timestamp.Seconds), Raw(notModified, "Last-Modified"));
        Assert.Equal(HttpDate(lastSeen.Seconds), Raw(notModified, "Memento-Datetime"));

        // HEAD follows the same rule.
        using var head = await SendAsync(Http, HttpMethod.Head, path, r => IfModifiedSince(r, HttpDate(timestamp.Seconds + 1)));
        Assert.Equal(HttpStatusCode.NotModified, head.StatusCode);

        // An unparsable header is ignored.
        using var garbage = await SendAsync(Http, HttpMethod.Get, path, r => IfModifiedSince(r, "yesterday, more or less"));
        Assert.Equal(HttpStatusCode.OK, garbage.StatusCode);
        Assert.Equal(packet.RelayPayload.ToArray(), await garbage.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Conditional_get_of_a_whole_second_packet_is_304_at_its_own_second()
    {
        using var keypair = Keypair.Random();
        var timestamp = WholeSecondNow().SubtractMicroseconds(5_000_000);
        Assert.True(await Server.Store!.PutIfNewerAsync(CachedPacket.Seen(Packet(keypair, timestamp))));
        string path = keypair.PublicKey.ToZ32();

        using var equal = await SendAsync(Http, HttpMethod.Get, path, r => IfModifiedSince(r, HttpDate(timestamp.Seconds)));
        using var before = await SendAsync(Http, HttpMethod.Get, path, r => IfModifiedSince(r, HttpDate(timestamp.Seconds - 1)));

        Assert.Equal(HttpStatusCode.NotModified, equal.StatusCode);
        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
    }

    [Fact]
    public async Task Percent_encoded_and_pk_uri_keys_resolve_like_the_bare_key()
    {
        using var keypair = Keypair.Random();
        var packet = Packet(keypair);
        Assert.True(await Server.Store!.PutIfNewerAsync(CachedPacket.Seen(packet)));
        string z32 = keypair.PublicKey.ToZ32();
        string encoded = string.Concat(z32.Select(c => "%" + ((int)c).ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));

        foreach (string path in new[] { encoded, "pk:" + z32, "pk%3A" + z32, "pk%3a" + encoded })
        {
            Assert.Equal(200, await RawStatusAsync(Server.Url, "GET", "/" + path + "?policy=CacheOnly"));
        }

        using var response = await Http.GetAsync(new Uri("/pk:" + z32 + "?policy=CacheOnly", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(packet.RelayPayload.ToArray(), await response.Content.ReadAsByteArrayAsync());

        // Decoded, the key must still be the key: one character too many, or an encoded character that is not
        // z-base32, is a 400.
        Assert.Equal(400, await RawStatusAsync(Server.Url, "GET", "/pk%3A" + z32 + "%79?policy=CacheOnly"));
        Assert.Equal(400, await RawStatusAsync(Server.Url, "GET", "/%30" + z32[1..] + "?policy=CacheOnly"));
    }
}
