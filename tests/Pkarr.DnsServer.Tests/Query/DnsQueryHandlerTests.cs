using Pkarr.Dns;
using Pkarr.DnsServer.Query;
using static Pkarr.DnsServer.Tests.Answering.Fixtures;
using static Pkarr.DnsServer.Tests.Query.QueryHarness;

namespace Pkarr.DnsServer.Tests.Query;

/// <summary>The header, flags and EDNS(0) rules of the query pipeline.</summary>
public sealed class DnsQueryHandlerTests
{
    private static readonly string Www = $"www.{K}";

    private static QueryHarness Published()
    {
        var harness = new QueryHarness();
        harness.Packets.Publish(Signer, A(Www, "192.0.2.7"));
        return harness;
    }

    [Fact]
    public void Messages_shorter_than_a_header_and_responses_get_no_answer()
    {
        var harness = Published();
        for (int length = 0; length < 12; length++)
        {
            Assert.Null(harness.Raw(new byte[length]));
        }

        byte[] response = QueryBytes(Www, RecordType.A);
        response[2] |= 0x80;
        Assert.Null(harness.Raw(response));

        // The same bytes without QR are answered: silence is only for what is not a query.
        Assert.NotNull(harness.Raw(new byte[12]));
    }

    [Fact]
    public void Response_flags_copy_id_opcode_rd_cd_and_set_qr_aa_ra()
    {
        var harness = Published();
        var answer = harness.Ask(QueryBytes(Www, RecordType.A, flags: HeaderFlags.Rd | HeaderFlags.Cd, id: 0xBEEF));
        Assert.Equal(0xBEEF, answer.Id);
        Assert.True(Flag(answer, HeaderFlags.Qr));
        Assert.True(Flag(answer, HeaderFlags.Aa));
        Assert.True(Flag(answer, HeaderFlags.Rd));
        Assert.True(Flag(answer, HeaderFlags.Cd));
        Assert.True(Flag(answer, HeaderFlags.Ra));
        Assert.False(Flag(answer, HeaderFlags.Tc));
        Assert.Equal(0, Rcode(answer));
        Assert.Equal("192.0.2.7", Assert.Single(answer.Answers).Data.ToString());

        // RD and CD off stay off; no upstream: no RA.
        harness.Forwarder.HasUpstreams = false;
        answer = harness.Ask(QueryBytes(Www, RecordType.A, flags: 0));
        Assert.False(Flag(answer, HeaderFlags.Rd));
        Assert.False(Flag(answer, HeaderFlags.Cd));
        Assert.False(Flag(answer, HeaderFlags.Ra));
        Assert.True(Flag(answer, HeaderFlags.Aa));
    }

    [Fact]
    public void Ad_is_never_set_on_pkarr_answers()
    {
        var harness = Published();
        var answer = harness.Ask(QueryBytes(Www, RecordType.A, flags: HeaderFlags.Rd | HeaderFlags.Ad, edns: 1232, dnssecOk: true));
        Assert.False(Flag(answer, HeaderFlags.Ad));
        Assert.Single(answer.Answers);
    }

    [Fact]
    public void Z_bit_is_cleared_and_the_query_answered()
    {
        var harness = Published();
        byte[] query = QueryBytes(Www, RecordType.A);
        query[3] |= (byte)HeaderFlags.Z;
        var answer = harness.Ask(query);
        Assert.False(Flag(answer, HeaderFlags.Z));
        Assert.Equal(0, Rcode(answer));
        Assert.Single(answer.Answers);
    }

