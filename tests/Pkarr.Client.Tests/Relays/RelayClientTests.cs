using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Pkarr.Client.Relays;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Tests.Relays;

public sealed class RelayClientTests
{
    private static readonly Uri Relay = new("http://127.0.0.1:9001/");
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = TestPackets.Clock();
    private readonly FakeRelays _fake = new();

    private static PublicKey Key
    {
        get
        {
            using var keypair = TestPackets.Keypair();
            return keypair.PublicKey;
        }
    }

    private RelayClient Client(Uri? relay = null, ILogger? logger = null) =>
        new(relay ?? Relay, _fake.Client(), TimeSpan.FromSeconds(2), _time, logger ?? NullLogger.Instance);

    private Task<ResolveResult> Get(ResolvePolicy policy = ResolvePolicy.CacheFirst, Timestamp? bound = null, ILogger? logger = null) =>
        Client(logger: logger).GetAsync(Key, policy, bound, CancellationToken.None);

    // URLs

    [Theory]
    [InlineData("http://127.0.0.1:9001", "http://127.0.0.1:9001/KEY", "")]
    [InlineData("http://127.0.0.1:9001/", "http://127.0.0.1:9001/KEY", "")]
    [InlineData("http://127.0.0.1:9001/prefix", "http://127.0.0.1:9001/prefix/KEY", "")]
    [InlineData("http://127.0.0.1:9001/prefix/", "http://127.0.0.1:9001/prefix/KEY", "")]
    [InlineData("https://127.0.0.1/a/b//", "https://127.0.0.1/a/b/KEY", "")]
    [InlineData("http://127.0.0.1:9001/a%20b/", "http://127.0.0.1:9001/a%20b/KEY", "")]
    [InlineData("http://127.0.0.1:9001/p/?token=x%26y", "http://127.0.0.1:9001/p/KEY", "?token=x%26y")]
    [InlineData("http://127.0.0.1:9001/p#frag", "http://127.0.0.1:9001/p/KEY", "")]
    public void The_key_is_one_more_path_segment_and_policy_joins_the_query(string relay, string path, string query)
    {
        var client = Client(new Uri(relay));
        string key = Key.ToZ32();
        string expectedPath = path.Replace("KEY", key, StringComparison.Ordinal);

        Assert.Equal(expectedPath + query, client.KeyUrl(Key).AbsoluteUri);
        string separator = query.Length > 0 ? "&" : "?";
        Assert.Equal(expectedPath + query + separator + "policy=NetworkOnly", client.ResolveUrl(Key, ResolvePolicy.NetworkOnly).AbsoluteUri);
        Assert.DoesNotContain("//" + key, client.KeyUrl(Key).AbsoluteUri, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_prefixed_base_with_a_trailing_slash_is_requested_without_a_double_slash()
    {
        var relay = new Uri("http://127.0.0.1:9001/pkarr/?a=1");
        _fake.On(relay, _ => TestPackets.Status(404));

        await Client(relay).GetAsync(Key, ResolvePolicy.CacheOnly, null, CancellationToken.None);
        await Client(relay).PutAsync(TestPackets.Signed(), null, CancellationToken.None);

        var requests = _fake.To(relay);
        Assert.Equal("/pkarr/" + Key.ToZ32(), requests[0].Url.AbsolutePath);
        Assert.Equal("?a=1&policy=CacheOnly", requests[0].Url.Query);
        Assert.Equal("/pkarr/" + Key.ToZ32(), requests[1].Url.AbsolutePath);
        Assert.Equal("?a=1", requests[1].Url.Query);
    }

    [Theory]
    [InlineData("ftp://127.0.0.1/")]
    [InlineData("file:///tmp/relay")]
    public void A_relay_that_is_not_http_is_refused(string relay)
    {
        Assert.Throws<ArgumentException>(() => Client(new Uri(relay)));
        Assert.Throws<ArgumentException>(() => Client(new Uri("relay/path", UriKind.Relative)));
        Assert.NotNull(Client(new Uri("https://127.0.0.1/")));
    }

    // Headers per policy

    [Theory]
    [InlineData(ResolvePolicy.CacheOnly, false, "CacheOnly", false, false)]
    [InlineData(ResolvePolicy.CacheFirst, false, "CacheFirst", false, false)]
    [InlineData(ResolvePolicy.CacheFirst, true, "CacheFirst", false, true)]
    [InlineData(ResolvePolicy.NetworkOnly, false, "NetworkOnly", true, false)]
    public async Task Each_policy_sends_its_query_and_headers_and_no_others(ResolvePolicy policy, bool withBound, string query, bool bypass, bool conditional)
    {
        var bound = new Timestamp(1_767_268_000_123_456);
        _fake.On(Relay, _ => TestPackets.Status(404));

        await Get(policy, withBound ? bound : null);

        var request = Assert.Single(_fake.Requests);
        Assert.Equal(HttpMethod.Get, request.Method);
        Assert.Equal(query, request.Query("policy"));
        Assert.Equal(bypass ? "no-cache, no-store, must-revalidate" : null, request.Header("Cache-Control"));
        Assert.Equal(conditional ? "Thu, 01 Jan 2026 11:46:40 GMT" : null, request.Header("If-Modified-Since"));
        Assert.Null(request.Header("If-Match"));
        Assert.Empty(request.Body);
    }

    // GET status mapping

    [Theory]
    [InlineData(404, ResolveErrorKind.NotFound)]
    [InlineData(503, ResolveErrorKind.NoResponses)]
    [InlineData(500, ResolveErrorKind.UnexpectedResponses)]
    [InlineData(502, ResolveErrorKind.UnexpectedResponses)]
    [InlineData(429, ResolveErrorKind.UnexpectedResponses)]
    [InlineData(418, ResolveErrorKind.UnexpectedResponses)]
    [InlineData(301, ResolveErrorKind.UnexpectedResponses)]
    [InlineData(100, ResolveErrorKind.UnexpectedResponses)]
    public async Task Get_errors_map_to_resolve_errors_without_retry(int status, ResolveErrorKind kind)
    {
        _fake.On(Relay, _ => TestPackets.Status(status));

        var result = await Get();

        Assert.False(result.Found);
        Assert.Equal(kind, result.Error.Kind);
        Assert.Single(_fake.Requests);
    }

    [Theory]
    [InlineData(ResolvePolicy.CacheOnly)]
    [InlineData(ResolvePolicy.CacheFirst)]
    [InlineData(ResolvePolicy.NetworkOnly)]
    public async Task A_400_is_asked_once_more_without_the_policy_as_relays_older_than_it_need(ResolvePolicy policy)
    {
        var packet = TestPackets.Signed();
        var relay = new Uri("http://127.0.0.1:9001/base?token=t");
        var bound = packet.Timestamp.SubtractMicroseconds(5_000_000);
        _fake.On(relay, request => request.Query("policy") is null ? TestPackets.Ok(packet) : TestPackets.Status(400));

        var result = await Client(relay).GetAsync(Key, policy, bound, CancellationToken.None);

        Assert.True(result.Found);
        var requests = _fake.To(relay);
        Assert.Equal(2, requests.Length);
        Assert.Equal(policy.ToText(), requests[0].Query("policy"));
        Assert.Equal("?token=t", requests[1].Url.Query);
        Assert.Equal("/base/" + Key.ToZ32(), requests[1].Url.AbsolutePath);
        Assert.All(requests, request =>
        {
            Assert.Equal(policy == ResolvePolicy.NetworkOnly ? RelayClient.CacheBypass : null, request.Header("Cache-Control"));
            Assert.Equal(bound.ToHttpDate(), request.Header("If-Modified-Since"));
        });
    }

    [Fact]
    public async Task A_second_400_is_unexpected_and_there_is_no_third_request()
    {
        _fake.On(Relay, _ => TestPackets.Status(400));

        var result = await Get();

        Assert.Equal(ResolveErrorKind.UnexpectedResponses, result.Error!.Kind);
        Assert.Equal(2, _fake.Requests.Count);
    }

    [Fact]
    public async Task The_answer_without_the_policy_is_read_even_without_content_length()
    {
        // The npm relay answers with a chunked body; after the policy retry no further request is made.
        var packet = TestPackets.Signed();
        _fake.On(Relay, request =>
        {
            if (request.Query("policy") is not null)
            {
                return TestPackets.Status(400);
            }

            var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new MemoryStream(packet.RelayPayload.ToArray())) };
            response.Content.Headers.ContentLength = null;
            return response;
        });

        var result = await Get();

        Assert.True(result.Found);
        Assert.Equal(2, _fake.Requests.Count);
    }

