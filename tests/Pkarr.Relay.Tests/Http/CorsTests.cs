// CORS (shared spec pkarr.md §6.4): every OPTIONS is an empty 200 before routing that echoes the pre-flight request;
// Vary and Allow-Credentials are on every response, Allow-Origin only when the request had an Origin, and
// Expose-Headers on every response but pre-flights.

using System.Net;
using Pkarr.Keys;
using Pkarr.Packets;
using static Pkarr.Relay.Tests.Http.HttpApiSupport;

namespace Pkarr.Relay.Tests.Http;

public sealed class CorsTests(SharedRelay shared) : IClassFixture<SharedRelay>
{
    private const string Vary = "origin, access-control-request-method, access-control-request-headers";
    private const string Origin = "https://app.example";

    private HttpClient Http => shared.Http;

    private RelayServer Server => shared.Server;

    [Theory]
    [InlineData("/")]
    [InlineData("/a/b/c")]
    [InlineData("/not-a-key")]
    [InlineData("/ybndrfg8ejkmcpqxot1uwisza345h769ybndrfg8ejkmcpqxot1u")]
    public async Task Options_on_any_path_is_an_empty_200_echoing_the_preflight(string path)
    {
        using var preflight = await SendAsync(Http, HttpMethod.Options, path, r =>
        {
            r.Headers.Add("Origin", Origin);
            r.Headers.Add("Access-Control-Request-Method", "PUT");
            r.Headers.Add("Access-Control-Request-Headers", "content-type, x-custom");
        });

        Assert.Equal(HttpStatusCode.OK, preflight.StatusCode);
        Assert.Empty(await preflight.Content.ReadAsByteArrayAsync());
        Assert.Equal(Origin, Raw(preflight, "Access-Control-Allow-Origin"));
        Assert.Equal("PUT", Raw(preflight, "Access-Control-Allow-Methods"));
        Assert.Equal("content-type, x-custom", Raw(preflight, "Access-Control-Allow-Headers"));
        Assert.Equal("true", Raw(preflight, "Access-Control-Allow-Credentials"));
        Assert.Equal(Vary, Raw(preflight, "Vary"));
        Assert.Null(Raw(preflight, "Access-Control-Max-Age"));
        Assert.Null(Raw(preflight, "Access-Control-Expose-Headers"));

        // Without Origin and pre-flight headers: still an empty 200, nothing echoed.
        using var bare = await SendAsync(Http, HttpMethod.Options, path);
        Assert.Equal(HttpStatusCode.OK, bare.StatusCode);
        Assert.Empty(await bare.Content.ReadAsByteArrayAsync());
        Assert.Null(Raw(bare, "Access-Control-Allow-Origin"));
        Assert.Null(Raw(bare, "Access-Control-Allow-Methods"));
        Assert.Null(Raw(bare, "Access-Control-Allow-Headers"));
        Assert.Equal("true", Raw(bare, "Access-Control-Allow-Credentials"));
        Assert.Equal(Vary, Raw(bare, "Vary"));
    }

    [Fact]
    public async Task Every_response_carries_vary_credentials_and_exposed_headers_and_the_origin_only_when_asked()
    {
        using var keypair = Keypair.Random();
        var timestamp = WholeSecondNow().SubtractMicroseconds(5_000_000);
        Assert.True(await Server.Store!.PutIfNewerAsync(CachedPacket.Seen(Packet(keypair, timestamp))));
        string key = keypair.PublicKey.ToZ32();
        var requests = new (string Path, Action<HttpRequestMessage>? Configure, HttpStatusCode Status)[]
        {
            (key, null, HttpStatusCode.OK),
            (key, r => IfModifiedSince(r, HttpDate(timestamp.Seconds + 1)), HttpStatusCode.NotModified),
            (Keypair.Random().PublicKey.ToZ32() + "?policy=CacheOnly", null, HttpStatusCode.NotFound),
            ("not-a-key", null, HttpStatusCode.BadRequest),
            ("a/b", null, HttpStatusCode.NotFound),
            ("api/status", null, HttpStatusCode.OK),
            ("status", null, HttpStatusCode.OK),
        };

        foreach (var (path, configure, status) in requests)
        {
            using var withOrigin = await SendAsync(Http, HttpMethod.Get, path, r =>
            {
                r.Headers.Add("Origin", Origin);
                configure?.Invoke(r);
            });
            using var withoutOrigin = await SendAsync(Http, HttpMethod.Get, path, configure);

            foreach (var response in new[] { withOrigin, withoutOrigin })
            {
                Assert.Equal(status, response.StatusCode);
                Assert.Equal(Vary, Raw(response, "Vary"));
                Assert.Equal("true", Raw(response, "Access-Control-Allow-Credentials"));
                string exposed = Raw(response, "Access-Control-Expose-Headers")!;
                Assert.StartsWith("pkarr-invalid-signed-packet-seq,pkarr-dht-stored-nodes", exposed, StringComparison.Ordinal);
                Assert.DoesNotContain(' ', exposed);
            }

            Assert.Equal(Origin, Raw(withOrigin, "Access-Control-Allow-Origin"));
            Assert.Null(Raw(withoutOrigin, "Access-Control-Allow-Origin"));
        }
    }

    [Fact]
    public async Task A_put_carries_the_cors_headers()
    {
        using var keypair = Keypair.Random();
        using var body = Body(Packet(keypair));
        using var request = new HttpRequestMessage(HttpMethod.Put, keypair.PublicKey.ToZ32()) { Content = body };
        request.Headers.Add("Origin", Origin);

        using var put = await Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        Assert.Equal(Origin, Raw(put, "Access-Control-Allow-Origin"));
        Assert.Equal("true", Raw(put, "Access-Control-Allow-Credentials"));
        Assert.NotNull(Raw(put, "Access-Control-Expose-Headers"));
    }
}
