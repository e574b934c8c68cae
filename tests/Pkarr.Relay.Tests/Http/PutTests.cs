// PUT /{key} (shared spec pkarr.md §6.3): 204 with the stored-node count, 409 on an older packet, re-publishing the
// same packet, the 1104-byte limit (413, by Content-Length and chunked) and the 400s in their order.

using System.Net;
using Pkarr.Keys;
using Pkarr.Packets;
using static Pkarr.Relay.Tests.Http.HttpApiSupport;

namespace Pkarr.Relay.Tests.Http;

public sealed class PutTests(SharedRelay shared) : IClassFixture<SharedRelay>
{
    private HttpClient Http => shared.Http;

    private RelayServer Server => shared.Server;

    [Fact]
    public async Task Put_stores_on_the_dht_and_in_the_store_and_answers_204_with_the_node_count()
    {
        using var keypair = Keypair.Random();
        var packet = Packet(keypair);
        using var body = Body(packet);

        using var put = await Http.PutAsync(keypair.PublicKey.ToZ32(), body);

        Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        Assert.Empty(await put.Content.ReadAsByteArrayAsync());
        int stored = int.Parse(Raw(put, "Pkarr-Dht-Stored-Nodes")!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(stored, 1, 10);
        Assert.Equal(packet.Timestamp, (await Server.Store!.PeekAsync(keypair.PublicKey))!.Packet.Timestamp);

        // On the DHT: a NetworkOnly GET finds it there, not in the store.
        using var get = await Http.GetAsync(keypair.PublicKey.ToZ32() + "?policy=NetworkOnly");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(packet.RelayPayload.ToArray(), await get.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Put_of_an_older_packet_is_409_and_the_same_packet_again_is_204()
    {
        using var keypair = Keypair.Random();
        var older = Packet(keypair, WholeSecondNow().SubtractMicroseconds(10_000_000), address: "192.0.2.1");
        var newer = Packet(keypair, WholeSecondNow(), address: "192.0.2.2");
        string path = keypair.PublicKey.ToZ32();

        using (var body = Body(newer))
        using (var first = await Http.PutAsync(path, body))
        {
            Assert.Equal(HttpStatusCode.NoContent, first.StatusCode);
        }

        using (var body = Body(newer))
        using (var again = await Http.PutAsync(path, body))
        {
            Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);
            Assert.NotNull(Raw(again, "Pkarr-Dht-Stored-Nodes"));
        }

        using (var body = Body(older))
        using (var conflict = await Http.PutAsync(path, body))
        {
            Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
            Assert.Equal("packet is not the most recent", await conflict.Content.ReadAsStringAsync());
            Assert.Null(Raw(conflict, "Pkarr-Dht-Stored-Nodes"));
        }

        Assert.Equal(newer.Timestamp, (await Server.Store!.PeekAsync(keypair.PublicKey))!.Packet.Timestamp);
    }

    [Fact]
    public async Task Bodies_over_1104_bytes_are_413_with_content_length_and_chunked()
    {
        using var keypair = Keypair.Random();
        string path = keypair.PublicKey.ToZ32();

        // A client that waits for "100 Continue" gets the 413 before sending the body.
        foreach (HttpContent oversized in new HttpContent[] { new ByteArrayContent(new byte[1105]), new ChunkedContent(new byte[5000]), new ChunkedContent(new byte[1105]) })
        {
            using (oversized)
            using (var request = new HttpRequestMessage(HttpMethod.Put, path) { Content = oversized })
            {
                request.Headers.ExpectContinue = true;
                using var put = await Http.SendAsync(request);
                Assert.Equal(HttpStatusCode.RequestEntityTooLarge, put.StatusCode);
                Assert.Contains("1104", await put.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
        }

        // One that sends the body at once gets it too: the relay reads and discards the rest of a body of a few KB
        // rather than closing the connection under the upload.
        for (int i = 0; i < 10; i++)
        {
            using (var body = new ByteArrayContent(new byte[5000]))
            using (var sized = await Http.PutAsync(path, body))
            {
                Assert.Equal(HttpStatusCode.RequestEntityTooLarge, sized.StatusCode);
            }

            using (var body = new ChunkedContent(new byte[5000]))
            using (var chunked = await Http.PutAsync(path, body))
            {
                Assert.Equal(HttpStatusCode.RequestEntityTooLarge, chunked.StatusCode);
            }
        }

        // A valid payload sent chunked passes the limit.
        var packet = Packet(keypair);
        using (var body = new ChunkedContent(packet.RelayPayload.ToArray()))
        using (var ok = await Http.PutAsync(path, body))
        {
            Assert.Equal(HttpStatusCode.NoContent, ok.StatusCode);
        }

        Assert.Equal(packet.Timestamp, (await Server.Store!.PeekAsync(keypair.PublicKey))!.Packet.Timestamp);
    }

    [Theory]
    [InlineData(1073, false)]
    [InlineData(1104, false)]
    [InlineData(1104, true)]
    [InlineData(83, false)]
    [InlineData(0, false)]
    public async Task Bodies_within_the_limit_that_are_no_payload_are_400(int length, bool chunked)
    {
        using var keypair = Keypair.Random();
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        using HttpContent body = chunked ? new ChunkedContent(bytes) : new ByteArrayContent(bytes);

        using var put = await Http.PutAsync(keypair.PublicKey.ToZ32(), body);

        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        Assert.NotEmpty(await put.Content.ReadAsStringAsync());
        Assert.Null(await Server.Store!.PeekAsync(keypair.PublicKey));
    }

    [Fact]
    public async Task A_bad_signature_is_400_with_the_error_text()
    {
        using var keypair = Keypair.Random();
        var payload = Packet(keypair).RelayPayload.ToArray();
        payload[10] ^= 1;
        using var body = new ByteArrayContent(payload);

        using var put = await Http.PutAsync(keypair.PublicKey.ToZ32(), body);

        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        Assert.StartsWith("text/plain", Raw(put, "Content-Type"), StringComparison.Ordinal);
        Assert.Contains("ignature", await put.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Null(await Server.Store!.PeekAsync(keypair.PublicKey));

        // A packet signed by another key is refused for this key too.
        using var other = Keypair.Random();
        using var foreign = Body(Packet(other));
        using var wrongKey = await Http.PutAsync(keypair.PublicKey.ToZ32(), foreign);
        Assert.Equal(HttpStatusCode.BadRequest, wrongKey.StatusCode);
    }

    [Fact]
    public async Task A_bad_key_is_400_invalid_url_even_with_an_oversized_body()
    {
        using var keypair = Keypair.Random();
        using (var body = Body(Packet(keypair)))
        using (var put = await Http.PutAsync("not-a-key", body))
        {
            Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
            Assert.StartsWith("Invalid URL: ", await put.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // The answer comes before the body is read, so a client that waits for "100 Continue" never sends it.
        foreach (HttpContent oversized in new HttpContent[] { new ByteArrayContent(new byte[5000]), new ChunkedContent(new byte[5000]) })
        {
            using (oversized)
            using (var request = new HttpRequestMessage(HttpMethod.Put, "not-a-key") { Content = oversized })
            {
                request.Headers.ExpectContinue = true;
                using var put = await Http.SendAsync(request);
                Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
                Assert.StartsWith("Invalid URL: ", await put.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
        }

        for (int i = 0; i < 10; i++)
        {
            using var body = new ByteArrayContent(new byte[5000]);
            using var put = await Http.PutAsync("not-a-key", body);
            Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        }

        // The same oversized body for a valid key is a 413.
        using (var body = new ByteArrayContent(new byte[5000]))
        using (var request = new HttpRequestMessage(HttpMethod.Put, keypair.PublicKey.ToZ32()) { Content = body })
        {
            request.Headers.ExpectContinue = true;
            using var put = await Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, put.StatusCode);
        }
    }

    /// <summary>A body without a known length, so HttpClient sends it chunked.</summary>
    private sealed class ChunkedContent(byte[] bytes) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