    [Fact]
    public async Task A_packet_is_returned_as_seen_now_without_memento()
    {
        var packet = TestPackets.Signed();
        _fake.On(Relay, _ => TestPackets.Ok(packet));

        var result = await Get();

        Assert.True(result.Found);
        Assert.True(result.Packet.IsSameAs(packet));
        Assert.Equal(Timestamp.FromDateTimeOffset(TestPackets.Start), result.Entry.LastSeen);
        Assert.Single(_fake.Requests);
    }

    [Theory]
    [InlineData("Thu, 01 Jan 2026 11:00:00 GMT", "2026-01-01T11:00:00Z")]
    [InlineData("Thursday, 01-Jan-26 11:59:59 GMT", "2026-01-01T11:59:59Z")]
    [InlineData("Thu, 01 Jan 2026 12:00:00 GMT", "2026-01-01T12:00:00Z")]
    [InlineData("Thu, 01 Jan 2026 12:00:01 GMT", "2026-01-01T12:00:00Z")]
    [InlineData("Fri, 02 Jan 2026 12:00:00 GMT", "2026-01-01T12:00:00Z")]
    [InlineData("yesterday", "2026-01-01T12:00:00Z")]
    [InlineData("", "2026-01-01T12:00:00Z")]
    public async Task Memento_datetime_becomes_last_seen_unless_in_the_future_or_malformed(string memento, string lastSeen)
    {
        _fake.On(Relay, _ => TestPackets.Ok(TestPackets.Signed(), memento));

        var result = await Get();

        Assert.True(result.Found);
        Assert.Equal(Timestamp.FromDateTimeOffset(DateTimeOffset.Parse(lastSeen, System.Globalization.CultureInfo.InvariantCulture)), result.Entry.LastSeen);
    }

