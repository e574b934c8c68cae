using Pkarr.Dns;
using Pkarr.DnsServer.Query;
using static Pkarr.DnsServer.Tests.Answering.Fixtures;
using static Pkarr.DnsServer.Tests.Query.QueryHarness;

namespace Pkarr.DnsServer.Tests.Query;

/// <summary>Response sizes per transport: truncation with TC, the additional section dropped first, the 64 KiB bound.</summary>
public sealed class DnsQueryHandlerSizeTests
{
    private const string Big = "big.example.com";

    /// <summary>A forwarder answering <paramref name="count"/> TXT records of 200 bytes each (about 212 bytes on the wire).</summary>
    private static QueryHarness WithTxt(int count, QueryHandlerOptions? options = null, bool inAdditional = false)
    {
        var harness = new QueryHarness(options);
        var records = Enumerable.Range(0, count)
            .Select(i => Record(Big, new TxtData([Enumerable.Repeat((byte)('a' + (i % 26)), 199).Append((byte)i).ToArray()])))
            .ToArray();
        harness.Forwarder.Answer = q => new(Pkarr.DnsServer.Forwarding.ForwardStatus.Answered, new DnsMessage
        {
            Flags = 0x8180,
            Questions = [q],
            Answers = inAdditional ? [A(Big, "192.0.2.1")] : records,
            Additionals = inAdditional ? records : [],
        });
        return harness;
    }

    private static DnsMessage Parse(byte[]? bytes, int limit)
    {
        Assert.NotNull(bytes);
        Assert.InRange(bytes.Length, 12, limit);
        Assert.True(DnsMessage.TryParse(bytes, out var message, out var error), error.ToString());
        return message;
    }

    [Fact]
    public void Udp_without_edns_truncates_above_512_to_the_question_alone()
    {
        var harness = WithTxt(3);
        var answer = Parse(harness.Raw(QueryBytes(Big, RecordType.TXT, id: 9)), 512);
        Assert.True(Flag(answer, HeaderFlags.Tc));
        Assert.Equal(9, answer.Id);
        Assert.Equal(0, Rcode(answer));
        Assert.Equal(Name(Big), Assert.Single(answer.Questions).Name);
        Assert.Empty(answer.Answers);
        Assert.Empty(answer.Authorities);
        Assert.Empty(answer.Additionals);

        // Two records fit in 512: no truncation.
        answer = Parse(WithTxt(2).Raw(QueryBytes(Big, RecordType.TXT)), 512);
        Assert.False(Flag(answer, HeaderFlags.Tc));
        Assert.Equal(2, answer.Answers.Count);
    }

    [Fact]
    public void Udp_with_edns_is_capped_by_our_limit_and_keeps_the_opt_when_truncated()
    {
        var harness = WithTxt(8);
        var answer = Parse(harness.Raw(QueryBytes(Big, RecordType.TXT, edns: 4096)), 1232);
        Assert.True(Flag(answer, HeaderFlags.Tc));
        Assert.Empty(answer.Answers);
        Assert.Single(answer.Questions);
        var opt = Assert.Single(answer.Additionals);
        Assert.Equal(RecordType.OPT, opt.Type);

        // Five fit in 1232 and are not truncated.
        answer = Parse(WithTxt(5).Raw(QueryBytes(Big, RecordType.TXT, edns: 4096)), 1232);
        Assert.False(Flag(answer, HeaderFlags.Tc));
        Assert.Equal(5, answer.Answers.Count);

        // A larger configured limit lets all eight through.
        answer = Parse(WithTxt(8, new QueryHandlerOptions { MaxUdpPayload = 4096 }).Raw(QueryBytes(Big, RecordType.TXT, edns: 4096)), 4096);
        Assert.False(Flag(answer, HeaderFlags.Tc));
        Assert.Equal(8, answer.Answers.Count);
    }

    [Fact]
    public void Udp_honours_a_smaller_requester_size_and_counts_below_512_as_512()
    {
        var harness = WithTxt(4, new QueryHandlerOptions { MaxUdpPayload = 4096 });
        var answer = Parse(harness.Raw(QueryBytes(Big, RecordType.TXT, edns: 800)), 800);
        Assert.True(Flag(answer, HeaderFlags.Tc));

        answer = Parse(WithTxt(2).Raw(QueryBytes(Big, RecordType.TXT, edns: 100)), 512);
        Assert.False(Flag(answer, HeaderFlags.Tc));
        Assert.Equal(2, answer.Answers.Count);
    }

    [Fact]
    public void Additional_section_is_dropped_before_truncating()
    {
        var answer = Parse(WithTxt(6, inAdditional: true).Raw(QueryBytes(Big, RecordType.A, edns: 1232)), 1232);
        Assert.False(Flag(answer, HeaderFlags.Tc));
        Assert.Single(answer.Answers);
        Assert.Equal(RecordType.OPT, Assert.Single(answer.Additionals).Type);

        answer = Parse(WithTxt(6, inAdditional: true).Raw(QueryBytes(Big, RecordType.A, edns: 1232), DnsTransport.Tcp), 65535);
        Assert.Equal(7, answer.Additionals.Count);
    }

    [Theory]
    [InlineData((int)DnsTransport.Tcp)]
    [InlineData((int)DnsTransport.Https)]
    public void Streams_take_up_to_64_KiB_and_servfail_beyond(int transportValue)
    {
        var transport = (DnsTransport)transportValue;
        var answer = Parse(WithTxt(100).Raw(QueryBytes(Big, RecordType.TXT), transport), 65535);
        Assert.False(Flag(answer, HeaderFlags.Tc));
        Assert.Equal(100, answer.Answers.Count);

        answer = Parse(WithTxt(320).Raw(QueryBytes(Big, RecordType.TXT, edns: 1232), transport), 65535);
        Assert.Equal(2, Rcode(answer));
        Assert.False(Flag(answer, HeaderFlags.Tc));
        Assert.Empty(answer.Answers);
        Assert.Single(answer.Questions);
        Assert.Equal(RecordType.OPT, Assert.Single(answer.Additionals).Type);
    }

    [Fact]
    public void Pkarr_answer_too_big_for_512_is_truncated_and_fits_with_edns()
    {
        var harness = new QueryHarness();
        string owner = $"txt.{K}";
        harness.Packets.Publish(Signer, [.. Enumerable.Range(0, 4).Select(i => Record(owner, new TxtData([Enumerable.Repeat((byte)('a' + i), 180).ToArray()])))]);
        var answer = Parse(harness.Raw(QueryBytes(owner, RecordType.TXT)), 512);
        Assert.True(Flag(answer, HeaderFlags.Tc));
        Assert.True(Flag(answer, HeaderFlags.Aa));
        Assert.Empty(answer.Answers);

        answer = Parse(harness.Raw(QueryBytes(owner, RecordType.TXT, edns: 1232)), 1232);
        Assert.False(Flag(answer, HeaderFlags.Tc));
        Assert.Equal(4, answer.Answers.Count);
    }
}
