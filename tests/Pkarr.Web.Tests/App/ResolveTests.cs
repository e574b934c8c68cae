// The Resolve view against packets the CLI published: the table shows exactly the records the CLI reads back (names
// relative to the key, zone-file data), by typing a key or by opening the shareable /?resolve= link; bad keys and
// unpublished keys are explained in words and show no table.

using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Pkarr.Web.Tests.App;

[Collection(WebCollection.Name)]
public sealed class ResolveTests
{
    private const string Zone = """
        @ 300 IN A 192.0.2.1
        www 600 IN CNAME example.com.
        @ 300 IN TXT "hello world"
        _svc 300 IN HTTPS 1 . alpn=h2,h3 port=443
        @ 3600 IN MX 10 mail.example.com.
        """;

    private readonly WebFixture _web;

    public ResolveTests(WebFixture web)
    {
        _web = web;
        AppDriver.UseFixtureTimeout();
    }

    [Fact]
    public async Task A_key_typed_as_a_pk_uri_shows_the_records_the_cli_published()
    {
        string folder = AppDriver.TempFolder();
        var (key, secret) = await AppDriver.KeygenAsync(folder);
        await AppDriver.PublishAsync(_web, folder, secret, Zone);
        var cli = await AppDriver.ResolveAsync(_web, key);
        Assert.NotNull(cli);

        await using var page = await _web.NewPageAsync();
        await page.GotoAsync();
        await page.Page.GetByLabel("Public key, pk: URI or URL").FillAsync("pk:" + key);
        await page.Page.GetByRole(AriaRole.Button, new() { Name = "Resolve", Exact = true }).ClickAsync();

        var table = await AppDriver.TableAsync(page, cli.Records.Count);
        Assert.Equal(cli.Records, table);
        var result = page.Page.Locator("#resolve-result");
        await Expect(result).ToContainTextAsync($"{cli.DnsSize} of 1,000 bytes");
        string published = DateTimeOffset.FromUnixTimeMilliseconds(cli.Timestamp / 1000).ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
        await Expect(result).ToContainTextAsync(published + " UTC");
        await Expect(result).ToContainTextAsync(" ago");
        // The relay stored the CLI's packet when it was published: served from its cache, as Pkarr-Source says.
        await Expect(result.Locator(".summary")).ToContainTextAsync("The relay\u2019s cache");

        // Copy as zone file gives what `pkarr publish --zone` reads: published again from it, the records are the same.
        await page.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"]);
        await result.GetByRole(AriaRole.Button, new() { Name = "Copy as zone file" }).ClickAsync();
        await Expect(result.GetByRole(AriaRole.Button, new() { Name = "Copied" })).ToBeVisibleAsync();
        string zone = await page.Page.EvaluateAsync<string>("() => navigator.clipboard.readText()");
        Assert.Equal(string.Concat(cli.Records.Select(r => $"{r.Name} {r.Ttl} IN {r.Type} {r.Data}\n")), zone);
        await AppDriver.PublishAsync(_web, folder, secret, zone);
        var again = await AppDriver.ResolveAsync(_web, key);
        Assert.NotNull(again);
        Assert.True(again.Timestamp > cli.Timestamp);
        Assert.Equal(cli.Records, again.Records);

        // Asked to skip its cache, the relay fetches from the DHT, and the page says so; the records are the same.
        await page.Page.GetByLabel("Where to look").SelectOptionAsync("NetworkOnly");
        await page.Page.GetByRole(AriaRole.Button, new() { Name = "Resolve", Exact = true }).ClickAsync();
        await Expect(result.Locator(".summary")).ToContainTextAsync("The DHT, just now");
        Assert.Equal(cli.Records, await AppDriver.TableAsync(page, cli.Records.Count));
        // The address bar is the shareable link, and the page offers it too.
        Assert.EndsWith("/?resolve=" + key, page.Page.Url, StringComparison.Ordinal);
        await Expect(result.GetByRole(AriaRole.Link, new() { Name = new Uri(_web.Url, "/?resolve=" + key).ToString() })).ToBeVisibleAsync();
        Assert.Empty(page.ForeignRequests);
        Assert.Empty(page.Errors);
    }

    [Fact]
    public async Task Opening_the_shareable_link_shows_the_records_without_a_click()
    {
        string folder = AppDriver.TempFolder();
        var (key, secret) = await AppDriver.KeygenAsync(folder);
        await AppDriver.PublishAsync(_web, folder, secret, Zone);
        var cli = await AppDriver.ResolveAsync(_web, key);
        Assert.NotNull(cli);

        await using var page = await _web.NewPageAsync();
        await page.GotoAsync("/?resolve=" + key);
        Assert.Equal(cli.Records, await AppDriver.TableAsync(page, cli.Records.Count));
        await Expect(page.Page.GetByLabel("Public key, pk: URI or URL")).ToHaveValueAsync(key);

        // A URL whose host is the key is a key too.
        await using var other = await _web.NewPageAsync();
        await other.GotoAsync("/?resolve=" + Uri.EscapeDataString($"https://www.{key}/path?q=1"));
        Assert.Equal(cli.Records, await AppDriver.TableAsync(other, cli.Records.Count));

        // The refused side: a link with something that is not a key shows why, and no records.
        await using var bad = await _web.NewPageAsync();
        await bad.GotoAsync("/?resolve=" + key.ToUpperInvariant());
        await Expect(bad.Page.Locator("#resolve-message")).ToContainTextAsync("not a key", new() { IgnoreCase = true });
        await Expect(bad.Page.Locator("#resolve-result tbody tr")).ToHaveCountAsync(0);
        Assert.Empty(page.ForeignRequests);
        Assert.Empty(page.Errors);
    }

    [Fact]
    public async Task Not_a_key_and_a_key_nobody_published_are_told_in_words()
    {
        string folder = AppDriver.TempFolder();
        var (unpublished, _) = await AppDriver.KeygenAsync(folder);

        await using var page = await _web.NewPageAsync();
        await page.GotoAsync();
        var input = page.Page.GetByLabel("Public key, pk: URI or URL");
        var message = page.Page.Locator("#resolve-message");

        await input.FillAsync("abc");
        await input.PressAsync("Enter");
        await Expect(message).ToContainTextAsync("not a key", new() { IgnoreCase = true });
        await Expect(input).ToHaveAttributeAsync("aria-invalid", "true");
        Assert.DoesNotContain("resolve=", page.Page.Url, StringComparison.Ordinal);

        await input.FillAsync(unpublished);
        await input.PressAsync("Enter");
        await Expect(message).ToContainTextAsync("nobody has published this key", new() { IgnoreCase = true });
        await Expect(page.Page.Locator("#resolve-result tbody tr")).ToHaveCountAsync(0);
        Assert.Null(await AppDriver.ResolveAsync(_web, unpublished));
        Assert.Empty(page.ForeignRequests);
        Assert.Empty(AppDriver.UnexpectedErrors(page));
    }
}