    // Retries

    [Fact]
    public async Task A_304_to_a_conditional_request_is_not_found_without_retry()
    {
        _fake.On(Relay, _ => TestPackets.Status(304));

        var result = await Get(bound: new Timestamp(1_767_268_000_000_000));

        Assert.Equal(ResolveErrorKind.NotFound, result.Error!.Kind);
        Assert.Single(_fake.Requests);
    }

    [Fact]
    public async Task A_304_to_an_unconditional_request_is_asked_once_more_past_caches()
    {
        var packet = TestPackets.Signed();
        _fake.Sequence(Relay, () => TestPackets.Status(304), () => TestPackets.Ok(packet));

        var result = await Get(ResolvePolicy.CacheOnly);

        Assert.True(result.Found);
        Assert.True(result.Packet.IsSameAs(packet));
        var requests = _fake.To(Relay);
        Assert.Equal(2, requests.Length);
        Assert.Null(requests[0].Header("Cache-Control"));
        Assert.Equal(RelayClient.CacheBypass, requests[1].Header("Cache-Control"));
        Assert.Equal("CacheOnly", requests[1].Query("policy"));
    }

    [Fact]
    public async Task A_second_304_is_not_found_and_there_is_no_third_request()
    {
        _fake.On(Relay, _ => TestPackets.Status(304));

        var result = await Get(ResolvePolicy.NetworkOnly);

        Assert.Equal(ResolveErrorKind.NotFound, result.Error!.Kind);
        Assert.Equal(2, _fake.Requests.Count);
    }

    [Fact]
    public async Task An_empty_2xx_is_asked_once_more_past_caches_and_a_second_one_is_unexpected()
    {
        var packet = TestPackets.Signed();
        _fake.Sequence(Relay, () => TestPackets.Status(200), () => TestPackets.Ok(packet));
        var found = await Get();
        Assert.True(found.Found);
        Assert.Equal(2, _fake.Requests.Count);
        Assert.Equal(RelayClient.CacheBypass, _fake.Requests.Last().Header("Cache-Control"));

        var again = new FakeRelays().On(Relay, _ => TestPackets.Status(204));
        var result = await new RelayClient(Relay, again.Client(), TimeSpan.FromSeconds(2), _time, NullLogger.Instance)
            .GetAsync(Key, ResolvePolicy.CacheFirst, null, CancellationToken.None);
        Assert.Equal(ResolveErrorKind.UnexpectedResponses, result.Error!.Kind);
        Assert.Equal(2, again.Requests.Count);
    }

