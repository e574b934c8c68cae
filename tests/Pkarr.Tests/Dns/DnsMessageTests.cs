using System.Net;
using System.Text.Json;
using Pkarr.Dns;

namespace Pkarr.Tests.Dns;

public partial class DnsMessageTests
{
    public static TheoryData<string> SignedPacketNames() => new(VectorNames());

    internal static List<string> VectorNames()
    {
        using var doc = Vectors.Load();
        return [.. doc.RootElement.GetProperty("signed_packets").EnumerateObject().Select(e => e.Name)];
    }

    [Theory]
    [MemberData(nameof(SignedPacketNames))]
    public void Encode_reproduces_vector_bytes(string name)
    {
        var (message, expected, compressed) = LoadVector(name);

        Assert.Equal(Convert.ToHexStringLower(expected), Convert.ToHexStringLower(message.Encode(compressed)));
    }

    [Theory]
    [MemberData(nameof(SignedPacketNames))]
    public void TryEncode_reproduces_vector_bytes_and_refuses_short_buffers(string name)
    {
        var (message, expected, compressed) = LoadVector(name);
        byte[] buffer = new byte[expected.Length];

        Assert.True(message.TryEncode(buffer, compressed, out int written));
        Assert.Equal(expected.Length, written);
        Assert.Equal(expected, buffer);
        Assert.False(message.TryEncode(buffer.AsSpan(0, expected.Length - 1), compressed, out written));
        Assert.Equal(0, written);
    }

    [Theory]
    [MemberData(nameof(SignedPacketNames))]
    public void Parse_of_vector_gives_its_records(string name)
    {
        var (message, expected, _) = LoadVector(name);

        Assert.True(DnsMessage.TryParse(expected, out var parsed, out var error), error.Message);
        Assert.True(DnsMessage.TryValidate(expected, out var validateError));
        Assert.Equal(DnsError.None, error);
        Assert.Equal(DnsError.None, validateError);
        Assert.Equal(0, parsed.Id);
        Assert.Equal(DnsMessage.ResponseFlags, parsed.Flags);
        Assert.Empty(parsed.Questions);
        Assert.Empty(parsed.Authorities);
        Assert.Empty(parsed.Additionals);
        Assert.Equal(message.Answers, parsed.Answers);
    }

    [Fact]
    public void Compressed_and_uncompressed_vectors_parse_to_the_same_records()
    {
        var (_, compressed, _) = LoadVector("multi_record_compressed");
        var (_, uncompressed, _) = LoadVector("multi_record_uncompressed");

        var a = DnsMessage.Parse(compressed);
        var b = DnsMessage.Parse(uncompressed);

        Assert.Equal(316, compressed.Length);
        Assert.Equal(754, uncompressed.Length);
        Assert.Equal(a.Answers, b.Answers);
        Assert.Equal(compressed, b.Encode(compress: true));
        Assert.Equal(uncompressed, a.Encode(compress: false));
    }

    [Fact]
    public void Two_cname_apex_uses_the_pointers_of_the_walkthrough()
    {
        var (message, _, _) = LoadVector("two_cname_apex");
        string hex = Convert.ToHexStringLower(message.Encode());

        Assert.Contains("c00c", hex[(12 * 2)..], StringComparison.Ordinal);
        Assert.EndsWith("c04c", hex, StringComparison.Ordinal);
    }

    [Fact]
    public void Response_helper_sets_pkarr_header()
    {
        var record = new ResourceRecord(DnsName.Parse("a"), DnsClass.IN, 30, new AData(IPAddress.Parse("1.2.3.4")));
        var message = DnsMessage.Response([record]);

        Assert.Equal("000080000000000100000000", Convert.ToHexStringLower(message.Encode())[..24]);
    }

    [Fact]
    public void Empty_message_is_the_bare_header()
    {
        Assert.Equal("000080000000000000000000", Convert.ToHexStringLower(DnsMessage.Response([]).Encode()));
    }

