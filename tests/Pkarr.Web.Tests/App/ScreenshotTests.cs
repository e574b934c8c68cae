// Screenshots of each view at desktop and phone width, and one in the dark colour scheme, for CI's artifacts and
// docs/web.md. Each is taken once the view shows real content, and the phone layouts are checked not to scroll
// sideways (the page fits 390 px).

using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Pkarr.Web.Tests.App;

[Collection(WebCollection.Name)]
public sealed class ScreenshotTests
{
    private const string Zone = """
        @ 3600 IN A 192.0.2.1
        @ 3600 IN AAAA 2001:db8::1
        www 3600 IN CNAME example.com.
        @ 3600 IN TXT "v=spf1 -all"
        _443._tcp 3600 IN HTTPS 1 . alpn=h2,h3 port=443 ipv4hint=192.0.2.1
        @ 3600 IN MX 10 mail.example.com.
        """;

    private readonly WebFixture _web;

    public ScreenshotTests(WebFixture web)
    {
        _web = web;
        AppDriver.UseFixtureTimeout();
    }

    [Theory]
    [InlineData("desktop", null)]
    [InlineData("phone", null)]
    [InlineData("desktop", "dark")]
    public async Task Each_view_is_captured_and_fits_the_width(string size, string? scheme)
    {
        string folder = AppDriver.TempFolder();
        var (key, secret) = await AppDriver.KeygenAsync(folder);
        await AppDriver.PublishAsync(_web, folder, secret, Zone);
        var viewport = size == "phone" ? WebFixture.Phone : WebFixture.Desktop;
        string suffix = size + (scheme is null ? string.Empty : "-" + scheme);

        await using var page = await _web.NewPageAsync(viewport, scheme);
        await page.GotoAsync("/?resolve=" + key);
        await AppDriver.TableAsync(page, 6);
        await FitsAsync(page, viewport);
        await page.ScreenshotAsync("resolve-" + suffix);

        await page.Page.GetByRole(AriaRole.Link, new() { Name = "Publish", Exact = true }).ClickAsync();
        await page.Page.GetByLabel("Or open a key file").SetInputFilesAsync(secret);
        await Expect(page.Page.Locator("#records-list > li")).ToHaveCountAsync(6);
        var address = page.Page.Locator("#records-list > li").Nth(0).GetByLabel("IPv4 address");
        await address.FillAsync("192.0.2.300");
        await address.BlurAsync();
        await Expect(page.Page.Locator("#records-list .field-error:visible")).ToHaveCountAsync(1);
        await address.FillAsync("192.0.2.2");
        Assert.Contains("Published 6 records", await AppDriver.PublishAsync(page), StringComparison.Ordinal);
        await FitsAsync(page, viewport);
        await page.ScreenshotAsync("publish-" + suffix);

        await page.Page.GetByRole(AriaRole.Link, new() { Name = "Status", Exact = true }).ClickAsync();
        await Expect(page.Page.Locator("#status-result")).ToContainTextAsync("Routing table");
        await FitsAsync(page, viewport);
        await page.ScreenshotAsync("status-" + suffix);
        Assert.Empty(page.ForeignRequests);
        Assert.Empty(page.Errors);
    }

    /// <summary>Nothing on the page is wider than the window: no sideways scrolling on a phone.</summary>
    private static async Task FitsAsync(WebPage page, ViewportSize viewport)
    {
        int width = await page.Page.EvaluateAsync<int>("() => document.documentElement.scrollWidth");
        Assert.True(width <= viewport.Width, $"the page is {width} px wide in a {viewport.Width} px window");
    }
}