    [Fact]
    public async Task The_retry_of_an_empty_answer_to_a_condition_drops_the_condition_and_keeps_the_bound()
    {
        // An old relay answers a failed If-Modified-Since with an empty 200 (spec §5.8): asked again without the
        // condition it sends its packet, which the bound then judges on the client.
        var packet = TestPackets.Signed(secondsAgo: 10);
        _fake.Sequence(Relay, () => TestPackets.Status(200), () => TestPackets.Ok(packet));

        var notNewer = await Get(bound: packet.Timestamp);

        Assert.Equal(ResolveErrorKind.NotFound, notNewer.Error!.Kind);
        var requests = _fake.To(Relay);
        Assert.Equal(2, requests.Length);
        Assert.NotNull(requests[0].Header("If-Modified-Since"));
        Assert.Null(requests[1].Header("If-Modified-Since"));
        Assert.Equal(RelayClient.CacheBypass, requests[1].Header("Cache-Control"));

        var newer = new FakeRelays();
        newer.Sequence(Relay, () => TestPackets.Status(200), () => TestPackets.Ok(packet));
        var result = await new RelayClient(Relay, newer.Client(), TimeSpan.FromSeconds(2), _time, NullLogger.Instance)
            .GetAsync(Key, ResolvePolicy.CacheFirst, packet.Timestamp.SubtractMicroseconds(1), CancellationToken.None);
        Assert.True(result.Found);
    }

