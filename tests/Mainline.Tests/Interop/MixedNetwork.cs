using System.Diagnostics;
using System.Text.Json;

namespace Mainline.Tests.Interop;

/// <summary>A mixed loopback DHT: 5 of our nodes, 5 libtorrent sessions, 5 bittorrent-dht nodes, and one of
/// our nodes used as the client. Started once for the interop tests; every process is ours and is killed by id.</summary>
public sealed class MixedNetwork : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    public Testnet Ours { get; private set; } = null!;

    public Dht Client { get; private set; } = null!;

    internal PeerProcess Libtorrent { get; private set; } = null!;

    internal PeerProcess Bdht { get; private set; } = null!;

    public IReadOnlyList<string> LibtorrentEndpoints { get; private set; } = [];

    public IReadOnlyList<string> BdhtEndpoints { get; private set; } = [];

    public string Root { get; } = FindRoot();

    public string LtScript { get; } = FindLtScript();

    public string BdhtDirectory => Path.Combine(Root, "tests", "Interop", "dht");

    public const string Python = "/usr/bin/python3";

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Pkarr.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("repository root (Pkarr.slnx) not found");
    }

    private static string FindLtScript()
    {
        var kit = Environment.GetEnvironmentVariable("MAINLINE_PEERS_KIT")
            ?? Path.Combine(FindRoot(), "..", "shared", "peers");
        return Path.GetFullPath(Path.Combine(kit, "lt_testnet.py"));
    }

    private static void Require(bool ok, string message)
    {
        if (!ok)
        {
            throw new InvalidOperationException("interop peer missing: " + message);
        }
    }

    private static bool Succeeds(string file, params string[] args)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true });
            return p!.WaitForExit(20_000) && p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    public async Task InitializeAsync()
    {
        Require(Succeeds(Python, "-c", "import libtorrent, cryptography"),
            "libtorrent's Python binding (run scripts/setup.sh: apt-get install python3-libtorrent python3-cryptography)");
        Require(File.Exists(LtScript), $"{LtScript} (the shared peers kit; set MAINLINE_PEERS_KIT to its folder)");
        Require(File.Exists(Path.Combine(BdhtDirectory, "node_modules", "bittorrent-dht", "package.json")),
            "bittorrent-dht in tests/Interop/dht/node_modules (run scripts/setup.sh: npm ci there)");
        Require(Succeeds("node", "--version"), "node (apt-get install nodejs)");

        Ours = await Testnet.CreateAsync(5);
        var ours0 = Ours.Bootstrap[0].ToString();

        // libtorrent gives its sessions 10 s to start listening; on a loaded machine that can run out, so a
        // failed start is retried (at most three times, each bounded by StartTimeout) on fresh ports.
        JsonElement ltReady = default;
        for (int attempt = 1; ; attempt++)
        {
            var ltBase = PeerProcess.FreeUdpPortRange(5);
            Libtorrent = PeerProcess.Start(Python, [LtScript, "serve", "--nodes", "5", "--base-port", ltBase.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--bootstrap", ours0, "--duration", "600", "--settle", "20"], Root);
            try
            {
                ltReady = await Libtorrent.WaitForEventAsync("ready", StartTimeout);
                break;
            }
            catch (TimeoutException) when (attempt < 3)
            {
                await Libtorrent.DisposeAsync();
            }
        }

        LibtorrentEndpoints = [.. ltReady.GetProperty("endpoints").EnumerateArray().Select(e => e.GetString()!)];

        Bdht = PeerProcess.Start("node", ["bdht-peer.mjs", "--nodes", "5", "--bootstrap", $"{ours0},{LibtorrentEndpoints[0]}", "--duration-s", "600"], BdhtDirectory);
        var bdReady = await Bdht.WaitForEventAsync("ready", StartTimeout);
        BdhtEndpoints = [.. bdReady.GetProperty("endpoints").EnumerateArray().Select(e => e.GetString()!)];

        var options = Ours.ClientOptions(DhtMode.Server);
        Client = await Dht.CreateAsync(new DhtOptions
        {
            Bootstrap = [Ours.Bootstrap[0], DhtEndPoint.Parse(LibtorrentEndpoints[0]), DhtEndPoint.Parse(BdhtEndpoints[0])],
            Port = 0,
            BindAddress = options.BindAddress,
            Mode = DhtMode.Server,
            RateLimitPerIp = 0,
        });
        if (!await Client.BootstrappedAsync(new CancellationTokenSource(StartTimeout).Token))
        {
            throw new InvalidOperationException("our client could not join the mixed network");
        }

        // Let every of our testnet nodes look itself up once, so they learn the foreign nodes too.
        foreach (var n in Ours.Nodes)
        {
            await n.FindNodeAsync(NodeId.Random(), new CancellationTokenSource(StartTimeout).Token);
        }
    }

    /// <summary>Runs a libtorrent one-shot client (read-only session) against the libtorrent testnet.</summary>
    public Task<JsonElement> LtAsync(params string[] args) => LtViaAsync(string.Join(',', LibtorrentEndpoints), args);

    /// <summary>Runs a libtorrent one-shot client that joins through <paramref name="bootstrap"/> only.</summary>
    /// <remarks>45 s: libtorrent waits 15 s for every unresponsive node of a lookup, and bittorrent-dht keeps
    /// earlier (exited, read-only) libtorrent clients in its tables and hands them out.</remarks>
    public Task<JsonElement> LtViaAsync(string bootstrap, params string[] args) =>
        PeerProcess.RunAsync(Python, [LtScript, .. args, "--bootstrap", bootstrap, "--timeout", "45"], Root, TimeSpan.FromSeconds(90));

    public async Task DisposeAsync()
    {
        if (Client is not null)
        {
            await Client.DisposeAsync();
        }

        if (Bdht is not null)
        {
            await Bdht.DisposeAsync();
        }

        if (Libtorrent is not null)
        {
            await Libtorrent.DisposeAsync();
        }

        if (Ours is not null)
        {
            await Ours.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class InteropCollection : ICollectionFixture<MixedNetwork>
{
    public const string Name = "interop";
}
