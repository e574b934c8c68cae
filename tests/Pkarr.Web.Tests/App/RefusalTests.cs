// Bad input in the Publish view is explained where it is and publishes nothing: the relay still has nothing for a new
// key, or still the packet published before. The same form publishes once the input is fixed, so the refusal comes
// from the input and not from a broken page.

using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Pkarr.Web.Tests.App;

[Collection(WebCollection.Name)]
public sealed class RefusalTests
{
    private readonly WebFixture _web;

    public RefusalTests(WebFixture web)
    {
        _web = web;
        AppDriver.UseFixtureTimeout();
    }

    [Fact]
    public async Task An_invalid_ip_address_is_marked_and_publishes_nothing_until_fixed()
    {
        await using var page = await _web.NewPageAsync();
        string key = await AppDriver.GenerateKeyAsync(page);
        var row = await AppDriver.AddRecordAsync(page, "A");
        var address = row.GetByLabel("IPv4 address");
        await address.FillAsync("192.0.2.300");

        string verdict = await AppDriver.PublishAsync(page, expectSuccess: false);
        Assert.Contains("Nothing was published", verdict, StringComparison.Ordinal);
        await Expect(address).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(address).ToBeFocusedAsync();
        await Expect(row.Locator(".field-error:visible")).ToHaveCountAsync(1);
        Assert.Null(await AppDriver.ResolveAsync(_web, key));

        await address.FillAsync("192.0.2.30");
        Assert.Contains("Published 1 record", await AppDriver.PublishAsync(page), StringComparison.Ordinal);
        await Expect(address).ToHaveAttributeAsync("aria-invalid", "false");
        var cli = await AppDriver.ResolveAsync(_web, key);
        Assert.NotNull(cli);
        Assert.Equal([new Row("@", "A", 300, "192.0.2.30")], cli.Records);
        Assert.Empty(page.ForeignRequests);
        Assert.Empty(page.Errors);
    }

    [Fact]
    public async Task The_relays_refusals_and_a_forged_answer_are_told_in_words()
    {
        string folder = AppDriver.TempFolder();
        var (key, secret) = await AppDriver.KeygenAsync(folder);
        var (other, otherSecret) = await AppDriver.KeygenAsync(folder);
        await AppDriver.PublishAsync(_web, folder, secret, "@ 300 IN A 192.0.2.1\n");
        await AppDriver.PublishAsync(_web, folder, otherSecret, "@ 300 IN A 192.0.2.66\n");
        using var http = new HttpClient { BaseAddress = _web.Url };
        byte[] othersPayload = await http.GetByteArrayAsync("/" + other);

        // What the relay answers for the key, replaced per step: the answers a rate-limited, cut-off or lying relay gives.
        (int Status, string Body, byte[]? Bytes, Dictionary<string, string> Headers)? answer = null;
        await using var page = await _web.NewPageAsync();
        await page.Page.RouteAsync("**/" + key + "*", async route =>
        {
            if (answer is { } a)
            {
                await route.FulfillAsync(new() { Status = a.Status, Body = a.Bytes is null ? a.Body : null, BodyBytes = a.Bytes, Headers = a.Headers });
            }
            else
            {
                await route.FallbackAsync();
            }
        });
        await page.GotoAsync();
        var input = page.Page.GetByLabel("Public key, pk: URI or URL");
        var message = page.Page.Locator("#resolve-message");
        var rows = page.Page.Locator("#resolve-result tbody tr");

        answer = (429, "Too Many Requests! Wait for 7s", null, new() { ["Retry-After"] = "7" });
        await input.FillAsync(key);
        await input.PressAsync("Enter");
        await Expect(message).ToContainTextAsync("The relay is rate-limiting you, retry in 7 s");
        await Expect(rows).ToHaveCountAsync(0);

        answer = (503, "No DHT nodes were queried", null, new());
        await input.PressAsync("Enter");
        await Expect(message).ToContainTextAsync("cannot reach the DHT right now: No DHT nodes were queried");

        answer = (404, "DHT mutable item at seq 42 is not a valid signed packet", null, new() { ["Pkarr-Invalid-Signed-Packet-Seq"] = "42" });
        await input.PressAsync("Enter");
        await Expect(message).ToContainTextAsync("The DHT holds something for this key (seq 42) that is not a valid signed packet");

        // Another key's genuine packet, served for this key: the page checks the signature and shows nothing.
        answer = (200, string.Empty, othersPayload, new() { ["Content-Type"] = "application/pkarr.org/relays#payload" });
        await input.PressAsync("Enter");
        await Expect(message).ToContainTextAsync("does not verify");
        await Expect(rows).ToHaveCountAsync(0);

        // The good side: the relay's own answer.
        answer = null;
        await input.PressAsync("Enter");
        Assert.Equal([new Row("@", "A", 300, "192.0.2.1")], await AppDriver.TableAsync(page, 1));

        // Publishing into a 409 says why and offers to start over from the newest records.
        await page.Page.GetByRole(AriaRole.Link, new() { Name = "Publish", Exact = true }).ClickAsync();
        await page.Page.GetByLabel("Secret key").FillAsync(await File.ReadAllTextAsync(secret));
        await page.Page.GetByLabel("Secret key").PressAsync("Enter");
        await Expect(page.Page.Locator("#records-state")).ToContainTextAsync("Editing the 1 record");
        await page.Page.Locator("#records-list > li").Nth(0).GetByLabel("IPv4 address").FillAsync("192.0.2.99");
        answer = (409, "packet is not the most recent", null, new());
        string verdict = await AppDriver.PublishAsync(page, expectSuccess: false);
        Assert.Contains("a newer packet is already published for this key", verdict, StringComparison.Ordinal);
        var before = await AppDriver.ResolveAsync(_web, key);
        Assert.NotNull(before);
        Assert.Equal([new Row("@", "A", 300, "192.0.2.1")], before.Records);

        answer = null;
        await page.Page.GetByRole(AriaRole.Button, new() { Name = "Load the newest records" }).ClickAsync();
        await Expect(page.Page.Locator("#records-list > li").Nth(0).GetByLabel("IPv4 address")).ToHaveValueAsync("192.0.2.1");
        await Expect(page.Page.Locator("#publish-message")).ToContainTextAsync("The newest records are loaded");
        await Expect(page.Page.Locator("#records-list > li").Nth(0).GetByLabel("Name", new() { Exact = true })).ToBeFocusedAsync();
        Assert.Empty(page.ForeignRequests);
        Assert.Empty(AppDriver.UnexpectedErrors(page, 404, 409, 429, 503));
    }