    [Fact]
    public void Parse_throws_format_exception_with_the_error_text()
    {
        var ex = Assert.Throws<FormatException>(() => DnsMessage.Parse([0, 0, 0x80]));
        Assert.Contains("truncated", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Encode_handles_messages_larger_than_the_scratch_buffer()
    {
        var records = Enumerable.Range(0, 40)
            .Select(i => new ResourceRecord(DnsName.Parse($"r{i}.example"), DnsClass.IN, 60, new TxtData(new string('x', 100))))
            .ToList();
        var message = DnsMessage.Response(records);

        byte[] bytes = message.Encode();

        Assert.True(bytes.Length > 4000);
        Assert.Equal(records, DnsMessage.Parse(bytes).Answers);

        // 41 suffixes and 40 name arrays: more than the compression table first holds. Every name after the first
        // ends in a pointer to "example" (9 bytes with the terminator, replaced by 2).
        Assert.Equal(message.Encode(compress: false).Length - (39 * 7), bytes.Length);
    }

    [Fact]
    public void Validation_allocates_nothing()
    {
        var (_, bytes, _) = LoadVector("multi_record_compressed");
        DnsMessage.TryValidate(bytes, out _);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            Assert.True(DnsMessage.TryValidate(bytes, out _));
        }

        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    internal static (DnsMessage Message, byte[] Bytes, bool Compressed) LoadVector(string name)
    {
        using var doc = Vectors.Load();
        var vector = doc.RootElement.GetProperty("signed_packets").GetProperty(name);
        string origin = vector.GetProperty("public_key_z32").GetString()!;
        var records = vector.GetProperty("records").EnumerateArray().Select(r => ToRecord(r, origin)).ToList();
        bool compressed = !vector.TryGetProperty("compressed", out var c) || c.GetBoolean();
        byte[] bytes = Convert.FromHexString(vector.GetProperty("dns_packet_hex").GetString()!);
        return (new DnsMessage { Id = 0, Flags = 0x8000, Answers = records }, bytes, compressed);
    }

    /// <summary>The builder's owner-name normalisation (shared spec §3.4.1).</summary>
    internal static string Normalize(string origin, string name)
    {
        if (name.EndsWith('.'))
        {
            name = name[..^1];
        }

        string last = name.Split('.')[^1];
        if (last == origin)
        {
            return name;
        }

        return last is "@" or "" ? origin : name + "." + origin;
    }

    private static ResourceRecord ToRecord(JsonElement r, string origin)
    {
        var owner = DnsName.Parse(Normalize(origin, r.GetProperty("name").GetString()!));
        uint ttl = r.GetProperty("ttl").GetUInt32();
        var rdata = r.GetProperty("rdata");
        RecordData data = r.GetProperty("type").GetString() switch
        {
            "A" => new AData(IPAddress.Parse(rdata.GetString()!)),
            "AAAA" => new AaaaData(IPAddress.Parse(rdata.GetString()!)),
            "CNAME" => new CnameData(DnsName.Parse(rdata.GetString()!)),
            "NS" => new NsData(DnsName.Parse(rdata.GetString()!)),
            "PTR" => new PtrData(DnsName.Parse(rdata.GetString()!)),
            "TXT" => new TxtData(rdata.GetString()!),
            "MX" => new MxData(rdata.GetProperty("preference").GetUInt16(), DnsName.Parse(rdata.GetProperty("exchange").GetString()!)),
            "HTTPS" => ToSvcb(RecordType.HTTPS, rdata),
            "SVCB" => ToSvcb(RecordType.SVCB, rdata),
            var other => throw new NotSupportedException(other),
        };
        return new ResourceRecord(owner, DnsClass.IN, ttl, data);
    }

    private static SvcbData ToSvcb(RecordType type, JsonElement rdata)
    {
        var data = new SvcbData(type, rdata.GetProperty("priority").GetUInt16(), DnsName.Parse(rdata.GetProperty("target").GetString()!));
        if (!rdata.TryGetProperty("params", out var ps))
        {
            return data;
        }

        foreach (var p in ps.EnumerateObject())
        {
            data = p.Name switch
            {
                "alpn" => data.WithAlpn(p.Value.EnumerateArray().Select(a => a.GetString()!)),
                "port" => data.WithPort(p.Value.GetUInt16()),
                "no-default-alpn" => data.WithNoDefaultAlpn(),
                "ipv4hint" => data.WithIpv4Hint(p.Value.EnumerateArray().Select(a => IPAddress.Parse(a.GetString()!))),
                "ipv6hint" => data.WithIpv6Hint(p.Value.EnumerateArray().Select(a => IPAddress.Parse(a.GetString()!))),
                var other => throw new NotSupportedException(other),
            };
        }

        return data;
    }
}
