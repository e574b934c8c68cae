using System.Buffers.Binary;
using System.Net;
using System.Runtime.InteropServices;
using Pkarr.Dns;
using Pkarr.DnsServer.Forwarding;
using Pkarr.DnsServer.Packets;
using Pkarr.DnsServer.Query;
using static Pkarr.DnsServer.Tests.Answering.Fixtures;
using static Pkarr.DnsServer.Tests.Query.QueryHarness;

namespace Pkarr.DnsServer.Tests.Query;

/// <summary>Kept responses (DnsQueryHandler.Ready.cs): a query asked again is answered with the pipeline's bytes and
/// its own id while the source hands back the same object, and by the pipeline otherwise.</summary>
public sealed class DnsQueryHandlerReadyTests
{
    private static readonly string Www = $"www.{K}";

    /// <summary>A harness whose forwarder hands back one result object per question, as the forward cache does within
    /// a second of age.</summary>
    private static QueryHarness Harness()
    {
        var harness = new QueryHarness();
        harness.Packets.Publish(Signer, A(Www, "192.0.2.7"), Record(Www, new TxtData("hello")), A($"big.{K}", "192.0.2.8"));
        var answers = new Dictionary<(DnsName, RecordType), ForwardResult>();
        var upstream = harness.Forwarder.Answer;
        harness.Forwarder.Answer = q =>
        {
            if (!answers.TryGetValue((q.Name, q.Type), out var result))
            {
                result = upstream(q);
                answers[(q.Name, q.Type)] = result;
            }

            return result;
        };
        return harness;
    }

    /// <summary>Asks with a send buffer, as a UDP loop does: the response, and whether it was written into the buffer
    /// (a kept response) rather than made by the pipeline.</summary>
    private static (byte[] Response, bool Kept) AskWithBuffer(QueryHarness harness, byte[] query, DnsTransport transport = DnsTransport.Udp)
    {
        byte[] buffer = new byte[65535];
        var pending = harness.Handler.HandleAsync(query, new QueryContext(QueryHarness.Client, transport), buffer, CancellationToken.None);
        var response = pending.AsTask().GetAwaiter().GetResult();
        Assert.False(response.IsEmpty);
        bool kept = MemoryMarshal.TryGetArray(response, out var segment) && ReferenceEquals(segment.Array, buffer);
        return (response.ToArray(), kept);
    }

    private static byte[] WithId(byte[] message, ushort id)
    {
        byte[] copy = [.. message];
        BinaryPrimitives.WriteUInt16BigEndian(copy, id);
        return copy;
    }

    // DnsTransport is internal, so the rows name transports by number.
    private const int Udp = (int)DnsTransport.Udp;
    private const int Tcp = (int)DnsTransport.Tcp;
    private const int Https = (int)DnsTransport.Https;

    public static TheoryData<string, RecordType, ushort, int?, bool, DnsClass, int> Queries() => new()
    {
        { Www, RecordType.A, Rd, null, false, DnsClass.IN, Udp },
        { Www.ToUpperInvariant(), RecordType.A, Rd, null, false, DnsClass.IN, Udp },
        { $"{Www}.key", RecordType.TXT, 0, 1232, true, DnsClass.IN, Udp },
        { Www, RecordType.AAAA, Rd | HeaderFlags.Cd, 4096, false, DnsClass.IN, Udp },
        { $"nothing.{K}", RecordType.A, Rd | HeaderFlags.Ad, 512, false, DnsClass.IN, Udp },
        { K2, RecordType.A, Rd, null, false, DnsClass.IN, Udp },
        { Www, RecordType.A, Rd, null, false, DnsClass.ANY, Tcp },
        { "example.com", RecordType.A, Rd, null, false, DnsClass.IN, Udp },
        { "Example.COM", RecordType.MX, Rd | HeaderFlags.Cd, 1232, true, DnsClass.IN, Udp },
        { "example.com", RecordType.A, Rd, null, false, DnsClass.IN, Https },
    };

    [Theory]
    [MemberData(nameof(Queries))]
    public void A_query_asked_again_gets_the_pipelines_bytes_with_its_own_id(string name, RecordType type, ushort flags, int? edns,
        bool dnssecOk, DnsClass @class, int transportNumber)
    {
        var transport = (DnsTransport)transportNumber;
        var harness = Harness();
        byte[] query = QueryBytes(name, type, flags, id: 1, edns: edns, dnssecOk: dnssecOk, @class: @class);
        var (made, keptFirst) = AskWithBuffer(harness, query, transport);
        Assert.False(keptFirst);
        Assert.Equal(1, harness.Handler.KeptResponses);

        var (again, kept) = AskWithBuffer(harness, WithId(query, 0xABCD), transport);
        Assert.True(kept);
        Assert.Equal(WithId(made, 0xABCD), again);

        // The array overload (TCP, DoH) gets the same bytes in an array of its own.
        byte[]? array = harness.Raw(WithId(query, 0x0102), transport);
        Assert.Equal(WithId(made, 0x0102), array);
    }

