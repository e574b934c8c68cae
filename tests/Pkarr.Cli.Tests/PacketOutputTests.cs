using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Pkarr.Cli;
using Pkarr.Packets;
using Pkarr.Tests;

namespace Pkarr.Cli.Tests;

public sealed class PacketOutputTests
{
    private static readonly JsonElement Vector =
        Vectors.Load().RootElement.GetProperty("signed_packets").GetProperty("multi_record_compressed").Clone();

    private static readonly string Signature = Vector.GetProperty("signature_hex").GetString()!;

    internal static SignedPacket VectorPacket => SignedPacket.FromBytes(Convert.FromHexString(Vector.GetProperty("signed_packet_hex").GetString()!));

    internal static string VectorHex => Vector.GetProperty("signed_packet_hex").GetString()!;

    /// <summary>The text of the multi_record_compressed vector: a zone file with a comment header.</summary>
    internal static string ExpectedText => $$"""
        ; public_key: yqooxx9u3aemh8mo5wcqq16yufu6jitouq1o4za751dger1igghy
        ; timestamp: 1731421384123456 (Tue, 12 Nov 2024 14:23:04 GMT)
        ; signature: {{Signature}}
        ; size: 420 bytes (DNS 316 of at most 1000)
        @ 300 IN A 1.1.1.1
        @ 300 IN AAAA 3002:bd6::ee00:33:6778
        _derp_region.iroh 30 IN A 1.1.1.1
        subdomain 30 IN CNAME example.com.
        _proto 30 IN TXT "foo=bar"
        @ 3600 IN HTTPS 1 . alpn="h2,h3" port=6881
        _foo 3600 IN SVCB 0 https.example.com.
        @ 300 IN MX 10 mail.example.com.
        sub 300 IN NS ns1.example.com.

        """;

    /// <summary>The JSON of the same vector: one line, quotes escaped as \" (never \u0022).</summary>
    internal static string ExpectedJson => $$"""
        {"public_key":"yqooxx9u3aemh8mo5wcqq16yufu6jitouq1o4za751dger1igghy","timestamp":1731421384123456,"signature":"{{Signature}}","size":420,"dns_size":316,"records":[{"name":"@","ttl":300,"class":"IN","type":"A","data":"1.1.1.1"},{"name":"@","ttl":300,"class":"IN","type":"AAAA","data":"3002:bd6::ee00:33:6778"},{"name":"_derp_region.iroh","ttl":30,"class":"IN","type":"A","data":"1.1.1.1"},{"name":"subdomain","ttl":30,"class":"IN","type":"CNAME","data":"example.com."},{"name":"_proto","ttl":30,"class":"IN","type":"TXT","data":"\"foo=bar\""},{"name":"@","ttl":3600,"class":"IN","type":"HTTPS","data":"1 . alpn=\"h2,h3\" port=6881"},{"name":"_foo","ttl":3600,"class":"IN","type":"SVCB","data":"0 https.example.com."},{"name":"@","ttl":300,"class":"IN","type":"MX","data":"10 mail.example.com."},{"name":"sub","ttl":300,"class":"IN","type":"NS","data":"ns1.example.com."}]}
        """;

    [Fact]
    public void Text_is_the_zone_file_text_of_the_vector()
    {
        var output = new StringWriter();
        PacketOutput.WriteText(output, VectorPacket);
        Assert.Equal(ExpectedText, output.ToString());
    }

    [Fact]
    public void Text_of_a_seen_packet_adds_the_last_seen_line_with_its_age()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddSeconds(1_731_421_500));
        var output = new StringWriter();
        PacketOutput.WriteText(output, new CachedPacket(VectorPacket, new Timestamp(1_731_421_470_000_000)), time);
        string[] expected = ExpectedText.Split('\n');
        Assert.Equal([expected[0], "; last_seen: 1731421470000000 (30 seconds ago)", .. expected[1..]], output.ToString().Split('\n'));
    }

    [Fact]
    public void Json_is_one_line_of_the_vector_with_quotes_escaped_as_backslash_quote()
    {
        string json = PacketOutput.ToJson(VectorPacket);
        Assert.Equal(ExpectedJson, json);
        Assert.DoesNotContain("\\u0022", json, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', json);

        var output = new StringWriter();
        PacketOutput.WriteJson(output, VectorPacket);
        Assert.Equal(ExpectedJson + "\n", output.ToString());
    }

    [Fact]
    public void Json_with_a_last_seen_time_adds_it_after_the_key()
    {
        string json = PacketOutput.ToJson(VectorPacket, new Timestamp(1_731_421_470_000_000));
        Assert.StartsWith(
            "{\"public_key\":\"yqooxx9u3aemh8mo5wcqq16yufu6jitouq1o4za751dger1igghy\",\"last_seen\":1731421470000000,\"timestamp\":1731421384123456,",
            json,
            StringComparison.Ordinal);
        Assert.Equal(ExpectedJson, json.Replace("\"last_seen\":1731421470000000,", "", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_command_shares_one_read_only_relaxed_json_style()
    {
        Assert.Same(CliJson.Options, CliJson.Options);
        Assert.True(CliJson.Options.IsReadOnly);
        Assert.Equal("\"say \\\"hé\\\" <b>&amp;</b>\"", JsonSerializer.Serialize("say \"hé\" <b>&amp;</b>", CliJson.Options));

        // The default encoder, which the CLI does not use, escapes all of these.
        Assert.Contains("\\u0022", JsonSerializer.Serialize("\"", JsonSerializerOptions.Default), StringComparison.Ordinal);
        Assert.Equal("{\"a\":\"\\\"<é>\"}", CliJson.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("a", "\"<é>");
            writer.WriteEndObject();
        }));
    }
}
