using System.Text;
using System.Text.Json;
using Pkarr.Cli;
using Pkarr.Packets;
using Pkarr.Tests;

namespace Pkarr.Cli.Tests;

public sealed class CliTests : IDisposable
{
    private const string SeedHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    private readonly string _dir = Directory.CreateTempSubdirectory("pkarr-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed record Run(int Exit, string Out, string Error, byte[] Binary);

    private static async Task<Run> Pkarr(params string[] args) => await PkarrWithInput([], args);

    private static async Task<Run> PkarrWithInput(byte[] input, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var binary = new MemoryStream();
        var console = new CliConsole(stdout, stderr, () => new MemoryStream(input), () => new NonClosingStream(binary));
        int exit = await PkarrCommand.RunAsync(args, console);
        return new Run(exit, stdout.ToString(), stderr.ToString(), binary.ToArray());
    }

    private string File(string name, string content)
    {
        string path = Path.Combine(_dir, name);
        System.IO.File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public async Task Keygen_writes_a_0600_secret_and_prints_the_key_that_pubkey_reads_back()
    {
        string secret = Path.Combine(_dir, "k.key");
        var keygen = await Pkarr("keygen", "--out", secret);
        Assert.Equal(0, keygen.Exit);
        string key = keygen.Out.Trim();
        Assert.Equal(52, key.Length);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, System.IO.File.GetUnixFileMode(secret));

        var pubkey = await Pkarr("pubkey", "--secret", secret);
        Assert.Equal(0, pubkey.Exit);
        Assert.Equal(key, pubkey.Out.Trim());
        Assert.Equal("pk:" + key, (await Pkarr("pubkey", "--secret", secret, "--uri")).Out.Trim());

        var again = await Pkarr("keygen", "--out", secret);
        Assert.Equal(1, again.Exit);
        Assert.Contains("--force", again.Error, StringComparison.Ordinal);
        Assert.Equal(key, (await Pkarr("pubkey", "--secret", secret)).Out.Trim());
    }

    [Fact]
    public async Task Sign_reproduces_the_single_a_record_vector()
    {
        var vector = Vectors.Load().RootElement.GetProperty("signed_packets").GetProperty("single_a_record");
        string secret = File("seed.key", SeedHex);
        string zone = File("zone.txt", "; the vector's one record\n_derp_region.iroh.  30  IN  A  1.1.1.1\n");
        var sign = await Pkarr("sign", "--secret", secret, "--zone", zone, "--timestamp", "1700000000000000");
        Assert.Equal(0, sign.Exit);
        Assert.Equal(vector.GetProperty("signed_packet_hex").GetString(), sign.Out.Trim());

        var relay = await Pkarr("sign", "--secret", secret, "--zone", zone, "--timestamp", "1700000000000000", "--format", "relay-hex");
        Assert.Equal(vector.GetProperty("relay_payload_hex").GetString(), relay.Out.Trim());
    }

    [Fact]
    public async Task Inspect_prints_text_and_json_for_every_input_form()
    {
        string secret = File("seed.key", SeedHex);
        string zone = File("zone.txt", "$TTL 60\n@ IN A 127.0.0.1\ntext IN TXT \"hero=satoshi2\"\n@ IN MX 10 mail.example.com.\n");
        string hex = (await Pkarr("sign", "--secret", secret, "--zone", zone)).Out.Trim();

        var text = await Pkarr("inspect", hex);
        Assert.Equal(0, text.Exit);
        Assert.StartsWith("; public_key: yqooxx9u3aemh8mo5wcqq16yufu6jitouq1o4za751dger1igghy\n", text.Out, StringComparison.Ordinal);
        Assert.EndsWith("@ 60 IN A 127.0.0.1\ntext 60 IN TXT \"hero=satoshi2\"\n@ 60 IN MX 10 mail.example.com.\n", text.Out, StringComparison.Ordinal);

        // The text is a zone file: signing it again gives the same records.
        string again = (await Pkarr("sign", "--secret", secret, "--zone", File("again.txt", text.Out))).Out.Trim();
        Assert.Equal(
            SignedPacket.FromBytes(Convert.FromHexString(hex)).AllResourceRecords,
            SignedPacket.FromBytes(Convert.FromHexString(again)).AllResourceRecords);

        var json = await Pkarr("inspect", hex, "--json");
        Assert.Equal(0, json.Exit);
        using var document = JsonDocument.Parse(json.Out);
        var root = document.RootElement;
        Assert.Equal("yqooxx9u3aemh8mo5wcqq16yufu6jitouq1o4za751dger1igghy", root.GetProperty("public_key").GetString());
        Assert.Equal(128, root.GetProperty("signature").GetString()!.Length);
        var records = root.GetProperty("records");
        Assert.Equal(3, records.GetArrayLength());
        Assert.Equal("A", records[0].GetProperty("type").GetString());
        Assert.Equal("127.0.0.1", records[0].GetProperty("data").GetString());
        Assert.Equal(60, records[0].GetProperty("ttl").GetInt32());
        Assert.Equal("IN", records[0].GetProperty("class").GetString());
        Assert.Equal("MX", records[2].GetProperty("type").GetString());

        var stdin = await PkarrWithInput(Encoding.ASCII.GetBytes(hex + "\n"), "inspect", "-");
        Assert.Equal(text.Out.Split('\n')[3..], stdin.Out.Split('\n')[3..]);

        string binPath = Path.Combine(_dir, "packet.bin");
        Assert.Equal(0, (await Pkarr("sign", "--secret", secret, "--zone", zone, "--format", "bin", "--out", binPath)).Exit);
        Assert.Equal(0, (await Pkarr("inspect", "--file", binPath)).Exit);

        var relay = (await Pkarr("sign", "--secret", secret, "--zone", zone, "--format", "relay-hex")).Out.Trim();
        Assert.Equal(0, (await Pkarr("inspect", relay, "--key", "pk:yqooxx9u3aemh8mo5wcqq16yufu6jitouq1o4za751dger1igghy")).Exit);
        var wrongKey = await Pkarr("inspect", relay, "--key", "yg4gxe7z1r7mr6orids9fh95y7gxhdsxjqi6nngsxxtakqaxr5no");
        Assert.Equal(1, wrongKey.Exit);
        Assert.Contains("Invalid signature", wrongKey.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Binary_output_goes_to_standard_output()
    {
        string secret = File("seed.key", SeedHex);
        string zone = File("zone.txt", "@ IN TXT hello\n");
        var bin = await Pkarr("sign", "--secret", secret, "--zone", zone, "--format", "bin", "--timestamp", "42");
        Assert.Equal(0, bin.Exit);
        var inspect = await PkarrWithInput(bin.Binary, "inspect", "-", "--json");
        Assert.Equal(0, inspect.Exit);
        Assert.Contains("\"timestamp\":42,", inspect.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Inspect_prints_the_vector_exactly_as_the_shared_packet_output()
    {
        var text = await Pkarr("inspect", PacketOutputTests.VectorHex);
        Assert.Equal(0, text.Exit);
        Assert.Equal(PacketOutputTests.ExpectedText, text.Out);

        var json = await Pkarr("inspect", PacketOutputTests.VectorHex, "--json");
        Assert.Equal(0, json.Exit);
        Assert.Equal(PacketOutputTests.ExpectedJson + "\n", json.Out);
        Assert.Contains("\"data\":\"\\\"foo=bar\\\"\"", json.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u0022", json.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("zz", "not valid hex")]
    [InlineData("00", "expected at least 104 bytes")]
    public async Task Inspect_rejects_bad_input_with_one_line(string input, string reason)
    {
        var run = await Pkarr("inspect", input);
        Assert.Equal(1, run.Exit);
        Assert.Contains(reason, run.Error, StringComparison.Ordinal);
        Assert.Single(run.Error.Trim().Split('\n'));
        Assert.DoesNotContain("   at ", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task User_mistakes_are_one_line_errors_not_stack_traces()
    {
        string badSecret = File("bad.key", "xyz");
        string zone = File("zone.txt", "; one good record, then a bad address\n@ IN A 192.0.2.1\nwww IN A 999.1.1.1\n");
        string secret = File("seed.key", SeedHex);

        var missing = await Pkarr("pubkey", "--secret", Path.Combine(_dir, "missing.key"));
        Assert.Equal(1, missing.Exit);
        Assert.StartsWith("error: ", missing.Error, StringComparison.Ordinal);

        var bad = await Pkarr("pubkey", "--secret", badSecret);
        Assert.Equal(1, bad.Exit);
        Assert.Contains("Invalid hex string length", bad.Error, StringComparison.Ordinal);

        var badZone = await Pkarr("sign", "--secret", secret, "--zone", zone);
        Assert.Equal(1, badZone.Exit);
        Assert.Equal("error: zone.txt: line 3: A: '999.1.1.1' is not a valid address\n", badZone.Error.ReplaceLineEndings("\n"));
        Assert.DoesNotContain("   at ", badZone.Error, StringComparison.Ordinal);

        var badFormat = await Pkarr("sign", "--secret", secret, "--zone", zone, "--format", "xml");
        Assert.NotEqual(0, badFormat.Exit);
    }

    [Fact]
    public async Task Oversized_zone_reports_the_size()
    {
        string secret = File("seed.key", SeedHex);
        var zone = new StringBuilder();
        for (int i = 0; i < 6; i++)
        {
            zone.Append(System.Globalization.CultureInfo.InvariantCulture, $"t{i} IN TXT \"{new string('x', 200)}\"\n");
        }

        var run = await Pkarr("sign", "--secret", secret, "--zone", File("big.zone", zone.ToString()));
        Assert.Equal(1, run.Exit);
        Assert.Contains("too large", run.Error, StringComparison.Ordinal);
    }

    private sealed class NonClosingStream(Stream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => inner.Position = value; }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
    }
}