    [Fact]
    public async Task A_query_that_waits_is_answered_and_kept_from_its_own_bytes_when_the_caller_reuses_its_buffer()
    {
        // A receive loop hands over its receive buffer and refills it with the next datagram as soon as the call
        // returns: what goes on waiting must work on a copy.
        var harness = Harness();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Packets.Gate = gate;
        byte[] query = QueryBytes(Www, RecordType.A, id: 0x0101);
        byte[] received = new byte[512];
        query.CopyTo(received, 0);
        byte[] sendBuffer = new byte[65535];

        var pending = harness.Handler.HandleAsync(received.AsMemory(0, query.Length), new QueryContext(QueryHarness.Client, DnsTransport.Udp),
            sendBuffer, CancellationToken.None);
        Assert.False(pending.IsCompleted);
        byte[] next = QueryBytes("example.com", RecordType.TXT, id: 0x0202);
        received.AsSpan().Fill(0xFF);
        next.CopyTo(received, 0);
        gate.SetResult();
        byte[] response = (await pending).ToArray();

        harness.Packets.Gate = null;
        Assert.Equal(Harness().Raw(query, DnsTransport.Udp), response);
        var (again, kept) = AskWithBuffer(harness, WithId(query, 0x0303));
        Assert.True(kept);
        Assert.Equal(WithId(response, 0x0303), again);
    }

    [Fact]
    public void The_source_is_asked_for_every_query_and_each_is_counted()
    {
        var harness = Harness();
        for (ushort id = 1; id <= 3; id++)
        {
            AskWithBuffer(harness, QueryBytes(Www, RecordType.A, id: id));
            AskWithBuffer(harness, QueryBytes("example.com", RecordType.A, id: id));
        }

        Assert.Equal([Signer.PublicKey, Signer.PublicKey, Signer.PublicKey], harness.Packets.Calls);
        Assert.Equal(3, harness.Forwarder.Calls.Count);
        Assert.Equal(2, harness.Handler.KeptResponses);
    }

    [Fact]
    public void Two_thousand_questions_are_kept_at_once()
    {
        // 2000 queries in 4096 sets of two slots: about 1 in 12 shares its set with two others or more, and asked in
        // turn those push each other out, so about 1830 are kept (± 15); with one slot per hash (8192 slots) about
        // 1 in 5 would share a slot, and about 1570 would be kept.
        var harness = Harness();
        byte[][] queries = [.. Enumerable.Range(0, 2000).Select(i => QueryBytes($"n{i}.example", RecordType.A))];
        foreach (byte[] query in queries)
        {
            AskWithBuffer(harness, query);
        }

        int kept = queries.Count(query => AskWithBuffer(harness, query).Kept);
        Assert.InRange(kept, 1750, 2000);
        Assert.Equal(4000, harness.Forwarder.Calls.Count);
    }

    [Fact]
    public void Another_object_from_the_source_is_answered_by_the_pipeline_and_kept_in_turn()
    {
        var harness = Harness();
        byte[] query = QueryBytes(Www, RecordType.A);
        AskWithBuffer(harness, query);
        Assert.True(AskWithBuffer(harness, query).Kept);

        // A refreshed packet (a new PacketLookup): the new address, not the kept one.
        harness.Packets.Publish(Signer, A(Www, "192.0.2.99"));
        var (fresh, kept) = AskWithBuffer(harness, query);
        Assert.False(kept);
        Assert.True(DnsMessage.TryParse(fresh, out var message, out _));
        Assert.Equal("192.0.2.99", Assert.Single(message.Answers).Data.ToString());
        var (again, keptAgain) = AskWithBuffer(harness, query);
        Assert.True(keptAgain);
        Assert.Equal(fresh, again);

        // The key is no longer found: NXDOMAIN from the pipeline.
        harness.Packets.Set(Signer.PublicKey, PacketLookup.NotFound);
        var (gone, keptGone) = AskWithBuffer(harness, query);
        Assert.False(keptGone);
        Assert.True(DnsMessage.TryParse(gone, out message, out _));
        Assert.Equal(3, Rcode(message));
    }

    [Fact]
    public void Other_flags_or_transport_are_other_queries_and_another_letter_case_gets_its_own_name()
    {
        var harness = Harness();
        AskWithBuffer(harness, QueryBytes(Www, RecordType.A));

        var (upper, kept) = AskWithBuffer(harness, QueryBytes(Www.ToUpperInvariant(), RecordType.A));
        Assert.True(kept);
        Assert.True(DnsMessage.TryParse(upper, out var message, out _));
        Assert.Equal(Www.ToUpperInvariant(), Assert.Single(message.Questions).Name.ToString().TrimEnd('.'));
        Assert.False(AskWithBuffer(harness, QueryBytes(Www, RecordType.A, flags: 0)).Kept);
        Assert.False(AskWithBuffer(harness, QueryBytes(Www, RecordType.A, edns: 1232)).Kept);
        Assert.False(AskWithBuffer(harness, QueryBytes(Www, RecordType.A), DnsTransport.Tcp).Kept);
        Assert.True(AskWithBuffer(harness, QueryBytes(Www, RecordType.A)).Kept);
    }

