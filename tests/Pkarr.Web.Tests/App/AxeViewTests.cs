// axe-core's WCAG 2.1 A/AA rules on every view with its content showing (a records table, the record editor with
// every type and a marked error, the publish verdict, the status cards), light and dark: the front page alone is
// covered by Accessibility/AxeTests.

using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Pkarr.Web.Tests.App;

[Collection(WebCollection.Name)]
public sealed class AxeViewTests
{
    private readonly WebFixture _web;

    public AxeViewTests(WebFixture web)
    {
        _web = web;
        AppDriver.UseFixtureTimeout();
    }

    [Theory]
    [InlineData("light")]
    [InlineData("dark")]
    public async Task Every_view_with_content_passes_axe(string scheme)
    {
        string folder = AppDriver.TempFolder();
        var (key, secret) = await AppDriver.KeygenAsync(folder);
        await AppDriver.PublishAsync(_web, folder, secret, "@ 300 IN A 192.0.2.1\n_s 300 IN HTTPS 1 . alpn=h2\n");

        await using var page = await _web.NewPageAsync(colorScheme: scheme);
        await page.GotoAsync("/?resolve=" + key);
        await AppDriver.TableAsync(page, 2);
        await AssertAxeAsync(page, "resolve");

        await page.Page.GetByRole(AriaRole.Link, new() { Name = "Publish", Exact = true }).ClickAsync();
        await page.Page.GetByLabel("Or open a key file").SetInputFilesAsync(secret);
        await Expect(page.Page.Locator("#records-list > li")).ToHaveCountAsync(2);
        foreach (string type in new[] { "AAAA", "CNAME", "TXT", "MX", "NS", "SVCB" })
        {
            var row = await AppDriver.AddRecordAsync(page, type, "x");
            await row.GetByLabel("TTL (seconds)").FillAsync("60");
        }

        var bad = page.Page.Locator("#records-list > li").Nth(2).GetByLabel("IPv6 address");
        await bad.FillAsync("not an address");
        await AppDriver.PublishAsync(page, expectSuccess: false);
        await Expect(bad).ToHaveAttributeAsync("aria-invalid", "true");
        await AssertAxeAsync(page, "publish with an error");

        for (int i = 2; i < 8; i++)
        {
            await page.Page.Locator("#records-list > li").Nth(2).GetByRole(AriaRole.Button).ClickAsync();
        }

        await Expect(page.Page.Locator("#records-list > li")).ToHaveCountAsync(2);
        await AppDriver.PublishAsync(page);
        await AssertAxeAsync(page, "publish, published");

        await page.Page.GetByRole(AriaRole.Link, new() { Name = "Status", Exact = true }).ClickAsync();
        await Expect(page.Page.Locator("#status-result")).ToContainTextAsync("Routing table");
        await AssertAxeAsync(page, "status");
        Assert.Empty(page.ForeignRequests);
        Assert.Empty(page.Errors);
    }

    private static async Task AssertAxeAsync(WebPage page, string view)
    {
        var results = await page.Page.RunAxe(new AxeRunOptions
        {
            RunOnly = new RunOnlyOptions { Type = "tag", Values = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
        });
        Assert.True(results.Violations.Length == 0, view + ":\n" + string.Join('\n', results.Violations.Select(v =>
            $"{v.Id} ({v.Impact}): {v.Help} — " + string.Join("; ", v.Nodes.Select(n => n.Target?.ToString() ?? "?")))));
        Assert.NotEmpty(results.Passes);
    }
}
