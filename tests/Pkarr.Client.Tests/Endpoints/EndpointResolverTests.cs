using System.Net;
using Pkarr.Client.Endpoints;
using Pkarr.Dns;
using Pkarr.Keys;

namespace Pkarr.Client.Tests.Endpoints;

public sealed class EndpointResolverTests
{
    private static readonly IPAddress Home = IPAddress.Parse("192.0.2.1");

    private static SvcbData Https(ushort priority, string target) =>
        SvcbData.Https(priority, target == "." ? DnsName.Root : DnsName.Parse(target));

    /// <summary>A key whose apex has <c>HTTPS 1 .</c> and an A record <paramref name="address"/>.</summary>
    private static PublicKey Host(FakeNetwork network, string address = "192.0.2.1") =>
        network.Add(b => b.Https("@", Https(1, ".")).A("@", IPAddress.Parse(address)));

    /// <summary>A chain of <paramref name="packets"/> packets: each apex aliases the next key, the last is a host.</summary>
    private static PublicKey Chain(FakeNetwork network, int packets)
    {
        var next = Host(network);
        for (int i = 1; i < packets; i++)
        {
            string target = next.ToZ32();
            next = network.Add(b => b.Https("@", Https(1, target)));
        }

        return next;
    }

    public static TheoryData<string> QnameForms() =>
        ["{0}", "{0}.", "pk:{0}", "https://{0}", "https://{0}/path?q=1#f", "http://{0}:8080/", "https://user@{0}/"];

    [Theory]
    [MemberData(nameof(QnameForms))]
    public async Task QnameIsABareKeyAPkUriOrAUrl(string form)
    {
        var network = new FakeNetwork();
        var key = Host(network);

        var endpoint = Assert.Single(await network.AllAsync(string.Format(form, key.ToZ32())));

        Assert.Equal(key, endpoint.PublicKey);
        Assert.Equal([Home], endpoint.Addresses);
    }

    [Theory]
    [InlineData("sub.{0}")]
    [InlineData("https://sub.{0}/path")]
    [InlineData("{1}.sub.{0}")]
    public async Task SubdomainQnameReadsRecordsAtThatName(string form)
    {
        var network = new FakeNetwork();
        var other = FakeNetwork.NewKey(out var otherKeypair);
        otherKeypair.Dispose();
        var key = network.Add(b => b
            .Https("@", Https(1, "apex.example"))
            .Https("sub", Https(1, "sub.example"))
            .Https($"{other}.sub", Https(1, "deep.example")));

        var endpoints = await network.AllAsync(string.Format(form, key, other));

        string expected = form.StartsWith("{1}", StringComparison.Ordinal) ? "deep.example" : "sub.example";
        Assert.Equal([expected], endpoints.Select(e => e.Domain));
    }

    [Theory]
    [InlineData("example.com")]
    [InlineData("https://example.com/")]
    [InlineData("")]
    [InlineData("pk:")]
    [InlineData("https://")]
    public async Task NameWithoutAKeyGivesNothingAndResolvesNothing(string qname)
    {
        var network = new FakeNetwork();

        Assert.Empty(await network.AllAsync(qname));
        Assert.Empty(network.Calls);
    }

    [Fact]
    public async Task UnresolvableQnameGivesNothing()
    {
        var network = new FakeNetwork();
        var key = FakeNetwork.NewKey(out var keypair);
        keypair.Dispose();

        Assert.Empty(await network.AllAsync(key.ToZ32()));
        Assert.Equal([key], network.Calls);
    }

    [Fact]
    public async Task AliasesAreFollowedThroughKeysAndSubdomainsOfKeys()
    {
        var network = new FakeNetwork();
        var c = network.Add(b => b
            .Https("api", Https(1, "."))
            .Https("@", Https(1, "wrong.example"))
            .A("@", IPAddress.Parse("192.0.2.3")));
        string apiOfC = $"api.{c}";
        var b = network.Add(b => b.Https("@", Https(1, apiOfC)));
        string bKey = b.ToZ32();
        var a = network.Add(b => b.Https("@", Https(0, bKey)));

        var endpoint = Assert.Single(await network.AllAsync(a.ToZ32()));

        Assert.Equal(c, endpoint.PublicKey);
        Assert.Equal(".", endpoint.Target);
        Assert.Equal([IPAddress.Parse("192.0.2.3")], endpoint.Addresses);
        Assert.Equal([a, b, c], network.Calls);
    }

