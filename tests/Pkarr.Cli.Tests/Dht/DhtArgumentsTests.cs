using System.Net;
using System.Net.Sockets;
using static Pkarr.Cli.Tests.Dht.DhtCli;

namespace Pkarr.Cli.Tests.Dht;

/// <summary>Mistakes caught before any packet is sent, and a network where nobody answers.</summary>
public sealed class DhtArgumentsTests : IDisposable
{
    private const string Key = "yqooxx9u3aemh8mo5wcqq16yufu6jitouq1o4za751dger1igghy";
    private const string Seed = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    private readonly string _dir = Directory.CreateTempSubdirectory("pkarr-dht-args-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string SecretFile()
    {
        string path = Path.Combine(_dir, "seed.key");
        File.WriteAllText(path, Seed);
        return path;
    }

    // A bootstrap address that is never contacted: every case fails before the node starts.
    private const string Unused = "127.0.0.1:9";

    [Theory]
    [InlineData("'xyz' is not a public key", "get-mutable", "xyz")]
    [InlineData("Invalid PublicKey encoding", "get-mutable", "yqooxx9u3aemh8mo5wcqq16yufu6jitouq1o4za751dger1iggh!")]
    [InlineData("is not a target: expected 40 hex characters", "get-immutable", "abcd")]
    [InlineData("is not a target", "get-immutable", "zz00000000000000000000000000000000000000")]
    [InlineData("--value-hex is not valid hex", "put-immutable", "--value-hex", "zz")]
    [InlineData("--value-hex is not valid hex", "put-immutable", "--value-hex", "abc")]
    [InlineData("--salt-hex is not valid hex", "get-mutable", Key, "--salt-hex", "0")]
    [InlineData("give either --salt or --salt-hex, not both", "get-mutable", Key, "--salt", "a", "--salt-hex", "61")]
    [InlineData("--seq must not be negative", "get-mutable", Key, "--seq", "-1")]
    [InlineData("--timeout must be a number of seconds greater than 0", "get-mutable", Key, "--timeout", "0")]
    public async Task Bad_arguments_exit_1_with_one_line(string reason, params string[] args)
    {
        AssertOneLineError(await RunPkarr(["dht", .. args, "--bootstrap", Unused]), reason);
    }

    [Fact]
    public async Task Bad_values_and_endpoints_exit_1_with_one_line()
    {
        string secret = SecretFile();
        AssertOneLineError(await RunPkarr("dht", "put-mutable", "--secret", secret, "--value-hex", "0g", "--bootstrap", Unused), "--value-hex is not valid hex");
        AssertOneLineError(
            await RunPkarr("dht", "put-mutable", "--secret", secret, "--value-hex", new string('a', 2002), "--bootstrap", Unused),
            "--value-hex is 1001 bytes; BEP 44 allows at most 1000");
        AssertOneLineError(
            await RunPkarr("dht", "put-mutable", "--secret", secret, "--value-hex", "00", "--salt", new string('s', 65), "--bootstrap", Unused),
            "the salt is 65 bytes; BEP 44 allows at most 64");
        AssertOneLineError(
            await RunPkarr("dht", "put-mutable", "--secret", Path.Combine(_dir, "missing.key"), "--value-hex", "00", "--bootstrap", Unused),
            "missing.key");
        AssertOneLineError(await RunPkarr("dht", "get-mutable", Key, "--bootstrap", "localhost"), "--bootstrap 'localhost' is not HOST:PORT");
        AssertOneLineError(await RunPkarr("dht", "get-mutable", Key, "--bootstrap", "127.0.0.1:0"), "is not HOST:PORT");
        AssertOneLineError(await RunPkarr("dht", "node", "--server", "--client", "--bootstrap", Unused), "give either --server or --client");
        AssertOneLineError(await RunPkarr("dht", "node", "--port", "70000", "--bootstrap", Unused), "--port must be 1 to 65535");
        AssertOneLineError(await RunPkarr("dht", "node", "--bind", "::1", "--bootstrap", Unused), "--bind '::1' is not an IPv4 address");
    }

    [Fact]
    public async Task Help_lists_every_dht_command()
    {
        var help = await RunPkarr("dht", "--help");
        Assert.Equal(0, help.Exit);
        foreach (string command in new[] { "node", "get-mutable <key>", "put-mutable", "get-immutable <target>", "put-immutable" })
        {
            Assert.Contains($"  {command} ", help.Out, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Hex_keys_must_be_curve_points()
    {
        // The core's off-curve vector: 32 bytes that decode to no point.
        const string offCurve = "6482a31e25b0007a31038ae9a2d3835afa10df86366fb3c4bacaf70a1e9f5867";
        AssertOneLineError(await RunPkarr("dht", "get-mutable", offCurve, "--bootstrap", Unused), "Invalid Ed25519 public key");
    }

    [Fact]
    public async Task Silent_bootstrap_nodes_give_a_hint_about_the_network()
    {
        // A bound socket that never answers: requests to it time out (2 s) without any ICMP error.
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        string bootstrap = silent.LocalEndPoint!.ToString()!;

        var get = await RunPkarr("dht", "get-mutable", Key, "--bootstrap", bootstrap, "--timeout", "15");
        AssertOneLineError(get, "no DHT node answered: check --bootstrap or your network");

        var put = await RunPkarr("dht", "put-mutable", "--secret", SecretFile(), "--value-hex", "00", "--bootstrap", bootstrap, "--timeout", "15");
        Assert.Equal(1, put.Exit);
        Assert.Contains("check --bootstrap or your network", put.Error, StringComparison.Ordinal);

        var slow = await RunPkarr("dht", "get-immutable", new string('0', 40), "--bootstrap", bootstrap, "--timeout", "0.5");
        AssertOneLineError(slow, "timed out after 0.5 s: check --bootstrap or your network, or raise --timeout");
    }
}
