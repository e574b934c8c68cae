using System.Net;
using System.Runtime.InteropServices;
using Pkarr.Dns;
using Pkarr.DnsServer.Forwarding;
using Pkarr.DnsServer.Query;
using static Pkarr.DnsServer.Tests.Answering.Fixtures;
using static Pkarr.DnsServer.Tests.Query.QueryHarness;

namespace Pkarr.DnsServer.Tests.Query;

/// <summary>Kept responses and letter case (DnsQueryHandler.Ready.cs): a query that spells its name otherwise ("0x20")
/// gets the kept response with its own name in the question when that copy is byte for byte what the pipeline answers
/// it, and the pipeline's answer otherwise; any other byte that differs is another query.</summary>
public sealed class DnsQueryHandlerCaseTests
{
    private static readonly string Www = $"www.{K}";

    /// <summary>The letters of <paramref name="name"/> in upper case where the pattern says so (a resolver's random
    /// spelling, made repeatable).</summary>
    private static string Spell(string name, int pattern)
    {
        var chars = name.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
        {
            if (char.IsAsciiLetter(chars[i]) && (i * 7 + pattern) % 3 == 0)
            {
                chars[i] = char.ToUpperInvariant(chars[i]);
            }
        }

        return new string(chars);
    }

    /// <summary>A harness whose forwarder hands back one result object per question ignoring case, with the owner in
    /// lower case, as the forward cache does (it asks upstreams in lower case).</summary>
    private static QueryHarness Harness()
    {
        var harness = new QueryHarness();
        harness.Packets.Publish(Signer, A(Www, "192.0.2.7"), Record(Www, new TxtData("hello")), A($"a.{K}", "192.0.2.8"));
        var answers = new Dictionary<(string, RecordType), ForwardResult>();
        harness.Forwarder.Answer = q =>
        {
            var key = (q.Name.ToString().ToLowerInvariant(), q.Type);
            if (!answers.TryGetValue(key, out var result))
            {
                var owner = Name(key.Item1);
                result = FakeForwarder.Answered(new DnsQuestion(owner, q.Type, q.Class), 0,
                    new ResourceRecord(owner, DnsClass.IN, 300, new AData(IPAddress.Parse("192.0.2.1"))));
                answers[key] = result;
            }

            return result;
        };
        return harness;
    }

    /// <summary>Asks with a send buffer, as a UDP loop does: the response, and whether it is a kept one (written into
    /// the buffer) rather than the pipeline's.</summary>
    private static (byte[] Response, bool Kept) Ask(QueryHarness harness, byte[] query)
    {
        byte[] buffer = new byte[65535];
        var pending = harness.Handler.HandleAsync(query, new QueryContext(QueryHarness.Client, DnsTransport.Udp), buffer, CancellationToken.None);
        var response = pending.AsTask().GetAwaiter().GetResult();
        Assert.False(response.IsEmpty);
        bool kept = MemoryMarshal.TryGetArray(response, out var segment) && ReferenceEquals(segment.Array, buffer);
        return (response.ToArray(), kept);
    }

    /// <summary>The question name's wire bytes of a message (right after the header).</summary>
    private static byte[] QuestionName(byte[] message)
    {
        int at = 12;
        while (message[at] != 0)
        {
            at += 1 + message[at];
        }

        return message[12..(at + 1)];
    }

    /// <summary>What the pipeline answers <paramref name="query"/> with no kept response.</summary>
    private static byte[] Pipeline(QueryHarness harness, byte[] query)
    {
        harness.Handler.ForgetKeptResponses();
        var (response, kept) = Ask(harness, query);
        Assert.False(kept);
        return response;
    }

    public static TheoryData<string, RecordType, int?, bool> Spellings() => new()
    {
        { Www, RecordType.A, null, false },
        { Www, RecordType.TXT, 1232, true },
        { $"{Www}.key", RecordType.A, 1232, false },
        { "example.com", RecordType.A, null, false },
    };

