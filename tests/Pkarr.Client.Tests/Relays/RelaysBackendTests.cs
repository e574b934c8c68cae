using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Pkarr.Client.Relays;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Tests.Relays;

public sealed class RelaysBackendTests
{
    private static readonly Uri A = new("http://127.0.0.1:9001/");
    private static readonly Uri B = new("http://127.0.0.1:9002/");
    private static readonly Uri C = new("http://127.0.0.1:9003/relay");
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    // An hour before the clock's start: any TTL-300 packet last seen then is expired.
    private const string AnHourAgo = "Thu, 01 Jan 2026 11:00:00 GMT";

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

    private RelaysBackend Backend(params Uri[] relays) =>
        new(relays, _fake.Client(), TimeSpan.FromSeconds(2), _time, NullLogger.Instance);

    private CacheContext Context(CachedPacket? cached = null) => new(cached, 300, 86400, _time);

    private Func<RecordedRequest, CancellationToken, Task<HttpResponseMessage>> After(double seconds, Func<HttpResponseMessage> respond) =>
        async (_, ct) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(seconds), _time, ct);
            return respond();
        };

    [Fact]
    public void The_list_of_relays_must_not_be_empty_and_every_relay_must_be_http()
    {
        Assert.Throws<InvalidOperationException>(() => Backend());
        Assert.Throws<ArgumentException>(() => Backend(A, new Uri("ftp://127.0.0.1/")));
        Assert.NotNull(Backend(A, B));
    }

    // Resolve

    [Fact]
    public async Task Cache_only_returns_the_first_packet_and_cancels_the_others()
    {
        var packet = TestPackets.Signed();
        var silent = new SilentRelay();
        _fake.On(A, silent.Respond).On(B, _ => TestPackets.Ok(packet, AnHourAgo));

        var result = await Backend(A, B).ResolveAsync(Key, ResolvePolicy.CacheOnly, null, CancellationToken.None).WaitAsync(Wait);

        // Expired or not: under CacheOnly any relay-cached packet is the answer.
        Assert.True(result.Found);
        Assert.True(result.Packet.IsSameAs(packet));
        await silent.Cancelled.Task.WaitAsync(Wait);
        Assert.All(_fake.Requests, request => Assert.Equal("CacheOnly", request.Query("policy")));
        Assert.All(_fake.Requests, request => Assert.Null(request.Header("Cache-Control")));
    }

    [Fact]
    public async Task Cache_only_without_a_packet_merges_the_errors()
    {
        _fake.On(A, _ => TestPackets.Status(404)).On(B, _ => TestPackets.Status(503)).On(C, _ => TestPackets.Status(503));

        var result = await Backend(A, B, C).ResolveAsync(Key, ResolvePolicy.CacheOnly, null, CancellationToken.None);

        Assert.Equal(ResolveErrorKind.NotFound, result.Error!.Kind);
        Assert.Equal(3, _fake.Requests.Count);
    }

    [Fact]
    public async Task Cache_first_returns_the_first_acceptable_packet_and_cancels_a_slow_relay()
    {
        var cached = new CachedPacket(TestPackets.Signed(secondsAgo: 600, text: "old"), Timestamp.FromDateTimeOffset(TestPackets.Start.AddSeconds(-600)));
        var fresh = TestPackets.Signed(secondsAgo: 5, text: "new");
        var silent = new SilentRelay();
        _fake.On(A, silent.Respond).On(B, _ => TestPackets.Ok(fresh));

        var result = await Backend(A, B).ResolveAsync(Key, ResolvePolicy.CacheFirst, Context(cached), CancellationToken.None).WaitAsync(Wait);

        Assert.True(result.Found);
        Assert.True(result.Packet.IsSameAs(fresh));
        await silent.Cancelled.Task.WaitAsync(Wait);
        string since = cached.Packet.Timestamp.SubtractMicroseconds(1_000_000).ToHttpDate();
        Assert.All(_fake.Requests, request =>
        {
            Assert.Equal("CacheFirst", request.Query("policy"));
            Assert.Equal(since, request.Header("If-Modified-Since"));
            Assert.Null(request.Header("Cache-Control"));
        });
    }

    [Fact]
    public async Task Cache_first_waits_past_an_expired_packet_and_takes_a_fresh_one()
    {
        var expired = TestPackets.Signed(secondsAgo: 5, text: "expired");
        var fresh = TestPackets.Signed(secondsAgo: 20, text: "fresh");
        _fake.On(A, _ => TestPackets.Ok(expired, AnHourAgo)).On(B, After(1, () => TestPackets.Ok(fresh)));

        var pending = Backend(A, B).ResolveAsync(Key, ResolvePolicy.CacheFirst, Context(), CancellationToken.None);
        await RelayClientTests.WaitUntil(() => _fake.Requests.Count == 2);
        await Task.Delay(50);
        Assert.False(pending.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(1));
        var result = await pending.WaitAsync(Wait);

        // The merge prefers the acceptable packet to the more recent but expired one (spec §5.5).
        Assert.True(result.Packet!.IsSameAs(fresh));
        Assert.All(_fake.Requests, request => Assert.Null(request.Header("If-Modified-Since")));
    }

    [Fact]
    public async Task Cache_first_with_only_an_expired_packet_returns_it_for_the_client_to_judge()
    {
        var expired = TestPackets.Signed(secondsAgo: 5);
        _fake.On(A, _ => TestPackets.Ok(expired, AnHourAgo)).On(B, _ => TestPackets.Status(404));

        var result = await Backend(A, B).ResolveAsync(Key, ResolvePolicy.CacheFirst, Context(), CancellationToken.None);

        Assert.True(result.Packet!.IsSameAs(expired));
        Assert.Equal(Timestamp.FromDateTimeOffset(TestPackets.Start.AddHours(-1)), result.Entry!.LastSeen);
        Assert.Equal(2, _fake.Requests.Count);
    }

    [Fact]
    public async Task Cache_first_counts_a_packet_below_the_cached_floor_as_empty()
    {
        // Newer than the relay bound (cached − 1 s) but older than the cached packet: not final, and empty.
        var cachedPacket = TestPackets.Signed(secondsAgo: 10, text: "cached");
        var cached = new CachedPacket(cachedPacket, Timestamp.FromDateTimeOffset(TestPackets.Start.AddSeconds(-600)));
        var older = TestPackets.Signed(secondsAgo: 10.5, text: "older");
        _fake.On(A, _ => TestPackets.Ok(older)).On(B, After(1, () => TestPackets.Status(404)));

        var pending = Backend(A, B).ResolveAsync(Key, ResolvePolicy.CacheFirst, Context(cached), CancellationToken.None);
        await RelayClientTests.WaitUntil(() => _fake.Requests.Count == 2);
        await Task.Delay(50);
        Assert.False(pending.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(ResolveErrorKind.NotFound, (await pending.WaitAsync(Wait)).Error!.Kind);
    }

    [Fact]
    public async Task Network_only_hears_every_relay_and_returns_the_most_recent()
    {
        var older = TestPackets.Signed(secondsAgo: 20, text: "older");
        var newer = TestPackets.Signed(secondsAgo: 5, text: "newer");
        _fake.On(A, _ => TestPackets.Ok(older)).On(B, After(1, () => TestPackets.Ok(newer))).On(C, _ => TestPackets.Status(503));

        var pending = Backend(A, B, C).ResolveAsync(Key, ResolvePolicy.NetworkOnly, null, CancellationToken.None);
        await RelayClientTests.WaitUntil(() => _fake.Requests.Count == 3);
        await Task.Delay(50);
        Assert.False(pending.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(1));
        var result = await pending.WaitAsync(Wait);

        Assert.True(result.Packet!.IsSameAs(newer));
        Assert.All(_fake.Requests, request =>
        {
            Assert.Equal("NetworkOnly", request.Query("policy"));
            Assert.Equal(RelayClient.CacheBypass, request.Header("Cache-Control"));
            Assert.Null(request.Header("If-Modified-Since"));
        });
        Assert.Equal("/relay/" + Key.ToZ32(), _fake.To(C).Single().Url.AbsolutePath);
    }

    [Theory]
    [InlineData(new[] { 503, 503, 404 }, ResolveErrorKind.NotFound)]
    [InlineData(new[] { 503, 503, 500 }, ResolveErrorKind.NoResponses)]
    [InlineData(new[] { 500, 500, 503 }, ResolveErrorKind.UnexpectedResponses)]
    [InlineData(new[] { 500, 503, 418 }, ResolveErrorKind.UnexpectedResponses)]
    [InlineData(new[] { 500, 503, 200 }, ResolveErrorKind.UnexpectedResponses)]
    [InlineData(new[] { 500, 503, 503 }, ResolveErrorKind.NoResponses)]
    [InlineData(new[] { 500, 503 }, ResolveErrorKind.NoResponses)]
    public async Task Network_only_errors_merge_by_count_then_specificity(int[] statuses, ResolveErrorKind kind)
    {
        var relays = new[] { A, B, C }[..statuses.Length];
        for (int i = 0; i < statuses.Length; i++)
        {
            int status = statuses[i];
            _fake.On(relays[i], _ => TestPackets.Status(status));
        }

        var result = await Backend(relays).ResolveAsync(Key, ResolvePolicy.NetworkOnly, null, CancellationToken.None);

        Assert.Equal(kind, result.Error!.Kind);
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(0, true)]
    [InlineData(-5, true)]
    public async Task A_newer_invalid_value_on_one_relay_hides_an_older_packet_on_another(long above, bool found)
    {
        var packet = TestPackets.Signed();
        long seq = packet.Timestamp.AsSeq + above;
        _fake.On(A, _ => TestPackets.Ok(packet))
            .On(B, _ => TestPackets.Status(404, ("Pkarr-Invalid-Signed-Packet-Seq", seq.ToString(System.Globalization.CultureInfo.InvariantCulture))));

        var result = await Backend(A, B).ResolveAsync(Key, ResolvePolicy.NetworkOnly, null, CancellationToken.None);

        Assert.Equal(found, result.Found);
        if (!found)
        {
            Assert.Equal(ResolveError.InvalidSignedPacket(seq), result.Error);
        }
    }

    [Fact]
    public async Task Relays_are_asked_concurrently()
    {
        var packet = TestPackets.Signed();
        var both = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int arrived = 0;
        Func<RecordedRequest, CancellationToken, Task<HttpResponseMessage>> meet = async (_, ct) =>
        {
            if (Interlocked.Increment(ref arrived) == 2)
            {
                both.TrySetResult();
            }

            // Sequential requests would never meet here; the wait is bounded so the test fails instead of hanging.
            await both.Task.WaitAsync(Wait, ct);
            return TestPackets.Ok(packet);
        };
        _fake.On(A, meet).On(B, meet);

        var result = await Backend(A, B).ResolveAsync(Key, ResolvePolicy.NetworkOnly, null, CancellationToken.None).WaitAsync(Wait);
        Assert.True(result.Found);

        arrived = 0;
        both = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var published = await Backend(A, B).PublishAsync(packet, null, CancellationToken.None).WaitAsync(Wait);
        Assert.True(published.Succeeded);
    }

    [Fact]
    public async Task Silent_relays_time_out_into_no_responses()
    {
        var a = new SilentRelay();
        var b = new SilentRelay();
        _fake.On(A, a.Respond).On(B, b.Respond);

        var pending = Backend(A, B).ResolveAsync(Key, ResolvePolicy.NetworkOnly, null, CancellationToken.None);
        await Task.WhenAll(a.Started.Task, b.Started.Task).WaitAsync(Wait);
        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(ResolveErrorKind.NoResponses, (await pending.WaitAsync(Wait)).Error!.Kind);
    }

    [Fact]
    public async Task The_callers_cancellation_propagates_and_cancels_every_request()
    {
        var a = new SilentRelay();
        var b = new SilentRelay();
        _fake.On(A, a.Respond).On(B, b.Respond);
        using var cts = new CancellationTokenSource();

        var pending = Backend(A, B).ResolveAsync(Key, ResolvePolicy.CacheFirst, Context(), cts.Token);
        await Task.WhenAll(a.Started.Task, b.Started.Task).WaitAsync(Wait);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(Wait));
        await Task.WhenAll(a.Cancelled.Task, b.Cancelled.Task).WaitAsync(Wait);
    }

    // Publish

    [Fact]
    public async Task A_not_most_recent_answer_outweighs_a_single_success()
    {
        // Spec §5.6's relay-level example: [Ok(3), NotMostRecent] → NotMostRecent.
        _fake.On(A, _ => TestPackets.Status(204, ("Pkarr-Dht-Stored-Nodes", "3"))).On(B, _ => TestPackets.Status(409));

        var result = await Backend(A, B).PublishAsync(TestPackets.Signed(), null, CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.Equal(PublishError.NotMostRecent, result.Error);
        Assert.Equal(0, result.StoredOn);
        Assert.Equal(Key, result.PublicKey);
        Assert.Null(result.Dht);
        Assert.Equal(
            [new RelayPublishOutcome(A, 204, 3, null), new RelayPublishOutcome(B, 409, 0, PublishError.NotMostRecent)],
            result.Relays);
    }

    [Fact]
    public async Task More_successes_than_not_most_recent_answers_give_the_largest_count_not_the_sum()
    {
        _fake.On(A, _ => TestPackets.Status(204, ("Pkarr-Dht-Stored-Nodes", "3")))
            .On(B, _ => TestPackets.Status(204, ("Pkarr-Dht-Stored-Nodes", "5")))
            .On(C, _ => TestPackets.Status(428));

        var result = await Backend(A, B, C).PublishAsync(TestPackets.Signed(), null, CancellationToken.None);

        Assert.True(result.Succeeded);
        Assert.Equal(5, result.StoredOn);
        Assert.Equal([true, true, false], result.Relays.Select(r => r.Succeeded));
    }

    [Fact]
    public async Task A_relay_without_the_stored_nodes_header_counts_one()
    {
        _fake.On(A, _ => TestPackets.Status(200)).On(B, _ => TestPackets.Status(503));

        var result = await Backend(A, B).PublishAsync(TestPackets.Signed(), null, CancellationToken.None);

        Assert.True(result.Succeeded);
        Assert.Equal(1, result.StoredOn);
    }

    [Fact]
    public async Task Without_a_success_the_most_frequent_error_wins_then_the_most_specific()
    {
        _fake.On(A, _ => TestPackets.Status(400)).On(B, _ => TestPackets.Status(400)).On(C, _ => TestPackets.Status(503));
        var frequent = await Backend(A, B, C).PublishAsync(TestPackets.Signed(), null, CancellationToken.None);
        Assert.Equal(PublishErrorKind.UnexpectedResponses, frequent.Error!.Kind);

        var tie = await Backend(A, C).PublishAsync(TestPackets.Signed(), null, CancellationToken.None);
        Assert.Equal(PublishErrorKind.NoResponses, tie.Error!.Kind);
    }

    [Fact]
    public async Task Silent_relays_are_no_responses_with_no_status_and_outcomes_keep_configuration_order()
    {
        var silent = new SilentRelay();
        _fake.On(A, silent.Respond).On(B, _ => TestPackets.Status(503));

        var pending = Backend(A, B).PublishAsync(TestPackets.Signed(), null, CancellationToken.None);
        await silent.Started.Task.WaitAsync(Wait);
        await RelayClientTests.WaitUntil(() => _fake.Requests.Count == 2);
        _time.Advance(TimeSpan.FromSeconds(2));
        var result = await pending.WaitAsync(Wait);

        Assert.Equal(PublishErrorKind.NoResponses, result.Error!.Kind);
        Assert.Equal([A, B], result.Relays.Select(r => r.Relay));
        Assert.Equal([null, 503], result.Relays.Select(r => r.StatusCode));
    }

    [Fact]
    public async Task Publish_sends_the_same_body_and_cas_to_every_relay()
    {
        var packet = TestPackets.Signed();
        _fake.On(A, _ => TestPackets.Status(204)).On(B, _ => TestPackets.Status(412)).On(C, _ => TestPackets.Status(204));

        var result = await Backend(A, B, C).PublishAsync(packet, new Timestamp(42), CancellationToken.None);

        Assert.True(result.Succeeded);
        Assert.Equal(3, _fake.Requests.Count);
        Assert.All(_fake.Requests, request =>
        {
            Assert.Equal(HttpMethod.Put, request.Method);
            Assert.Equal(packet.RelayPayload.ToArray(), request.Body);
            Assert.Equal("42", request.Header("If-Match"));
        });
        Assert.Equal(PublishError.NotMostRecent, result.Relays[1].Error);
    }
}