    [Fact]
    public async Task Records_over_1000_bytes_are_refused_and_the_published_packet_stays()
    {
        string folder = AppDriver.TempFolder();
        var (key, secret) = await AppDriver.KeygenAsync(folder);
        await AppDriver.PublishAsync(_web, folder, secret, "@ 300 IN A 192.0.2.1\n");
        var before = await AppDriver.ResolveAsync(_web, key);
        Assert.NotNull(before);

        await using var page = await _web.NewPageAsync();
        await page.GotoAsync("/#publish");
        await page.Page.GetByLabel("Secret key").FillAsync(await File.ReadAllTextAsync(secret));
        await page.Page.GetByLabel("Secret key").PressAsync("Enter");
        await Expect(page.Page.Locator("#records-state")).ToContainTextAsync("Editing the 1 record");

        var txt = await AppDriver.AddRecordAsync(page, "TXT", "big");
        await txt.GetByLabel("Text").FillAsync(new string('x', 1100));
        await Expect(page.Page.Locator("#size-text")).ToContainTextAsync("too many");
        await Expect(page.Page.Locator("#size")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex(@"\bover\b"));

        string verdict = await AppDriver.PublishAsync(page, expectSuccess: false);
        Assert.Contains("Nothing was published", verdict, StringComparison.Ordinal);
        Assert.Contains("at most 1,000", verdict, StringComparison.Ordinal);
        var after = await AppDriver.ResolveAsync(_web, key);
        Assert.NotNull(after);
        Assert.Equal(before.Timestamp, after.Timestamp);
        Assert.Equal(before.Records, after.Records);

        // Shortened to fit, the same form publishes, above the old timestamp.
        await txt.GetByLabel("Text").FillAsync(new string('x', 300));
        Assert.Contains("Published 2 records", await AppDriver.PublishAsync(page), StringComparison.Ordinal);
        var fixedUp = await AppDriver.ResolveAsync(_web, key);
        Assert.NotNull(fixedUp);
        Assert.True(fixedUp.Timestamp > before.Timestamp);
        Assert.Equal(2, fixedUp.Records.Count);
        Assert.Empty(page.ForeignRequests);
        Assert.Empty(page.Errors);
    }
}