    [Theory]
    [MemberData(nameof(Spellings))]
    public void Another_spelling_gets_the_kept_response_with_its_own_name_which_is_the_pipelines_answer(string name,
        RecordType type, int? edns, bool dnssecOk)
    {
        var harness = Harness();
        // The kept query has upper case where the asker's lower-case "com" can still meet it (forwarded owners).
        byte[] first = QueryBytes(Spell(name, 0), type, id: 1, edns: edns, dnssecOk: dnssecOk);
        var (made, keptFirst) = Ask(harness, first);
        Assert.False(keptFirst);
        int calls = harness.Packets.Calls.Count + harness.Forwarder.Calls.Count;

        byte[] mixed = QueryBytes(Spell(name, 1), type, id: 2, edns: edns, dnssecOk: dnssecOk);
        Assert.NotEqual(QuestionName(first), QuestionName(mixed));
        var (copy, kept) = Ask(harness, mixed);
        Assert.True(kept);
        Assert.Equal(calls + 1, harness.Packets.Calls.Count + harness.Forwarder.Calls.Count);
        Assert.Equal(QuestionName(mixed), QuestionName(copy));
        Assert.NotEqual(made[2..], copy[2..]);
        Assert.Equal(Pipeline(harness, mixed), copy);
    }

    [Fact]
    public void Upper_case_key_and_suffix_follow_the_query_in_a_pkarr_answer()
    {
        var harness = Harness();
        Ask(harness, QueryBytes($"{Www}.key", RecordType.A));
        byte[] upper = QueryBytes($"{Www}.key".ToUpperInvariant(), RecordType.A);
        var (copy, kept) = Ask(harness, upper);
        Assert.True(kept);
        Assert.True(DnsMessage.TryParse(copy, out var message, out _));
        Assert.Equal(Name($"{Www}.key".ToUpperInvariant()), message.Answers[0].Name);
        Assert.Equal(Pipeline(harness, upper), copy);
    }

    [Fact]
    public void A_negative_answer_is_reused_only_where_its_soa_compresses_the_same()
    {
        // The SOA's owner is the key label as published (lower case): a pointer into a question that spells the key
        // so, its labels where the question spells it otherwise.
        var harness = Harness();
        string nothing = $"nothing.{K}";
        Ask(harness, QueryBytes(nothing, RecordType.A));

        byte[] upperKey = QueryBytes($"nothing.{K.ToUpperInvariant()}", RecordType.A);
        var (fromPipeline, kept) = Ask(harness, upperKey);
        Assert.False(kept);
        Assert.Equal(QuestionName(upperKey), QuestionName(fromPipeline));
        Assert.True(DnsMessage.TryParse(fromPipeline, out var message, out _));
        Assert.Equal(3, Rcode(message));
        Assert.Equal(Name(K), Assert.Single(message.Authorities).Name);
        Assert.Equal(Pipeline(harness, upperKey), fromPipeline);

        // That answer is kept in turn; another spelling whose key is not all lower case gets it.
        byte[] otherSpelling = QueryBytes(Spell($"nothing.{K.ToUpperInvariant()}", 2), RecordType.A);
        var (copy, keptOther) = Ask(harness, otherSpelling);
        Assert.True(keptOther);
        Assert.Equal(QuestionName(otherSpelling), QuestionName(copy));
        Assert.Equal(Pipeline(harness, otherSpelling), copy);

        // A lower-case key again compresses otherwise: the pipeline's answer.
        byte[] lowerKey = QueryBytes($"NOTHING.{K}", RecordType.A);
        var (lower, keptLower) = Ask(harness, lowerKey);
        Assert.False(keptLower);
        Assert.Equal(Pipeline(harness, lowerKey), lower);
    }

    [Fact]
    public void Forwarded_owners_in_lower_case_decide_which_spellings_share_a_copy()
    {
        var harness = Harness();
        Ask(harness, QueryBytes("ExAmple.com", RecordType.A));

        // "com" in lower case both times: the owner's "com" is a pointer in both, so the copy is exact.
        byte[] same = QueryBytes("eXample.com", RecordType.A);
        var (copy, kept) = Ask(harness, same);
        Assert.True(kept);
        Assert.Equal(Pipeline(harness, same), copy);

        // Re-kept from "eXample.com"; "COM" meets no label of the owner, which the pipeline writes out in full.
        byte[] upperCom = QueryBytes("examPle.COM", RecordType.A);
        var (full, keptUpper) = Ask(harness, upperCom);
        Assert.False(keptUpper);
        Assert.Equal(QuestionName(upperCom), QuestionName(full));
        Assert.Equal(Pipeline(harness, upperCom), full);

        // All lower case: the owner is a pointer to the whole question, unlike in "examPle.COM"'s answer.
        byte[] lower = QueryBytes("example.com", RecordType.A);
        var (fromPipeline, keptLower) = Ask(harness, lower);
        Assert.False(keptLower);
        Assert.Equal(Pipeline(harness, lower), fromPipeline);
        Assert.Equal(7, harness.Forwarder.Calls.Count);
    }