    [Fact]
    public async Task A_2xx_without_content_length_is_asked_once_more_and_its_streamed_body_is_read()
    {
        var packet = TestPackets.Signed();
        _fake.On(Relay, _ =>
        {
            var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new MemoryStream(packet.RelayPayload.ToArray())) };
            response.Content.Headers.ContentLength = null;
            return response;
        });

        var result = await Get();

        Assert.True(result.Found);
        Assert.True(result.Packet.IsSameAs(packet));
        Assert.Equal(2, _fake.Requests.Count);
    }

    // Body limits and parsing

    [Fact]
    public async Task A_body_declared_above_1104_bytes_is_refused_unread()
    {
        var body = new EndlessBody();
        _fake.On(Relay, _ =>
        {
            var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(body) };
            response.Content.Headers.ContentLength = RelayClient.MaxBodyLength + 1;
            return response;
        });
        var logger = new ListLogger();

        var result = await Get(logger: logger);

        Assert.Equal(ResolveErrorKind.UnexpectedResponses, result.Error!.Kind);
        Assert.Equal(0, body.BytesRead);
        Assert.Single(_fake.Requests);
        Assert.Contains(logger.Lines, line => line.Contains("Content-Length 1105", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_body_of_1104_bytes_is_read_and_parsed()
    {
        byte[] junk = new byte[RelayClient.MaxBodyLength];
        _fake.On(Relay, _ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(junk) });
        var logger = new ListLogger();

        var result = await Get(logger: logger);

        // Not refused for its size: the packet parser judges it (too long for a packet).
        Assert.Equal(ResolveErrorKind.UnexpectedResponses, result.Error!.Kind);
        Assert.DoesNotContain(logger.Lines, line => line.Contains("1104 bytes", StringComparison.Ordinal) && line.Contains("runs past", StringComparison.Ordinal));
        Assert.Contains(logger.Lines, line => line.Contains("too large", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_body_that_runs_past_its_declared_length_is_cut_at_1105_bytes()
    {
        var body = new EndlessBody();
        _fake.On(Relay, _ =>
        {
            var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(body) };
            response.Content.Headers.ContentLength = 500;
            return response;
        });
        var logger = new ListLogger();

        var result = await Get(logger: logger);

        Assert.Equal(ResolveErrorKind.UnexpectedResponses, result.Error!.Kind);
        Assert.InRange(body.BytesRead, RelayClient.MaxBodyLength + 1, RelayClient.MaxBodyLength + 1);
        Assert.Contains(logger.Lines, line => line.Contains("runs past 1104 bytes", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_endless_streamed_body_is_cut_at_1105_bytes_after_the_retry()
    {
        var bodies = new List<EndlessBody>();
        _fake.On(Relay, _ =>
        {
            var body = new EndlessBody();
            bodies.Add(body);
            var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(body) };
            response.Content.Headers.ContentLength = null;
            return response;
        });

        var result = await Get();

        Assert.Equal(ResolveErrorKind.UnexpectedResponses, result.Error!.Kind);
        Assert.Equal(2, bodies.Count);
        Assert.Equal(0, bodies[0].BytesRead);
        Assert.Equal(RelayClient.MaxBodyLength + 1, bodies[1].BytesRead);
    }

    [Fact]
    public async Task The_largest_packet_is_accepted()
    {
        using var keypair = TestPackets.Keypair();
        var packet = SignedPacket.Builder()
            .Timestamp(Timestamp.FromDateTimeOffset(TestPackets.Start.AddSeconds(-1)))
            .Txt("@", new string('x', 900), 300)
            .Sign(keypair);
        Assert.InRange(packet.RelayPayload.Length, 1000, 1072);
        _fake.On(Relay, _ => TestPackets.Ok(packet));

        var result = await Get();

        Assert.True(result.Found);
        Assert.True(result.Packet.IsSameAs(packet));
    }

    [Fact]
    public async Task A_tampered_or_foreign_packet_is_unexpected_and_the_reason_is_logged()
    {
        byte[] tampered = TestPackets.Signed().RelayPayload.ToArray();
        tampered[^1] ^= 1;
        _fake.On(Relay, _ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(tampered) });
        var logger = new ListLogger();

        var result = await Get(logger: logger);

        Assert.Equal(ResolveErrorKind.UnexpectedResponses, result.Error!.Kind);
        Assert.Contains(logger.Lines, line => line.Contains("unusable body", StringComparison.Ordinal));

        using var other = Keypair.Random();
        var foreign = SignedPacket.Builder().Txt("@", "other", 300).Sign(other);
        var fake = new FakeRelays().On(Relay, _ => TestPackets.Ok(foreign));
        var refused = await new RelayClient(Relay, fake.Client(), TimeSpan.FromSeconds(2), _time, NullLogger.Instance)
            .GetAsync(Key, ResolvePolicy.CacheFirst, null, CancellationToken.None);
        Assert.Equal(ResolveErrorKind.UnexpectedResponses, refused.Error!.Kind);
    }

    // Lower bound

    [Theory]
    [InlineData(-1, false)]
    [InlineData(0, false)]
    [InlineData(1, true)]
    [InlineData(1_000_000, true)]
    public async Task A_packet_no_newer_than_the_lower_bound_is_not_found(long offset, bool found)
    {
        var packet = TestPackets.Signed();
        var bound = new Timestamp((ulong)((long)packet.Timestamp.Microseconds - offset));
        _fake.On(Relay, _ => TestPackets.Ok(packet));

        var result = await Get(bound: bound);

        Assert.Equal(found, result.Found);
        if (!found)
        {
            Assert.Equal(ResolveErrorKind.NotFound, result.Error!.Kind);
        }
    }

    [Fact]
    public async Task Without_a_bound_an_old_packet_is_returned()
    {
        var packet = TestPackets.Signed(secondsAgo: 1_000_000);
        _fake.On(Relay, _ => TestPackets.Ok(packet));

        Assert.True((await Get(ResolvePolicy.CacheFirst, null)).Found);
    }

    // Invalid signed packet seq

    [Theory]
    [InlineData("5000000", 5_000_000L, "NotFound")]
    [InlineData("4999999", 5_000_000L, "NotFound")]
    [InlineData("0", 5_000_000L, "NotFound")]
    [InlineData("5000001", 5_000_000L, "Invalid:5000001")]
    [InlineData(" 5000001 ", 5_000_000L, "Invalid:5000001")]
    [InlineData("-1", 5_000_000L, "Invalid:-1")]
    [InlineData("7", null, "Invalid:7")]
    [InlineData("9223372036854775807", null, "Invalid:9223372036854775807")]
    [InlineData("abc", 5_000_000L, "UnexpectedResponses")]
    [InlineData("", null, "UnexpectedResponses")]
    [InlineData("1.5", null, "UnexpectedResponses")]
    [InlineData("9223372036854775808", null, "UnexpectedResponses")]
    public async Task A_404_with_an_invalid_seq_is_invalid_only_above_the_bound(string header, long? bound, string expected)
    {
        _fake.On(Relay, _ => TestPackets.Status(404, ("Pkarr-Invalid-Signed-Packet-Seq", header)));

        var result = await Get(bound: bound is { } b ? new Timestamp((ulong)b) : null);

        Assert.False(result.Found);
        string actual = result.Error.Kind == ResolveErrorKind.InvalidSignedPacket
            ? "Invalid:" + result.Error.Seq.ToString(System.Globalization.CultureInfo.InvariantCulture)
            : result.Error.Kind.ToString();
        Assert.Equal(expected, actual);
        Assert.Single(_fake.Requests);
    }

    [Fact]
    public async Task Two_invalid_seq_headers_are_malformed()
    {
        _fake.On(Relay, _ =>
        {
            var response = TestPackets.Status(404);
            response.Headers.TryAddWithoutValidation("Pkarr-Invalid-Signed-Packet-Seq", ["5", "6"]);
            return response;
        });

        Assert.Equal(ResolveErrorKind.UnexpectedResponses, (await Get()).Error!.Kind);
    }

    // Timeouts, failures, cancellation

    [Fact]
    public async Task A_get_times_out_after_the_request_timeout_on_the_given_clock()
    {
        var silent = new SilentRelay();
        _fake.On(Relay, silent.Respond);

        var pending = Get();
        await silent.Started.Task.WaitAsync(Wait);
        _time.Advance(TimeSpan.FromMilliseconds(1999));
        await Task.Delay(50);
        Assert.False(pending.IsCompleted);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        var result = await pending.WaitAsync(Wait);
        Assert.Equal(ResolveErrorKind.NoResponses, result.Error!.Kind);
        await silent.Cancelled.Task.WaitAsync(Wait);
    }

    [Fact]
    public async Task The_retry_has_a_timeout_of_its_own()
    {
        var silent = new SilentRelay();
        int count = 0;
        _fake.On(Relay, async (request, ct) =>
        {
            if (Interlocked.Increment(ref count) == 1)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(1500), _time, ct);
                return TestPackets.Status(304);
            }

            return await silent.Respond(request, ct);
        });

        var pending = Get(ResolvePolicy.NetworkOnly);
        await WaitUntil(() => _fake.Requests.Count == 1);
        _time.Advance(TimeSpan.FromMilliseconds(1500));
        await silent.Started.Task.WaitAsync(Wait);
        _time.Advance(TimeSpan.FromMilliseconds(1999));
        await Task.Delay(50);
        Assert.False(pending.IsCompleted);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(ResolveErrorKind.NoResponses, (await pending.WaitAsync(Wait)).Error!.Kind);
    }

    [Fact]
    public async Task A_connection_failure_or_a_broken_body_is_no_response()
    {
        _fake.On(Relay, (_, _) => Task.FromException<HttpResponseMessage>(new HttpRequestException("connection refused")));
        Assert.Equal(ResolveErrorKind.NoResponses, (await Get()).Error!.Kind);
        var put = await Client().PutAsync(TestPackets.Signed(), null, CancellationToken.None);
        Assert.Equal(PublishErrorKind.NoResponses, put.Error!.Kind);
        Assert.Null(put.StatusCode);

        var broken = new FakeRelays().On(Relay, _ =>
        {
            var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new EndlessBody(new IOException("connection reset"))) };
            response.Content.Headers.ContentLength = 200;
            return response;
        });
        var result = await new RelayClient(Relay, broken.Client(), TimeSpan.FromSeconds(2), _time, NullLogger.Instance)
            .GetAsync(Key, ResolvePolicy.CacheFirst, null, CancellationToken.None);
        Assert.Equal(ResolveErrorKind.NoResponses, result.Error!.Kind);
    }

    [Fact]
    public async Task The_callers_cancellation_propagates()
    {
        var silent = new SilentRelay();
        _fake.On(Relay, silent.Respond);
        using var cts = new CancellationTokenSource();

        var get = Client().GetAsync(Key, ResolvePolicy.CacheFirst, null, cts.Token);
        var put = Client().PutAsync(TestPackets.Signed(), null, cts.Token);
        await WaitUntil(() => _fake.Requests.Count == 2);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => get.WaitAsync(Wait));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => put.WaitAsync(Wait));
    }

    // PUT

    [Fact]
    public async Task A_put_sends_the_relay_payload_to_the_key_url_with_if_match_only_for_cas()
    {
        var packet = TestPackets.Signed();
        _fake.On(Relay, _ => TestPackets.Status(204));

        await Client().PutAsync(packet, null, CancellationToken.None);
        await Client().PutAsync(packet, new Timestamp(1_767_268_790_000_001), CancellationToken.None);

        var requests = _fake.To(Relay);
        Assert.All(requests, request =>
        {
            Assert.Equal(HttpMethod.Put, request.Method);
            Assert.Equal(Client().KeyUrl(Key), request.Url);
            Assert.Null(request.Query("policy"));
            Assert.Equal(packet.RelayPayload.ToArray(), request.Body);
            Assert.Null(request.Header("Cache-Control"));
            Assert.Null(request.Header("If-Modified-Since"));
        });
        Assert.Null(requests[0].Header("If-Match"));
        Assert.Equal("1767268790000001", requests[1].Header("If-Match"));
    }

    [Theory]
    [InlineData(204, "7", 7)]
    [InlineData(200, null, 1)]
    [InlineData(201, "0", 0)]
    [InlineData(204, " 12 ", 12)]
    [InlineData(204, "4294967295", int.MaxValue)]
    public async Task A_2xx_put_reports_the_stored_nodes_header_or_one(int status, string? header, int storedOn)
    {
        _fake.On(Relay, _ => header is null ? TestPackets.Status(status) : TestPackets.Status(status, ("Pkarr-Dht-Stored-Nodes", header)));

        var outcome = await Client().PutAsync(TestPackets.Signed(), null, CancellationToken.None);

        Assert.True(outcome.Succeeded);
        Assert.Equal(status, outcome.StatusCode);
        Assert.Equal(storedOn, outcome.StoredOn);
        Assert.Equal(Relay, outcome.Relay);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("+3")]
    [InlineData("4294967296")]
    [InlineData("")]
    public async Task A_malformed_stored_nodes_header_is_unexpected(string header)
    {
        _fake.On(Relay, _ => TestPackets.Status(204, ("Pkarr-Dht-Stored-Nodes", header)));

        var outcome = await Client().PutAsync(TestPackets.Signed(), null, CancellationToken.None);

        Assert.False(outcome.Succeeded);
        Assert.Equal(PublishErrorKind.UnexpectedResponses, outcome.Error!.Kind);
        Assert.Equal(204, outcome.StatusCode);
        Assert.Equal(0, outcome.StoredOn);
    }

    [Theory]
    [InlineData(409, PublishErrorKind.NotMostRecent)]
    [InlineData(412, PublishErrorKind.NotMostRecent)]
    [InlineData(428, PublishErrorKind.NotMostRecent)]
    [InlineData(503, PublishErrorKind.NoResponses)]
    [InlineData(400, PublishErrorKind.UnexpectedResponses)]
    [InlineData(413, PublishErrorKind.UnexpectedResponses)]
    [InlineData(429, PublishErrorKind.UnexpectedResponses)]
    [InlineData(500, PublishErrorKind.UnexpectedResponses)]
    [InlineData(404, PublishErrorKind.UnexpectedResponses)]
    [InlineData(304, PublishErrorKind.UnexpectedResponses)]
    public async Task Put_errors_map_to_publish_errors(int status, PublishErrorKind kind)
    {
        _fake.On(Relay, _ => new HttpResponseMessage((HttpStatusCode)status) { Content = new StringContent("packet is not the most recent") });
        var logger = new ListLogger();

        var outcome = await Client(logger: logger).PutAsync(TestPackets.Signed(), null, CancellationToken.None);

        Assert.False(outcome.Succeeded);
        Assert.Equal(kind, outcome.Error!.Kind);
        Assert.Equal(status, outcome.StatusCode);
        Assert.Single(_fake.Requests);
        Assert.Contains(logger.Lines, line => line.Contains("packet is not the most recent", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_put_times_out_after_the_request_timeout()
    {
        var silent = new SilentRelay();
        _fake.On(Relay, silent.Respond);

        var pending = Client().PutAsync(TestPackets.Signed(), null, CancellationToken.None);
        await silent.Started.Task.WaitAsync(Wait);
        _time.Advance(TimeSpan.FromMilliseconds(1999));
        await Task.Delay(50);
        Assert.False(pending.IsCompleted);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        var outcome = await pending.WaitAsync(Wait);
        Assert.Equal(PublishErrorKind.NoResponses, outcome.Error!.Kind);
        Assert.Null(outcome.StatusCode);
    }

    internal static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold within 10 s");
            await Task.Delay(5);
        }
    }
}
