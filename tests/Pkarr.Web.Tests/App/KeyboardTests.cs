// The main flows by keyboard alone (Tab, typing, Enter), and a name for every control: each input, select and
// textarea of every view and every record type has a label that assistive technology reads (Playwright's GetByLabel
// finds it by that label).

using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Pkarr.Web.Tests.App;

[Collection(WebCollection.Name)]
public sealed class KeyboardTests
{
    private readonly WebFixture _web;

    public KeyboardTests(WebFixture web)
    {
        _web = web;
        AppDriver.UseFixtureTimeout();
    }

    [Fact]
    public async Task Resolve_and_publish_work_from_the_keyboard()
    {
        await using var page = await _web.NewPageAsync();
        await page.GotoAsync();

        // Publish: Tab to the nav link, Enter; the view's heading takes the focus.
        await AppDriver.TabToAsync(page, "nav a[data-view=publish]");
        await page.Page.Keyboard.PressAsync("Enter");
        await Expect(page.Page.Locator("#publish-title")).ToBeFocusedAsync();
        await AppDriver.TabToAsync(page, "#key-generate");
        await page.Page.Keyboard.PressAsync("Enter");
        await Expect(page.Page.Locator("#key-loaded")).ToBeVisibleAsync();
        string key = (await page.Page.Locator("#key-public").TextContentAsync())!;

        // Add record (type A, the default) puts the cursor in the new record's address.
        await AppDriver.TabToAsync(page, "#record-add");
        await page.Page.Keyboard.PressAsync("Enter");
        await Expect(page.Page.GetByLabel("IPv4 address")).ToBeFocusedAsync();
        await page.Page.Keyboard.TypeAsync("192.0.2.44");
        await AppDriver.TabToAsync(page, "#publish-button");
        await page.Page.Keyboard.PressAsync("Enter");
        await Expect(page.Page.Locator("#publish-message")).ToContainTextAsync("Published 1 record");
        var cli = await AppDriver.ResolveAsync(_web, key);
        Assert.NotNull(cli);
        Assert.Equal([new Row("@", "A", 300, "192.0.2.44")], cli.Records);

        // Resolve: back to the nav (Shift+Tab), Enter, Tab to the key field, type, Enter.
        await AppDriver.TabToAsync(page, "nav a[data-view=resolve]", backwards: true);
        await page.Page.Keyboard.PressAsync("Enter");
        await Expect(page.Page.Locator("#resolve-title")).ToBeFocusedAsync();
        await AppDriver.TabToAsync(page, "#resolve-input");
        await page.Page.Keyboard.TypeAsync("pk:" + key);
        await page.Page.Keyboard.PressAsync("Enter");
        Assert.Equal(cli.Records, await AppDriver.TableAsync(page, 1));

        // The refused side: Enter on something that is not a key says so, and the table goes.
        await page.Page.Keyboard.PressAsync("Control+A");
        await page.Page.Keyboard.TypeAsync("pk:nonsense");
        await page.Page.Keyboard.PressAsync("Enter");
        await Expect(page.Page.Locator("#resolve-message")).ToContainTextAsync("not a key", new() { IgnoreCase = true });
        await Expect(page.Page.Locator("#resolve-result tbody tr")).ToHaveCountAsync(0);
        Assert.Empty(page.ForeignRequests);
        Assert.Empty(AppDriver.UnexpectedErrors(page));
    }

    [Fact]
    public async Task Every_control_of_every_view_has_a_label()
    {
        await using var page = await _web.NewPageAsync();
        await AppDriver.GenerateKeyAsync(page);
        foreach (string type in new[] { "A", "AAAA", "CNAME", "TXT", "MX", "NS", "HTTPS", "SVCB" })
        {
            await AppDriver.AddRecordAsync(page, type);
        }

        // Every control in the document (the hidden views too): its accessible name comes from a label element or
        // aria-label(ledby), never from a placeholder alone.
        string[] unlabelled = await page.Page.EvaluateAsync<string[]>("""
            () => Array.from(document.querySelectorAll('input, select, textarea'))
              .filter(c => c.labels.length === 0 && !c.getAttribute('aria-label') && !c.getAttribute('aria-labelledby'))
              .map(c => c.outerHTML)
            """);
        Assert.Empty(unlabelled);
        int controls = await page.Page.Locator("input, select, textarea").CountAsync();
        Assert.True(controls > 30, $"only {controls} controls: the record rows did not render");

        // And by label, as a user of a screen reader asks for them.
        foreach (string label in new[]
        {
            "Secret key", "Or open a key file", "Remember this key in this browser", "New record type", "Name",
            "TTL (seconds)", "IPv4 address", "IPv6 address", "Alias of", "Text", "Preference", "Mail server", "Name server",
            "Priority (0 = alias mode)", "Target (. = this name)", "ALPN protocols", "Port", "IPv4 hints", "IPv6 hints",
            "ECH config list (base64)", "No default ALPN",
        })
        {
            Assert.True(await page.Page.GetByLabel(label, new() { Exact = label == "Name" }).CountAsync() > 0, $"no control labelled '{label}'");
        }

        await page.Page.GetByRole(AriaRole.Link, new() { Name = "Resolve", Exact = true }).ClickAsync();
        await Expect(page.Page.GetByLabel("Public key, pk: URI or URL")).ToBeVisibleAsync();
        await Expect(page.Page.GetByLabel("Where to look")).ToBeVisibleAsync();
        Assert.Equal(0, await page.Page.GetByLabel("Nonexistent control").CountAsync());
        Assert.Empty(page.ForeignRequests);
        Assert.Empty(page.Errors);
    }
}
