using System.Net;

namespace Mainline.Tests;

public sealed class DhtModesTests
{
    private static CancellationToken Ct() => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;

    [Fact]
    public async Task Adaptive_node_becomes_a_server_at_the_refresh_once_reachable()
    {
        await using var net = await Testnet.CreateAsync(5, cancellationToken: Ct());
        var clock = new Clock();
        var options = net.ClientOptions(DhtMode.Adaptive);
        options.TimeProvider = clock.Time;
        await using var node = await Dht.CreateAsync(options, Ct());
        Assert.True(await node.BootstrappedAsync(Ct()));
        Assert.False((await DhtTests.Eventually(node, i => !i.Firewalled)).Firewalled);

        // Reachable, but the switch waits for the 15-minute refresh.
        await clock.AdvanceAsync(TimeSpan.FromMinutes(14), Ct(), node);
        Assert.False((await node.GetInfoAsync(Ct())).ServerMode);
        await clock.AdvanceAsync(TimeSpan.FromMinutes(1), Ct(), node);
        Assert.True((await node.GetInfoAsync(Ct())).ServerMode);
    }

    [Fact]
    public async Task Forced_client_never_becomes_a_server()
    {
        await using var net = await Testnet.CreateAsync(3, cancellationToken: Ct());
        var clock = new Clock();
        var options = net.ClientOptions(DhtMode.Client);
        options.TimeProvider = clock.Time;
        await using var node = await Dht.CreateAsync(options, Ct());
        Assert.True(await node.BootstrappedAsync(Ct()));
        Assert.False((await DhtTests.Eventually(node, i => !i.Firewalled)).Firewalled);
        for (var refresh = 0; refresh < 3; refresh++)
        {
            await clock.AdvanceAsync(TimeSpan.FromMinutes(15), Ct(), node);
        }

        Assert.False((await node.GetInfoAsync(Ct())).ServerMode);
    }

    [Fact]
    public async Task Known_public_address_gives_a_secure_id_and_a_fresh_table()
    {
        await using var net = await Testnet.CreateAsync(5, cancellationToken: Ct());
        var node = net.Nodes[0];
        var before = await node.GetInfoAsync(Ct());
        var publicAddress = new IPEndPoint(IPAddress.Parse("124.31.75.21"), 6881);
        Assert.False(before.Id.IsValidFor(publicAddress.Address));
        // As if our own ping had come back through that public address (§5 step 4); no datagram goes there.
        await node.Node.InvokeAsync(() =>
        {
            node.Node.Core.OnOwnPingReturned(publicAddress);
            return true;
        }, Ct());
        var after = await node.GetInfoAsync(Ct());
        Assert.True(after.Id.IsValidFor(publicAddress.Address));
        Assert.NotEqual(before.Id, after.Id);
        // (Firewalled is not asserted: the lookup for the new id votes for 127.0.0.1, a new public address,
        // which is firewalled until our ping through it returns; loopback being exempt, the id stays.)
        // The lookup for the new id, seeded from the old table, refills the new table.
        Assert.True((await DhtTests.Eventually(node, i => i.RoutingTableSize > 0)).RoutingTableSize > 0);
        Assert.Equal(after.Id, (await node.GetInfoAsync(Ct())).Id);
    }

    [Fact]
    public async Task Public_ip_option_seeds_a_secure_id()
    {
        await using var node = await Dht.CreateAsync(new DhtOptions
        {
            Bootstrap = [],
            Port = 0,
            BindAddress = IPAddress.Loopback,
            PublicIp = IPAddress.Parse("65.23.51.170"),
        }, Ct());
        var info = await node.GetInfoAsync(Ct());
        Assert.True(info.Id.IsValidFor(IPAddress.Parse("65.23.51.170")));
        Assert.Null(info.PublicEndPoint);
        Assert.True(info.Firewalled);
    }

    [Fact]
    public async Task Bootstrap_lists_resolve_literals_once_and_keep_extras()
    {
        var list = await Mainline.Rpc.LocalNode.ResolveAsync(
            [IPEndPoint.Parse("127.0.0.1:7000"), new DnsEndPoint("127.0.0.1", 7000), IPEndPoint.Parse("127.0.0.2:7001"), IPEndPoint.Parse("[::1]:7002")], Ct());
        Assert.Equal([IPEndPoint.Parse("127.0.0.1:7000"), IPEndPoint.Parse("127.0.0.2:7001")], list); // IPv4 only, no duplicates
        // Extras are added to an explicit list (and to the defaults when none is given: not resolved here,
        // tests never touch public hosts).
        await using var node = await Dht.CreateAsync(new DhtOptions
        {
            Bootstrap = [IPEndPoint.Parse("127.0.0.1:9")],
            ExtraBootstrap = [IPEndPoint.Parse("127.0.0.1:10")],
            Port = 0,
            BindAddress = IPAddress.Loopback,
        }, Ct());
        Assert.Equal(2, node.Node.Core.BootstrapNodes.Count);
    }

    [Fact]
    public async Task Second_put_reuses_fresh_tokens_without_a_lookup()
    {
        await using var net = await Testnet.CreateAsync(10, cancellationToken: Ct());
        await using var a = await Dht.CreateAsync(net.ClientOptions(), Ct());
        var seed = new byte[32];
        seed[0] = 42;
        Assert.True((await a.PutMutableAsync(MutableItem.Sign(seed, "1"u8, 1), null, Ct())).Succeeded);
        var lookups = await a.Node.InvokeAsync(() => OwnLookups(a.Node.Core), Ct());
        var second = await a.PutMutableAsync(MutableItem.Sign(seed, "2"u8, 2), 1, Ct());
        Assert.True(second.Succeeded);
        Assert.True(second.StoredOn >= 10);
        Assert.Equal(lookups, await a.Node.InvokeAsync(() => OwnLookups(a.Node.Core), Ct()));

        // The node's bucket refreshes run on their own schedule (one after another once its self-lookup ends), so one
        // may start between the puts; only the other lookups are the puts'.
        static int OwnLookups(Mainline.Rpc.NodeCore core) => core.LookupsStarted - core.RefreshesStarted;
    }