    [Fact]
    public async Task IcannTargetBehindAnAliasIsYielded()
    {
        var network = new FakeNetwork();
        var b = network.Add(b => b.Https("@", Https(1, "origin.example").WithPort(8443)));
        string bKey = b.ToZ32();
        var a = network.Add(b => b.Https("@", Https(1, bKey).WithPort(9999)));

        var endpoint = Assert.Single(await network.AllAsync(a.ToZ32()));

        Assert.Equal("origin.example", endpoint.Domain);
        Assert.Equal(b, endpoint.PublicKey);
        Assert.Equal(8443, endpoint.Port);
    }

    [Fact]
    public async Task PortIsNotInheritedFromTheAlias()
    {
        var network = new FakeNetwork();
        var host = Host(network);
        string hostKey = host.ToZ32();
        var a = network.Add(b => b.Https("@", Https(1, hostKey).WithPort(9999)));

        var endpoint = Assert.Single(await network.AllAsync(a.ToZ32()));

        Assert.Null(endpoint.Port);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    public async Task ChainOfExactlyTheDepthLimitWorksAndOneMoreDoesNot(int maxDepth)
    {
        var network = new FakeNetwork();
        var fits = Chain(network, maxDepth);
        var tooLong = Chain(network, maxDepth + 1);

        Assert.Single(await network.AllAsync(fits.ToZ32(), maxRecursionDepth: maxDepth));
        Assert.Equal(maxDepth, network.Calls.Count);

        network.Calls.Clear();
        Assert.Empty(await network.AllAsync(tooLong.ToZ32(), maxRecursionDepth: maxDepth));
        Assert.Equal(maxDepth, network.Calls.Count);
    }

    [Fact]
    public async Task DefaultDepthIsSeven()
    {
        var network = new FakeNetwork();

        Assert.Single(await network.AllAsync(Chain(network, 7).ToZ32()));
        Assert.Empty(await network.AllAsync(Chain(network, 8).ToZ32()));
    }

    [Fact]
    public async Task DepthIsPerChainSoAFallbackAfterADeepChainStillWorks()
    {
        // The reference counts every packet the stream resolved: after a 6-packet chain failed, its fallback
        // would be refused. Here the fallback is 2 packets deep and works.
        var network = new FakeNetwork();
        var deadEnd = Chain(network, 6);
        var fallback = Host(network, "192.0.2.9");
        string deadEndKey = deadEnd.ToZ32(), fallbackKey = fallback.ToZ32();
        network.Calls.Clear();
        var a = network.Add(b => b.Https("@", Https(1, deadEndKey)).Https("@", Https(2, fallbackKey)));

        var endpoints = await network.AllAsync(a.ToZ32(), maxRecursionDepth: 6);

        Assert.Equal([IPAddress.Parse("192.0.2.9")], Assert.Single(endpoints).Addresses);
        Assert.Equal(1 + 5 + 1, network.Calls.Count);
    }

    [Fact]
    public async Task CycleEndsAndTheOtherRecordsAreStillYielded()
    {
        var network = new FakeNetwork();
        var b = FakeNetwork.NewKey(out var bKeypair);
        using (bKeypair)
        {
            string bKey = b.ToZ32();
            var a = network.Add(r => r.Https("@", Https(1, bKey)).Https("@", Https(2, ".")).A("@", IPAddress.Parse("192.0.2.10")));
            string aKey = a.ToZ32();
            network.Publish(bKeypair, r => r
                .Https("@", Https(1, aKey))
                .Https("@", Https(1, $"x.{aKey}"))
                .Https("@", Https(2, "."))
                .A("@", IPAddress.Parse("192.0.2.11")));

            var endpoints = await network.AllAsync(a.ToZ32(), maxRecursionDepth: 100);

            // x.<a> has no records, <a> was already expanded: B's own endpoint, then A's, each once.
            Assert.Equal([b, a], endpoints.Select(e => e.PublicKey));
            Assert.Equal([a, b], network.Calls);
        }
    }

    [Fact]
    public async Task DiamondYieldsTheSharedEndpointOnce()
    {
        var network = new FakeNetwork();
        string d = Host(network).ToZ32();
        string b = network.Add(r => r.Https("@", Https(1, d))).ToZ32();
        string c = network.Add(r => r.Https("@", Https(1, d))).ToZ32();
        var a = network.Add(r => r.Https("@", Https(1, b)).Https("@", Https(2, c)));

        var endpoint = Assert.Single(await network.AllAsync(a.ToZ32()));

        Assert.Equal(d, endpoint.PublicKey.ToZ32());
        Assert.Equal(4, network.Calls.Count);
    }

    [Fact]
    public async Task EachKeyIsResolvedOncePerStream()
    {
        var network = new FakeNetwork();
        string b = network.Add(r => r
            .Https("one", Https(1, "one.example"))
            .Https("two", Https(1, "two.example"))).ToZ32();
        var a = network.Add(r => r.Https("@", Https(1, $"one.{b}")).Https("@", Https(2, $"two.{b}")));

        var endpoints = await network.AllAsync(a.ToZ32());

        Assert.Equal(["one.example", "two.example"], endpoints.Select(e => e.Domain));
        Assert.Equal(2, network.Calls.Count);
    }

    [Fact]
    public async Task FanOutIsBoundedByTheStreamKeyBudget()
    {
        // maxRecursionDepth 2 allows 2 × 4 = 8 keys: the queried one and 7 of the 9 aliases.
        var network = new FakeNetwork();
        var targets = Enumerable.Range(0, 9).Select(i => Host(network, $"192.0.2.{20 + i}").ToZ32()).ToList();
        var a = network.Add(r =>
        {
            foreach (string t in targets)
            {
                r = r.Https("@", Https(1, t));
            }

            return r;
        });

        var endpoints = await network.AllAsync(a.ToZ32(), maxRecursionDepth: 2);

        Assert.Equal(EndpointResolver.KeysPerDepth * 2, network.Calls.Count);
        Assert.Equal(EndpointResolver.KeysPerDepth * 2 - 1, endpoints.Count);
        Assert.Equal(endpoints.Count, endpoints.Select(e => e.PublicKey).Distinct().Count());
    }

    [Fact]
    public async Task FailedAliasTriesTheNextRecord()
    {
        var network = new FakeNetwork();
        var missing = FakeNetwork.NewKey(out var keypair);
        keypair.Dispose();
        string missingKey = missing.ToZ32();
        string host = Host(network).ToZ32();
        var a = network.Add(r => r
            .Https("@", Https(1, missingKey))
            .Https("@", Https(2, host))
            .Https("@", Https(3, "fallback.example")));

        var endpoints = await network.AllAsync(a.ToZ32());

        Assert.Equal([host, a.ToZ32()], endpoints.Select(e => e.PublicKey.ToZ32()));
        Assert.Equal([".", "fallback.example"], endpoints.Select(e => e.Target));
        Assert.Contains(missing, network.Calls);
    }

    [Fact]
    public async Task LowerPriorityAlwaysComesFirstAndEqualPrioritiesAreShuffled()
    {
        var network = new FakeNetwork();
        var key = network.Add(r => r
            .Https("@", Https(3, "last.example"))
            .Https("@", Https(2, "b.example"))
            .Https("@", Https(1, "first.example"))
            .Https("@", Https(2, "a.example")));
        var resolver = new EndpointResolver(network.Resolve, 7, new Random(12345));
        var orders = new HashSet<string>();

        for (int run = 0; run < 64 && orders.Count < 2; run++)
        {
            var domains = new List<string?>();
            await foreach (var e in resolver.ResolveAsync(key.ToZ32(), https: true, CancellationToken.None))
            {
                domains.Add(e.Domain);
            }

            Assert.Equal(4, domains.Count);
            Assert.Equal("first.example", domains[0]);
            Assert.Equal("last.example", domains[3]);
            Assert.Equal(["a.example", "b.example"], domains[1..3].Order());
            orders.Add(string.Join(",", domains));
        }

        Assert.Equal(2, orders.Count);
    }

    [Fact]
    public async Task WildcardQueryMatchesExactlyOneLabel()
    {
        var network = new FakeNetwork();
        var key = network.Add(r => r
            .Https("a", Https(1, "a.example"))
            .Https("b", Https(1, "b.example"))
            .Https("x.a", Https(1, "too-deep.example"))
            .Https("@", Https(1, "apex.example")));

        var endpoints = await network.AllAsync($"*.{key}");

        Assert.Equal(["a.example", "b.example"], endpoints.Select(e => e.Domain).Order());
    }

    [Fact]
    public async Task StoredWildcardIsNotExpanded()
    {
        var network = new FakeNetwork();
        var key = network.Add(r => r.Https("*", Https(1, "star.example")));

        Assert.Empty(await network.AllAsync($"www.{key}"));
        Assert.Equal(["star.example"], (await network.AllAsync($"*.{key}")).Select(e => e.Domain));
    }

    [Fact]
    public async Task WildcardAliasTargetIsExpandedAsAQuery()
    {
        var network = new FakeNetwork();
        string b = network.Add(r => r.Https("one", Https(1, "one.example")).Https("two", Https(2, "two.example"))).ToZ32();
        var a = network.Add(r => r.Https("@", Https(1, $"*.{b}")));

        var endpoints = await network.AllAsync(a.ToZ32());

        Assert.Equal(["one.example", "two.example"], endpoints.Select(e => e.Domain));
    }

    [Theory]
    [InlineData("foo", "_foo.{0}", false)]
    [InlineData("FOO", "_foo.{0}", false)]
    [InlineData("svc+tcp-1", "_svc+tcp-1.{0}", false)]
    [InlineData("https", "{0}", true)]
    [InlineData("HTTP", "{0}", true)]
    public void ServiceNameFollowsTheSchemeRule(string scheme, string expected, bool https)
    {
        const string Key = "o4dksfbqk85ogzdb5osziw6befigbuxmuxkuxq8434q89uj56uyy";

        Assert.Equal(string.Format(expected, Key), EndpointResolver.ServiceName($"{scheme}://{Key}/x", scheme, out bool isHttps));
        Assert.Equal(https, isHttps);
        Assert.Equal(string.Format(expected, "sub." + Key), EndpointResolver.ServiceName($"sub.{Key}.", scheme, out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData("f.o")]
    [InlineData("1foo")]
    [InlineData("_foo")]
    [InlineData("fo o")]
    public void ServiceNameRefusesWhatIsNotAScheme(string scheme) =>
        Assert.Throws<ArgumentException>(() => EndpointResolver.ServiceName("example.com", scheme, out _));

    [Fact]
    public async Task OtherSchemeReadsSvcbRecordsAtItsUnderscoreName()
    {
        var network = new FakeNetwork();
        var key = network.Add(r => r
            .Svcb("_foo", SvcbData.Svcb(1, DnsName.Root).WithPort(9000))
            .Svcb("@", SvcbData.Svcb(1, DnsName.Parse("apex-svcb.example")))
            .Https("_foo", SvcbData.Https(1, DnsName.Parse("https-at-foo.example")))
            .Https("@", SvcbData.Https(1, DnsName.Parse("https.example")))
            .A("@", Home));

        string name = EndpointResolver.ServiceName($"foo://{key}", "foo", out bool https)!;
        var endpoint = Assert.Single(await network.AllAsync(name, https));
        var web = Assert.Single(await network.AllAsync(EndpointResolver.ServiceName($"http://{key}", "http", out bool isHttps)!, isHttps));

        Assert.Equal(".", endpoint.Target);
        Assert.Equal(9000, endpoint.Port);
        Assert.Equal([Home], endpoint.Addresses);
        Assert.Equal("https.example", web.Domain);
    }

    [Fact]
    public async Task CancellationStopsTheStream()
    {
        var network = new FakeNetwork();
        var key = Host(network);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var unused in network.Resolver().ResolveAsync(key.ToZ32(), true, cancelled.Token))
            {
            }
        });
    }

    [Fact]
    public void DepthBelowOneIsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new EndpointResolver(new FakeNetwork().Resolve, 0, new Random(1)));
}
