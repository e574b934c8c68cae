using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Pkarr.Keys;
using static Pkarr.Cli.Tests.Dht.DhtCli;

namespace Pkarr.Cli.Tests.Dht;

/// <summary>get/put of mutable and immutable items against a loopback testnet.</summary>
public sealed class ItemCommandsTests : IClassFixture<TestnetFixture>, IDisposable
{
    private readonly TestnetFixture _net;
    private readonly string _dir = Directory.CreateTempSubdirectory("pkarr-dht-cli-").FullName;

    public ItemCommandsTests(TestnetFixture net) => _net = net;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Hex(string text) => Convert.ToHexStringLower(Encoding.UTF8.GetBytes(text));

    /// <summary>A fresh key pair per test, so tests sharing the testnet never see each other's items.</summary>
    private (string File, PublicKey Key) NewKey()
    {
        using var keypair = Keypair.Random();
        string file = Path.Combine(_dir, $"{Guid.NewGuid():N}.key");
        keypair.WriteSecretKeyFile(file);
        return (file, keypair.PublicKey);
    }

    private Task<Run> Dht(params string[] args) => RunPkarr(["dht", .. args, "--bootstrap", _net.Bootstrap, "--timeout", "15"]);

    [Fact]
    public async Task Put_mutable_then_get_mutable_returns_the_value_as_text_and_json()
    {
        var (secret, key) = NewKey();
        var put = await Dht("put-mutable", "--secret", secret, "--value-hex", Hex("hello dht"), "--seq", "5");
        Assert.Equal(0, put.Exit);
        string target = Convert.ToHexStringLower(key.DhtTarget());
        Assert.StartsWith($"target={target} seq=5 stored_on=", put.Out, StringComparison.Ordinal);
        Assert.True(int.Parse(put.Out.Trim().Split("stored_on=")[1]) >= 5, put.Out);

        var get = await Dht("get-mutable", key.ToString());
        Assert.Equal(0, get.Exit);
        Assert.Equal($"seq=5 value_hex={Hex("hello dht")} value_text=\"hello dht\"", Assert.Single(get.Lines));

        var json = await Dht("get-mutable", Convert.ToHexStringLower(key.Bytes), "--json", "--most-recent");
        Assert.Equal(0, json.Exit);
        using var item = JsonDocument.Parse(Assert.Single(json.Lines));
        Assert.Equal(5, item.RootElement.GetProperty("seq").GetInt64());
        Assert.Equal(Hex("hello dht"), item.RootElement.GetProperty("value_hex").GetString());
        Assert.Equal("hello dht", item.RootElement.GetProperty("value_text").GetString());
        Assert.Equal(key.ToString(), item.RootElement.GetProperty("public_key").GetString());
        Assert.Equal(target, item.RootElement.GetProperty("target").GetString());
        Assert.Equal(128, item.RootElement.GetProperty("signature").GetString()!.Length);
    }

    [Fact]
    public async Task Salted_items_are_found_with_the_same_salt_in_either_form()
    {
        var (secret, key) = NewKey();
        var put = await Dht("put-mutable", "--secret", secret, "--value-hex", "00ff", "--salt", "pkarr", "--json");
        Assert.Equal(0, put.Exit);
        using var written = JsonDocument.Parse(put.Out);
        long seq = written.RootElement.GetProperty("seq").GetInt64();
        Assert.True(seq > 1_700_000_000_000_000, "the default seq is the time in microseconds");

        var get = await Dht("get-mutable", "pk:" + key, "--salt-hex", Hex("pkarr"));
        Assert.Equal(0, get.Exit);
        Assert.Equal($"salt_hex={Hex("pkarr")} seq={seq} value_hex=00ff", Assert.Single(get.Lines));

        var unsalted = await Dht("get-mutable", key.ToString());
        AssertOneLineError(unsalted, $"no mutable item found for {key}");
    }

    [Fact]
    public async Task Seq_and_cas_conflicts_exit_1_with_the_reason()
    {
        var (secret, key) = NewKey();
        Assert.Equal(0, (await Dht("put-mutable", "--secret", secret, "--value-hex", "01", "--seq", "10")).Exit);

        var older = await Dht("put-mutable", "--secret", secret, "--value-hex", "02", "--seq", "9");
        AssertOneLineError(older, "seq 9 is not newer than the stored item's (error 302)");

        var cas = await Dht("put-mutable", "--secret", secret, "--value-hex", "03", "--seq", "11", "--cas", "3");
        AssertOneLineError(cas, "is not --cas 3 (error 301)");

        var swapped = await Dht("put-mutable", "--secret", secret, "--value-hex", "04", "--seq", "12", "--cas", "10");
        Assert.Equal(0, swapped.Exit);

        var newer = await Dht("get-mutable", key.ToString(), "--seq", "11");
        Assert.Equal("seq=12 value_hex=04", Assert.Single(newer.Lines));
        var newest = await Dht("get-mutable", key.ToString(), "--seq", "11", "--most-recent");
        Assert.Equal("seq=12 value_hex=04", Assert.Single(newest.Lines));
        AssertOneLineError(await Dht("get-mutable", key.ToString(), "--seq", "12"), "with a seq greater than 12");
    }

    [Fact]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA5350", Justification = "BEP 44 defines immutable targets as SHA-1.")]
    public async Task Put_immutable_then_get_immutable_round_trips()
    {
        string value = $"immutable {Guid.NewGuid()}";
        var put = await Dht("put-immutable", "--value-hex", Hex(value), "--json");
        Assert.Equal(0, put.Exit);
        using var written = JsonDocument.Parse(put.Out);
        string target = written.RootElement.GetProperty("target").GetString()!;
        // BEP 44: the target is SHA-1 of the bencoded byte string.
        Assert.Equal(Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes($"{value.Length}:{value}"))), target);
        Assert.True(written.RootElement.GetProperty("stored_on").GetInt32() >= 5);

        var get = await Dht("get-immutable", target);
        Assert.Equal(0, get.Exit);
        Assert.Equal($"value_hex={Hex(value)} value_text=\"{value}\"", Assert.Single(get.Lines));

        var json = await Dht("get-immutable", target, "--json");
        using var read = JsonDocument.Parse(json.Out);
        Assert.Equal(target, read.RootElement.GetProperty("target").GetString());
        Assert.Equal(value, read.RootElement.GetProperty("value_text").GetString());
    }

    [Fact]
    public async Task Binary_values_print_hex_only()
    {
        var put = await Dht("put-immutable", "--value-hex", "c3280a");
        Assert.Equal(0, put.Exit);
        string target = put.Out.Split(' ')[0]["target=".Length..];
        var get = await Dht("get-immutable", target);
        Assert.Equal("value_hex=c3280a", Assert.Single(get.Lines));
    }

    [Fact]
    public async Task Missing_items_exit_1_with_a_clear_message()
    {
        var (_, key) = NewKey();
        AssertOneLineError(await Dht("get-mutable", key.ToString()), $"no mutable item found for {key}: it was never stored");
        AssertOneLineError(await Dht("get-mutable", key.ToString(), "--most-recent"), "no mutable item found");

        string target = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
        AssertOneLineError(await Dht("get-immutable", target), $"no immutable item found for {target}");
    }
}