    [Fact]
    public async Task Detailed_get_reports_diagnostics()
    {
        await using var net = await Testnet.CreateAsync(10, cancellationToken: Ct());
        await using var a = await Dht.CreateAsync(net.ClientOptions(), Ct());
        var item = MutableItem.Sign(new byte[32], "d"u8, 3);
        Assert.True((await a.PutMutableAsync(item, null, Ct())).Succeeded);
        await using var b = await Dht.CreateAsync(net.ClientOptions(), Ct());
        var all = await b.GetMutableDetailedAsync(item.Key, default, null, Ct());
        Assert.Equal(3, all.MostRecent!.Seq);
        Assert.Same(all.MostRecent, Assert.Single(all.Items)); // ten copies, one distinct item
        Assert.True(all.Diagnostics.Values >= 10);
        Assert.Equal(0, all.Diagnostics.InvalidValues);
        Assert.True(all.Diagnostics.Queried >= all.Diagnostics.Responded);

        var newer = await b.GetMutableDetailedAsync(item.Key, default, 3, Ct());
        Assert.Empty(newer.Items);
        Assert.True(newer.Diagnostics.NoMoreRecent >= 10);
    }
}

public sealed class DhtLoggingTests
{
    private sealed class ListLoggerFactory(ListLogger logger) : Microsoft.Extensions.Logging.ILoggerFactory
    {
        public List<string> Categories { get; } = [];

        public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName)
        {
            Categories.Add(categoryName);
            return logger;
        }

        public void AddProvider(Microsoft.Extensions.Logging.ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }
    }

    private sealed class ListLogger : Microsoft.Extensions.Logging.ILogger
    {
        public List<string> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Lines)
            {
                Lines.Add(formatter(state, exception));
            }
        }
    }

    [Fact]
    public async Task Structured_logs_for_start_lookups_and_puts()
    {
        var ct = new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;
        await using var net = await Testnet.CreateAsync(5, cancellationToken: ct);
        var logger = new ListLogger();
        var factory = new ListLoggerFactory(logger);
        var options = net.ClientOptions(DhtMode.Adaptive);
        options.LoggerFactory = factory;
        await using (var node = await Dht.CreateAsync(options, ct))
        {
            Assert.True((await node.PutImmutableAsync("log me"u8.ToArray(), ct)).Succeeded);
        }

        string[] lines;
        lock (logger.Lines)
        {
            lines = [.. logger.Lines];
        }

        Assert.Contains(lines, l => l.Contains("listening on", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("Get lookup", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("Stored, stored on", StringComparison.Ordinal));
        Assert.Equal(["Mainline.Dht"], factory.Categories);
    }
}

public sealed class DhtOptionsTests
{
    [Fact]
    public void Defaults_are_valid_and_documented_values()
    {
        var defaults = new DhtOptions();
        Assert.Empty(DhtOptionsValidator.Failures(defaults));
        Assert.True(new DhtOptionsValidator().Validate(null, defaults).Succeeded);
        Assert.Null(defaults.Bootstrap);
        Assert.All(DhtOptions.DefaultBootstrap, e => Assert.IsType<DnsEndPoint>(e));
        Assert.Equal(4, DhtOptions.DefaultBootstrap.Count);
        Assert.Equal(TimeSpan.FromSeconds(2), defaults.RequestTimeout);
        Assert.Equal(DhtMode.Adaptive, defaults.Mode);
        Assert.Equal(IPAddress.Any, defaults.BindAddress);
        Assert.Same(TimeProvider.System, defaults.TimeProvider);
    }

    [Fact]
    public void Every_broken_rule_is_reported()
    {
        var bad = new DhtOptions
        {
            Port = 70000,
            RequestTimeout = TimeSpan.Zero,
            RateLimitPerIp = -1,
            RateLimitBurst = 0,
            BindAddress = IPAddress.IPv6Any,
            Bootstrap = [new IPEndPoint(IPAddress.Loopback, 0)],
            Server = new ServerSettings { MaxMutableValues = 0, ItemLifetime = TimeSpan.Zero },
        };
        var failures = DhtOptionsValidator.Failures(bad);
        string[] names = ["Port", "RequestTimeout", "RateLimitPerIp", "RateLimitBurst", "BindAddress", "Bootstrap", "Server.MaxMutableValues", "Server.ItemLifetime"];
        Assert.Equal(names.Length, failures.Count);
        foreach (var name in names)
        {
            Assert.Contains(failures, f => f.StartsWith(name + " ", StringComparison.Ordinal));
        }

        var result = new DhtOptionsValidator().Validate(null, bad);
        Assert.True(result.Failed);
        Assert.Equal(failures, result.Failures);
    }

    [Fact]
    public async Task Create_refuses_invalid_options_listing_every_failure()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => Dht.CreateAsync(new DhtOptions { Port = -1, RateLimitBurst = 0.5 }));
        Assert.Contains("Port", error.Message, StringComparison.Ordinal);
        Assert.Contains("RateLimitBurst", error.Message, StringComparison.Ordinal);
    }
}