    [Fact]
    public void Upstreams_coming_or_going_are_never_answered_from_a_kept_response()
    {
        var harness = Harness();
        AskWithBuffer(harness, QueryBytes(Www, RecordType.A));
        AskWithBuffer(harness, QueryBytes("example.com", RecordType.A));
        int forwarded = harness.Forwarder.Calls.Count;

        harness.Forwarder.HasUpstreams = false;
        var (pkarr, kept) = AskWithBuffer(harness, QueryBytes(Www, RecordType.A));
        Assert.False(kept);
        Assert.True(DnsMessage.TryParse(pkarr, out var message, out _));
        Assert.False(Flag(message, HeaderFlags.Ra));

        var (icann, keptIcann) = AskWithBuffer(harness, QueryBytes("example.com", RecordType.A));
        Assert.False(keptIcann);
        Assert.True(DnsMessage.TryParse(icann, out message, out _));
        Assert.Equal(5, Rcode(message));
        Assert.Equal(forwarded, harness.Forwarder.Calls.Count);
    }

    [Fact]
    public void Chains_across_keys_are_not_kept_so_the_second_packet_is_always_read()
    {
        var harness = Harness();
        harness.Packets.Publish(Signer, Cname(Www, $"api.{K2}"));
        harness.Packets.Publish(Other, A($"api.{K2}", "192.0.2.1"));
        byte[] query = QueryBytes(Www, RecordType.A);
        AskWithBuffer(harness, query);
        Assert.False(AskWithBuffer(harness, query).Kept);
        Assert.Equal(0, harness.Handler.KeptResponses);

        harness.Packets.Publish(Other, A($"api.{K2}", "192.0.2.2"));
        var (response, _) = AskWithBuffer(harness, query);
        Assert.True(DnsMessage.TryParse(response, out var message, out _));
        Assert.Equal($"api.{K2}. 300 IN A 192.0.2.2", message.Answers[^1].ToString());
    }

    [Fact]
    public void Failures_refusals_and_large_responses_are_not_kept()
    {
        var harness = Harness();
        harness.Forwarder.Answer = q => FakeForwarder.Answered(q, 0,
            [.. Enumerable.Range(0, 100).Select(i => new ResourceRecord(q.Name, DnsClass.IN, 300, new AData(new IPAddress([192, 0, 2, (byte)i]))))]);
        var (large, _) = AskWithBuffer(harness, QueryBytes("many.example", RecordType.A), DnsTransport.Tcp);
        Assert.True(large.Length > DnsQueryHandler.KeptResponseLimit);
        Assert.False(AskWithBuffer(harness, QueryBytes("many.example", RecordType.A), DnsTransport.Tcp).Kept);

        harness.Forwarder.Answer = _ => ForwardResult.Timeout;
        AskWithBuffer(harness, QueryBytes("slow.example", RecordType.A));
        Assert.False(AskWithBuffer(harness, QueryBytes("slow.example", RecordType.A)).Kept);
        Assert.False(AskWithBuffer(harness, QueryBytes(Www, (RecordType)252)).Kept);
        Assert.Equal(0, harness.Handler.KeptResponses);
    }

    [Fact]
    public void A_source_that_throws_after_a_kept_answer_gives_servfail()
    {
        var harness = Harness();
        byte[] query = QueryBytes(Www, RecordType.A);
        AskWithBuffer(harness, query);

        harness.Packets.Throw = new InvalidOperationException("a bug in the source");
        var (failed, kept) = AskWithBuffer(harness, query);
        Assert.False(kept);
        Assert.True(DnsMessage.TryParse(failed, out var message, out _));
        Assert.Equal(2, Rcode(message));
        Assert.Equal(Name(Www), Assert.Single(message.Questions).Name);

        harness.Packets.Throw = null;
        Assert.True(AskWithBuffer(harness, query).Kept);
    }

    [Fact]
    public void Rate_limited_clients_are_refused_even_for_a_kept_answer()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        using var limits = new RateLimiting.DnsRateLimits(1, 2, 0, 0, time);
        var harness = new QueryHarness(limits: limits, time: time);
        harness.Packets.Publish(Signer, A(Www, "192.0.2.7"));
        byte[] query = QueryBytes(Www, RecordType.A);
        AskWithBuffer(harness, query);
        Assert.True(AskWithBuffer(harness, query).Kept);

        var (refused, kept) = AskWithBuffer(harness, query);
        Assert.False(kept);
        Assert.True(DnsMessage.TryParse(refused, out var message, out _));
        Assert.Equal(5, Rcode(message));
        Assert.Equal(2, harness.Packets.Calls.Count);
    }
}