    [Fact]
    public void A_name_in_record_data_that_meets_the_question_decides_too()
    {
        // The exchange is the packet's spelling of the query name: a pointer to the question spelled so, labels where
        // the question is spelled otherwise.
        var harness = Harness();
        string mail = $"mail.{K}";
        harness.Packets.Publish(Signer, Record(mail, new MxData(10, Name(mail))));
        Ask(harness, QueryBytes(mail, RecordType.MX));

        byte[] upper = QueryBytes($"MAIL.{K}", RecordType.MX);
        var (fromPipeline, kept) = Ask(harness, upper);
        Assert.False(kept);
        Assert.True(DnsMessage.TryParse(fromPipeline, out var message, out _));
        Assert.Equal(Name(mail), ((MxData)Assert.Single(message.Answers).Data).Exchange);
        Assert.Equal(Pipeline(harness, upper), fromPipeline);

        byte[] mixed = QueryBytes($"MaIl.{K}", RecordType.MX);
        var (copy, keptMixed) = Ask(harness, mixed);
        Assert.True(keptMixed);
        Assert.Equal(QuestionName(mixed), QuestionName(copy));
        Assert.Equal(Pipeline(harness, mixed), copy);
    }

    [Fact]
    public void An_uncompressed_target_that_ends_with_the_querys_suffix_takes_that_spelling()
    {
        // SRV targets are never compressed, and the pipeline ends them with the query's own spelling of the TLD.
        var harness = Harness();
        string service = $"_sip._tcp.{K}";
        harness.Packets.Publish(Signer, Record(service, new SrvData(0, 5, 5060, Name($"sip.{K}"))));
        Ask(harness, QueryBytes($"{service}.key", RecordType.SRV));

        byte[] sameSuffix = QueryBytes($"_SIP._Tcp.{K}.key", RecordType.SRV);
        var (copy, kept) = Ask(harness, sameSuffix);
        Assert.True(kept);
        Assert.Equal(Pipeline(harness, sameSuffix), copy);

        byte[] otherSuffix = QueryBytes($"_sip._tcp.{K}.KEY", RecordType.SRV);
        var (fromPipeline, keptOther) = Ask(harness, otherSuffix);
        Assert.False(keptOther);
        Assert.True(DnsMessage.TryParse(fromPipeline, out var message, out _));
        Assert.Equal(Name($"sip.{K}.KEY"), ((SrvData)Assert.Single(message.Answers).Data).Target);
        Assert.Equal(Pipeline(harness, otherSuffix), fromPipeline);
    }

    [Fact]
    public void A_response_with_more_names_to_note_than_kept_is_reused_for_its_own_spelling_only()
    {
        // Nine spellings of the owner, each with one capital: more than the notes kept for one response.
        var harness = Harness();
        List<DnsName> owners = [.. Enumerable.Range(0, 9).Select(i => Name(string.Concat("many.example.com".Select((c, j) => j == i ? char.ToUpperInvariant(c) : c))))];
        var result = FakeForwarder.Answered(new DnsQuestion(Name("many.example.com"), RecordType.A, DnsClass.IN), 0,
            [.. owners.Select(o => new ResourceRecord(o, DnsClass.IN, 300, new AData(IPAddress.Parse("192.0.2.1"))))]);
        harness.Forwarder.Answer = _ => result;
        byte[] first = QueryBytes("many.example.com", RecordType.A);
        Ask(harness, first);
        Assert.True(Ask(harness, first).Kept);

        byte[] other = QueryBytes("MANY.EXAMPLE.COM", RecordType.A);
        var (response, kept) = Ask(harness, other);
        Assert.False(kept);
        Assert.Equal(Pipeline(harness, other), response);
    }

    [Fact]
    public void Another_spelling_answered_by_the_pipeline_takes_its_own_slot_and_leaves_the_other_question_kept()
    {
        var harness = Harness();
        byte[] question = QueryBytes("example.com", RecordType.A);
        int set = DnsQueryHandler.SetOf(question, DnsTransport.Udp);
        byte[]? neighbour = null;
        for (int i = 0; i < 65536 && neighbour is null; i++)
        {
            byte[] candidate = QueryBytes($"n{i}.example", RecordType.A);
            neighbour = DnsQueryHandler.SetOf(candidate, DnsTransport.Udp) == set ? candidate : null;
        }

        Assert.NotNull(neighbour);
        Ask(harness, neighbour);
        Ask(harness, question);
        Assert.Equal(2, harness.Handler.KeptResponses);

        // The owner is a pointer to the lower-case question, so the upper-case one is the pipeline's, kept in place.
        Assert.False(Ask(harness, QueryBytes("EXAMPLE.COM", RecordType.A)).Kept);
        Assert.Equal(2, harness.Handler.KeptResponses);
        Assert.True(Ask(harness, neighbour).Kept);
        Assert.True(Ask(harness, QueryBytes("EXAMPLE.COM", RecordType.A)).Kept);
    }

