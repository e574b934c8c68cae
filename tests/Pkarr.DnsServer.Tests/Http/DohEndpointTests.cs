using System.Buffers.Text;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Primitives;
using Pkarr.Dns;
using Pkarr.DnsServer.Http;
using Pkarr.DnsServer.Query;
using Pkarr.DnsServer.Tests.Listeners;

namespace Pkarr.DnsServer.Tests.Http;

public sealed class DohEndpointTests
{
    private const string MessageType = "application/dns-message";

    [Fact]
    public async Task GET_with_base64url_without_padding_returns_the_handlers_message()
    {
        var handler = new FakeQueryHandler();
        await using var server = await DohServer.StartAsync(handler);
        byte[] query = FakeQueryHandler.Query(0);

        using var response = await server.Client.GetAsync(DohEndpoint.Path + "?dns=" + Base64Url.EncodeToString(query));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(MessageType, response.Content.Headers.ContentType?.MediaType);
        byte[] body = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(query.Length, response.Content.Headers.ContentLength);
        Assert.Equal(0x80, body[2] & 0x80);
        Assert.Equal(query[3..], body[3..]);
        Assert.Equal("*", Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
        var call = Assert.Single(handler.Calls);
        Assert.Equal(new QueryContext(IPAddress.Loopback, DnsTransport.Https), call.Context);
    }

    [Fact]
    public async Task GET_accepts_padded_base64url_too()
    {
        var handler = new FakeQueryHandler();
        await using var server = await DohServer.StartAsync(handler);
        // A 25-byte query: its length is not a multiple of 3, so its base64 ends in padding.
        byte[] query = FakeQueryHandler.Query(21, "ab.test");
        string padded = Convert.ToBase64String(query).Replace('+', '-').Replace('/', '_');
        Assert.EndsWith("=", padded);

        using var response = await server.Client.GetAsync(DohEndpoint.Path + "?dns=" + padded);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(21, FakeQueryHandler.IdOf(await response.Content.ReadAsByteArrayAsync()));
    }

    [Fact]
    public async Task POST_with_a_dns_message_body_returns_the_handlers_message()
    {
        var handler = new FakeQueryHandler();
        await using var server = await DohServer.StartAsync(handler);

        using var response = await server.Client.PostAsync(DohEndpoint.Path, Message(FakeQueryHandler.Query(22)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(MessageType, response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(22, FakeQueryHandler.IdOf(await response.Content.ReadAsByteArrayAsync()));
        Assert.Equal(DnsTransport.Https, Assert.Single(handler.Calls).Context.Transport);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/octet-stream")]
    [InlineData(null)]
    public async Task POST_of_another_content_type_is_415(string? contentType)
    {
        var handler = new FakeQueryHandler();
        await using var server = await DohServer.StartAsync(handler);
        var content = new ByteArrayContent(FakeQueryHandler.Query(23));
        content.Headers.ContentType = contentType is null ? null : new MediaTypeHeaderValue(contentType);

        using var response = await server.Client.PostAsync(DohEndpoint.Path, content);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Empty(handler.Calls);
    }

    [Fact]
    public async Task POST_with_parameters_in_the_content_type_is_accepted()
    {
        var handler = new FakeQueryHandler();
        await using var server = await DohServer.StartAsync(handler);
        var content = new ByteArrayContent(FakeQueryHandler.Query(24));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("Application/DNS-Message; charset=binary");

        using var response = await server.Client.PostAsync(DohEndpoint.Path, content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_body_over_65535_bytes_is_413_and_one_of_65535_is_read(bool withLength)
    {
        var handler = new FakeQueryHandler();
        await using var server = await DohServer.StartAsync(handler);
        byte[] query = FakeQueryHandler.Query(25);

        using var over = await server.Client.PostAsync(DohEndpoint.Path, Body([.. query, .. new byte[65536 - query.Length]], withLength));
        using var limit = await server.Client.PostAsync(DohEndpoint.Path, Body([.. query, .. new byte[65535 - query.Length]], withLength));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, over.StatusCode);
        Assert.Equal(HttpStatusCode.OK, limit.StatusCode);
        Assert.Equal(65535, Assert.Single(handler.Calls).Length);
    }

    [Theory]
    [InlineData("?dns=!!!!")]
    [InlineData("?dns=")]
    [InlineData("")]
    [InlineData("?dns=AAAA&dns=AAAA")]
    [InlineData("?dns=AAAAAAAA")]
    public async Task A_bad_dns_parameter_is_400(string queryString)
    {
        var handler = new FakeQueryHandler();
        await using var server = await DohServer.StartAsync(handler);

        using var response = await server.Client.GetAsync(DohEndpoint.Path + queryString);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.ToString());
        Assert.NotEmpty(await response.Content.ReadAsStringAsync());
        // Six bytes decode, but are shorter than a DNS header: the handler is not asked.
        Assert.Empty(handler.Calls);
    }

    [Fact]
    public async Task A_message_the_handler_does_not_answer_is_400()
    {
        var handler = new FakeQueryHandler();
        handler.Unanswered.Add(26);
        await using var server = await DohServer.StartAsync(handler);

        using var response = await server.Client.PostAsync(DohEndpoint.Path, Message(FakeQueryHandler.Query(26)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Single(handler.Calls);
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("*/*", true)]
    [InlineData("application/*", true)]
    [InlineData("application/dns-message", true)]
    [InlineData("Application/DNS-Message", true)]
    [InlineData("application/dns-message; q=0.5", true)]
    [InlineData("application/dns-message, */*", true)]
    [InlineData("text/html, application/*;q=0.2", true)]
    [InlineData("text/html, */*;q=0.1", true)]
    [InlineData("not a media range", true)]
    [InlineData("", true)]
    [InlineData("application/dns-message;q=0, */*", false)]
    [InlineData("text/html", false)]
    [InlineData("application/json", false)]
    [InlineData("text/*, application/dns-json", false)]
    [InlineData("*/*;q=0", false)]
    public void Accept_headers_that_allow_dns_message_are_accepted_and_others_refused(string? accept, bool accepted)
    {
        var values = accept is null ? StringValues.Empty : new StringValues(accept);
        Assert.Equal(accepted, DohEndpoint.AcceptsDnsMessage(values));
    }

    [Theory]
    [InlineData("application/dns-message, */*", HttpStatusCode.OK)]
    [InlineData("text/html", HttpStatusCode.NotAcceptable)]
    public async Task An_Accept_that_excludes_dns_message_is_406(string accept, HttpStatusCode status)
    {
        var handler = new FakeQueryHandler();
        await using var server = await DohServer.StartAsync(handler);
        using var request = new HttpRequestMessage(HttpMethod.Post, DohEndpoint.Path) { Content = Message(FakeQueryHandler.Query(27)) };
        request.Headers.TryAddWithoutValidation("Accept", accept);

        using var response = await server.Client.SendAsync(request);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(status == HttpStatusCode.OK ? 1 : 0, handler.Calls.Count);
    }

    [Fact]
    public async Task Cache_control_is_the_smallest_TTL_and_no_store_on_failures()
    {
        var handler = new FakeQueryHandler();
        handler.Canned[30] = Response(30, rcode: 0, answers: [A(300), A(60)]);
        handler.Canned[31] = Response(31, rcode: 2);
        await using var server = await DohServer.StartAsync(handler);

        using var answered = await server.Client.PostAsync(DohEndpoint.Path, Message(FakeQueryHandler.Query(30)));
        using var failed = await server.Client.PostAsync(DohEndpoint.Path, Message(FakeQueryHandler.Query(31)));

        Assert.Equal("max-age=60", answered.Headers.CacheControl?.ToString());
        Assert.Equal("no-store", failed.Headers.CacheControl?.ToString());
        Assert.Equal(HttpStatusCode.OK, failed.StatusCode);
    }

    public static TheoryData<byte[], string> CacheControls => new()
    {
        { Response(1, rcode: 0, answers: [A(300), A(60)]), "max-age=60" },
        { Response(1, rcode: 0, answers: [A(300)], authorities: [Soa(ttl: 900, minimum: 30)]), "max-age=30" },
        { Response(1, rcode: 3, authorities: [Soa(ttl: 900, minimum: 120)]), "max-age=120" },
        { Response(1, rcode: 3, authorities: [Soa(ttl: 50, minimum: 120)]), "max-age=50" },
        { Response(1, rcode: 0, answers: [A(0)]), "max-age=0" },
        { Response(1, rcode: 0), "no-store" },
        { Response(1, rcode: 1), "no-store" },
        { Response(1, rcode: 2, answers: [A(300)]), "no-store" },
        { Response(1, rcode: 5), "no-store" },
        { new byte[] { 1, 2, 3 }, "no-store" },
    };

    [Theory]
    [MemberData(nameof(CacheControls))]
    public void Cache_control_follows_the_rcode_and_the_TTLs(byte[] response, string expected)
        => Assert.Equal(expected, DohEndpoint.CacheControlOf(response));

    [Fact]
    public void An_extended_rcode_in_OPT_is_a_failure()
    {
        var badvers = new DnsMessage
        {
            Id = 1,
            Flags = 0x8180,
            Answers = [A(300)],
            Additionals = [new ResourceRecord(DnsName.Root, (DnsClass)1232, 1u << 24, new UnknownData((RecordType)41, []))],
        }.Encode();
        Assert.Equal("no-store", DohEndpoint.CacheControlOf(badvers));
    }

    [Fact]
    public async Task CORS_pre_flight_is_204_with_the_allowed_methods_and_headers()
    {
        var handler = new FakeQueryHandler();
        await using var server = await DohServer.StartAsync(handler);
        using var request = new HttpRequestMessage(HttpMethod.Options, DohEndpoint.Path);
        request.Headers.Add("Origin", "https://example.org");
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "content-type");

        using var response = await server.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("*", Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
        Assert.Contains("POST", Assert.Single(response.Headers.GetValues("Access-Control-Allow-Methods")));
        Assert.Contains("GET", Assert.Single(response.Headers.GetValues("Access-Control-Allow-Methods")));
        Assert.Contains("Content-Type", Assert.Single(response.Headers.GetValues("Access-Control-Allow-Headers")));
        Assert.Empty(handler.Calls);
    }

    [Fact]
    public async Task Other_methods_are_405()
    {
        var handler = new FakeQueryHandler();
        await using var server = await DohServer.StartAsync(handler);

        using var response = await server.Client.PutAsync(DohEndpoint.Path, Message(FakeQueryHandler.Query(28)));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Empty(handler.Calls);
    }

    [Theory]
    [InlineData(false, "127.0.0.1")]
    [InlineData(true, "203.0.113.7")]
    public async Task X_Forwarded_For_names_the_client_only_behind_a_proxy(bool behindProxy, string client)
    {
        var handler = new FakeQueryHandler();
        await using var server = await DohServer.StartAsync(handler, behindProxy);
        using var request = new HttpRequestMessage(HttpMethod.Post, DohEndpoint.Path) { Content = Message(FakeQueryHandler.Query(29)) };
        request.Headers.Add("X-Forwarded-For", "203.0.113.7, 10.0.0.1");

        using var response = await server.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(IPAddress.Parse(client), Assert.Single(handler.Calls).Context.Client);
    }

    internal static ByteArrayContent Message(byte[] query)
    {
        var content = new ByteArrayContent(query);
        content.Headers.ContentType = new MediaTypeHeaderValue(MessageType);
        return content;
    }

    private static HttpContent Body(byte[] bytes, bool withLength)
    {
        HttpContent content = withLength ? new ByteArrayContent(bytes) : new StreamContent(new UnknownLengthStream(bytes));
        content.Headers.ContentType = new MediaTypeHeaderValue(MessageType);
        return content;
    }

    internal static byte[] Response(ushort id, int rcode, ResourceRecord[]? answers = null, ResourceRecord[]? authorities = null)
        => new DnsMessage
        {
            Id = id,
            Flags = (ushort)(0x8180 | rcode),
            Questions = [new DnsQuestion(DnsName.Parse("a.test"), RecordType.A, DnsClass.IN)],
            Answers = answers ?? [],
            Authorities = authorities ?? [],
        }.Encode();

    private static ResourceRecord A(uint ttl) => new(DnsName.Parse("a.test"), DnsClass.IN, ttl, new AData(IPAddress.Parse("192.0.2.1")));

    private static ResourceRecord Soa(uint ttl, uint minimum) => new(DnsName.Parse("test"), DnsClass.IN, ttl,
        new SoaData(DnsName.Parse("ns.test"), DnsName.Parse("admin.test"), 1, 3600, 600, 86400, minimum));

    /// <summary>A stream that does not tell its length, so HttpClient sends it chunked.</summary>
    private sealed class UnknownLengthStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