    [Fact]
    public void A_body_that_does_not_parse_is_formerr_echoing_id_and_opcode()
    {
        var harness = Published();

        // The header claims a question that is not there: no question can be echoed.
        byte[] headerOnly = [0xAB, 0xCD, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        var answer = harness.Ask(headerOnly);
        Assert.Equal(0xABCD, answer.Id);
        Assert.Equal(1, Rcode(answer));
        Assert.Empty(answer.Questions);
        Assert.True(Flag(answer, HeaderFlags.Qr));

        // A good question followed by a broken answer section: FORMERR, with the question echoed.
        byte[] good = QueryBytes(Www, RecordType.A, id: 7);
        byte[] broken = [.. good, 0xC0];
        broken[7] = 1;
        answer = harness.Ask(broken);
        Assert.Equal(1, Rcode(answer));
        Assert.Equal(7, answer.Id);
        Assert.Equal(Name(Www), Assert.Single(answer.Questions).Name);
        Assert.Empty(harness.Packets.Calls);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void Question_count_other_than_one_is_formerr(int count)
    {
        var harness = Published();
        var questions = Enumerable.Repeat(new DnsQuestion(Name(Www), RecordType.A, DnsClass.IN), count).ToArray();
        byte[] query = new DnsMessage { Id = 3, Flags = Rd, Questions = questions }.Encode();
        var answer = harness.Ask(query);
        Assert.Equal(1, Rcode(answer));
        Assert.Equal(3, answer.Id);
        Assert.Empty(answer.Questions);
        Assert.Empty(harness.Packets.Calls);
    }

    [Theory]
    [InlineData(1)] // IQUERY
    [InlineData(2)] // STATUS
    [InlineData(4)] // NOTIFY
    [InlineData(5)] // UPDATE
    public void Opcodes_other_than_query_are_notimp_with_the_opcode_echoed(int opcode)
    {
        var harness = Published();
        var answer = harness.Ask(QueryBytes(Www, RecordType.A, flags: (ushort)(Rd | (opcode << 11))));
        Assert.Equal(4, Rcode(answer));
        Assert.Equal(opcode, (answer.Flags >> 11) & 0xF);
        Assert.Equal(Name(Www), Assert.Single(answer.Questions).Name);
        Assert.Empty(answer.Answers);
        Assert.Empty(harness.Packets.Calls);
    }

    [Fact]
    public void Answer_and_authority_records_in_a_query_are_ignored()
    {
        var harness = Published();
        byte[] query = new DnsMessage
        {
            Id = 1,
            Flags = Rd,
            Questions = [new DnsQuestion(Name(Www), RecordType.A, DnsClass.IN)],
            Answers = [A(Www, "10.0.0.1")],
            Authorities = [A(Www, "10.0.0.2")],
        }.Encode();
        var answer = harness.Ask(query);
        Assert.Equal(0, Rcode(answer));
        Assert.Equal("192.0.2.7", Assert.Single(answer.Answers).Data.ToString());
        Assert.Empty(answer.Authorities);
    }

    [Fact]
    public void Opt_is_echoed_to_edns_queries_only_with_our_size_and_the_do_bit()
    {
        var harness = new QueryHarness(new QueryHandlerOptions { MaxUdpPayload = 1400 });
        harness.Packets.Publish(Signer, A(Www, "192.0.2.7"));

        var plain = harness.Ask(QueryBytes(Www, RecordType.A));
        Assert.DoesNotContain(plain.Additionals, r => r.Type == RecordType.OPT);

        // An unknown option (code 65001) is ignored and not echoed.
        var edns = harness.Ask(QueryBytes(Www, RecordType.A, edns: 4096, options: [0xFD, 0xE9, 0, 2, 1, 2]));
        var opt = Assert.Single(edns.Additionals, r => r.Type == RecordType.OPT);
        Assert.Equal(1400, (int)opt.Class);
        Assert.Equal(0u, opt.Ttl);
        Assert.Empty(((UnknownData)opt.Data).Data.ToArray());
        Assert.Single(edns.Answers);

        var dnssec = harness.Ask(QueryBytes(Www, RecordType.A, edns: 1232, dnssecOk: true));
        opt = Assert.Single(dnssec.Additionals, r => r.Type == RecordType.OPT);
        Assert.Equal(0x8000u, opt.Ttl);

        // Every response to an EDNS query, errors included.
        var refused = harness.Ask(QueryBytes(Www, RecordType.A, edns: 1232, @class: DnsClass.CH));
        Assert.Equal(5, Rcode(refused));
        Assert.Single(refused.Additionals, r => r.Type == RecordType.OPT);
    }

    [Fact]
    public void Unknown_edns_version_is_badvers_in_the_opt_and_not_answered()
    {
        var harness = Published();
        var answer = harness.Ask(QueryBytes(Www, RecordType.A, edns: 1232, version: 1, dnssecOk: true));
        Assert.Equal(0, answer.Flags & 0xF);
        var opt = Assert.Single(answer.Additionals, r => r.Type == RecordType.OPT);
        Assert.Equal(1u, opt.Ttl >> 24);
        Assert.Equal(0u, (opt.Ttl >> 16) & 0xFF);
        Assert.Equal(16, Rcode(answer));
        Assert.Empty(answer.Answers);
        Assert.Equal(Name(Www), Assert.Single(answer.Questions).Name);
        Assert.Empty(harness.Packets.Calls);
    }

    [Fact]
    public void Two_opt_records_are_formerr()
    {
        var harness = Published();
        byte[] query = new DnsMessage
        {
            Id = 1,
            Flags = Rd,
            Questions = [new DnsQuestion(Name(Www), RecordType.A, DnsClass.IN)],
            Additionals = [Opt(1232), Opt(1232)],
        }.Encode();
        var answer = harness.Ask(query);
        Assert.Equal(1, Rcode(answer));
        Assert.Empty(answer.Answers);
        Assert.Empty(harness.Packets.Calls);
    }

    [Fact]
    public void Rate_limited_queries_are_refused_until_tokens_return()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        using var limits = new RateLimiting.DnsRateLimits(1, 2, 0, 0, time);
        var harness = new QueryHarness(limits: limits, time: time);
        harness.Packets.Publish(Signer, A(Www, "192.0.2.7"));

        Assert.Equal(0, Rcode(harness.Ask(Www, RecordType.A)));
        Assert.Equal(0, Rcode(harness.Ask(Www, RecordType.A)));
        var refused = harness.Ask(Www, RecordType.A);
        Assert.Equal(5, Rcode(refused));
        Assert.Equal(Name(Www), Assert.Single(refused.Questions).Name);
        Assert.Empty(refused.Answers);
        Assert.Equal(2, harness.Packets.Calls.Count);

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(0, Rcode(harness.Ask(Www, RecordType.A)));
    }

    [Fact]
    public void A_bug_in_the_answer_path_is_servfail_not_a_crash()
    {
        var harness = Published();
        harness.Packets.Throw = new InvalidOperationException("bug");
        var answer = harness.Ask(QueryBytes(Www, RecordType.A, edns: 1232));
        Assert.Equal(2, Rcode(answer));
        Assert.Equal(Name(Www), Assert.Single(answer.Questions).Name);
        Assert.Single(answer.Additionals, r => r.Type == RecordType.OPT);

        // An OperationCanceledException that is not ours is a bug too.
        harness.Packets.Throw = new OperationCanceledException();
        Assert.Equal(2, Rcode(harness.Ask(Www, RecordType.A)));
    }

    [Fact]
    public async Task Cancellation_surfaces_as_operation_canceled()
    {
        var harness = Published();
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            async () => await harness.Handler.HandleAsync(QueryBytes(Www, RecordType.A), new QueryContext(QueryHarness.Client, DnsTransport.Udp), cts.Token));
    }
}