    [Fact]
    public void A_changed_packet_answers_another_spelling_with_its_own_name()
    {
        var harness = Harness();
        Ask(harness, QueryBytes(Www, RecordType.A));
        harness.Packets.Publish(Signer, A(Www, "192.0.2.99"));

        byte[] upper = QueryBytes(Www.ToUpperInvariant(), RecordType.A);
        var (fresh, kept) = Ask(harness, upper);
        Assert.False(kept);
        Assert.Equal(QuestionName(upper), QuestionName(fresh));
        Assert.True(DnsMessage.TryParse(fresh, out var message, out _));
        Assert.Equal(Www.ToUpperInvariant() + ". 300 IN A 192.0.2.99", Assert.Single(message.Answers).ToString());
        Assert.Equal(Pipeline(harness, upper), fresh);
    }

    public static TheoryData<string> OtherBytes() => new()
    {
        // Type 65 (HTTPS) is "\0A", type 97 "\0a".
        { "type 97" },
        { "DO" },
        { "EDNS size 0x6161" },
        { "option byte a" },
    };

    [Theory]
    [MemberData(nameof(OtherBytes))]
    public void A_query_that_differs_in_more_than_letter_case_is_another_query(string other)
    {
        // Two more option bytes, the same in both queries, chosen so that both fall in one set of the table: then
        // only the comparison tells them apart (the hash of the bytes after the name is exact, so it would hide a
        // comparison that folds them).
        for (int pad = 0; pad < 65536; pad++)
        {
            byte[] Query(RecordType type = (RecordType)65, int edns = 0x4141, bool dnssecOk = false, byte option = (byte)'A')
                => QueryBytes(Www, type, edns: edns, dnssecOk: dnssecOk, options: [0xFD, 0xE9, 0, 3, option, (byte)(pad >> 8), (byte)pad]);

            byte[] first = Query();
            byte[] second = other switch
            {
                "type 97" => Query(type: (RecordType)97),
                "DO" => Query(dnssecOk: true),
                "EDNS size 0x6161" => Query(edns: 0x6161),
                _ => Query(option: (byte)'a'),
            };
            if (DnsQueryHandler.SetOf(first, DnsTransport.Udp) == DnsQueryHandler.SetOf(second, DnsTransport.Udp))
            {
                AssertOtherQueries(first, second);
                return;
            }
        }

        Assert.Fail("no two queries in one set");
    }

    [Theory]
    [InlineData((byte)'1', (byte)0x11)]
    [InlineData((byte)'_', (byte)0x7F)]
    [InlineData((byte)'@', (byte)'`')]
    [InlineData((byte)'[', (byte)'{')]
    [InlineData((byte)'^', (byte)'~')]
    public void A_name_that_differs_in_a_byte_other_than_a_letter_is_another_query(byte one, byte other)
    {
        // "x?.example.com" with the byte after the x (ORed with 0x20, each pair is one value).
        byte[] first = QueryBytes("xy.example.com", (RecordType)65, edns: 0x4141);
        byte[] second = [.. first];
        first[14] = one;
        second[14] = other;
        AssertOtherQueries(first, second);
    }

    /// <summary>Both queries are answered by the pipeline and kept, each in its own entry, while the source hands back
    /// one object for both: only the table tells them apart.</summary>
    private static void AssertOtherQueries(byte[] first, byte[] second)
    {
        var harness = new QueryHarness();
        harness.Packets.Publish(Signer, A(Www, "192.0.2.7"));
        var result = FakeForwarder.Answered(new DnsQuestion(Name("example.com"), RecordType.A, DnsClass.IN), 0);
        harness.Forwarder.Answer = _ => result;
        Assert.Equal(first.Length, second.Length);

        Ask(harness, first);
        Assert.True(Ask(harness, first).Kept);
        var (response, kept) = Ask(harness, second);
        Assert.False(kept);
        Assert.Equal(QuestionName(second), QuestionName(response));
        Assert.Equal(2, harness.Handler.KeptResponses);
        Assert.True(Ask(harness, second).Kept);
        Assert.True(Ask(harness, first).Kept);
    }
}
