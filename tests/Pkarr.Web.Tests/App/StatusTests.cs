// The Status view shows /api/status in words: the relay's version and uptime, its store, its DHT node and the request
// rates. Against an older relay's JSON (no request rates, no utilisation) it leaves out what is missing instead of
// printing blanks, and a failing endpoint is told in words.

using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Pkarr.Web.Tests.App;

[Collection(WebCollection.Name)]
public sealed class StatusTests
{
    private readonly WebFixture _web;

    public StatusTests(WebFixture web)
    {
        _web = web;
        AppDriver.UseFixtureTimeout();
    }

    [Fact]
    public async Task The_status_view_shows_the_relays_numbers_and_leaves_out_what_an_older_relay_lacks()
    {
        using var http = new HttpClient { BaseAddress = _web.Url };
        using var status = JsonDocument.Parse(await http.GetStringAsync("/api/status"));
        var root = status.RootElement;

        await using var page = await _web.NewPageAsync();
        await page.GotoAsync("/#status");
        var cards = page.Page.Locator("#status-result");
        await Expect(cards).ToContainTextAsync("Version" + root.GetProperty("version").GetString());
        string capacity = root.GetProperty("store").GetProperty("capacity").GetInt64().ToString("N0", CultureInfo.InvariantCulture);
        await Expect(cards).ToContainTextAsync("Capacity" + capacity);
        var dht = root.GetProperty("dht");
        await Expect(cards).ToContainTextAsync("Routing table" + dht.GetProperty("routing_table_size").GetInt32() + " nodes");
        await Expect(cards).ToContainTextAsync("Firewalled" + (dht.GetProperty("firewalled").GetBoolean() ? "yes" : "no"));
        await Expect(cards).ToContainTextAsync(new System.Text.RegularExpressions.Regex("Network size\u2248 [0-9,]+ nodes"));
        await Expect(cards).ToContainTextAsync("Resolves, total");
        await Expect(cards).ToContainTextAsync("Rate-limited, last 1 min");
        await Expect(cards).ToContainTextAsync("Rate limitsoff");

        // An older relay: no request rates, no utilisation, no port.
        await page.Page.RouteAsync("**/api/status", route => route.FulfillAsync(new()
        {
            Status = 200,
            ContentType = "application/json",
            Body = """{"version":"0.0.9","uptime_seconds":90061,"store":{"packets":250,"capacity":1000},"dht":{"local_port":6881,"public_address":null,"firewalled":true,"server_mode":false,"size_estimate":1200,"size_estimate_stddev":null,"routing_table_size":80}}""",
        }));
        await page.Page.GetByRole(AriaRole.Button, new() { Name = "Refresh" }).ClickAsync();
        await Expect(cards).ToContainTextAsync("Version0.0.9");
        await Expect(cards).ToContainTextAsync("Uptime1 d 1 h");
        await Expect(cards).ToContainTextAsync("Used25.00 %");
        await Expect(cards).ToContainTextAsync("UDP port6881");
        await Expect(cards).ToContainTextAsync("Public addressunknown");
        await Expect(cards).Not.ToContainTextAsync("Requests");
        await Expect(cards).Not.ToContainTextAsync("undefined");
        await Expect(cards).Not.ToContainTextAsync("NaN");

        // A failing endpoint.
        await page.Page.UnrouteAsync("**/api/status");
        await page.Page.RouteAsync("**/api/status", route => route.FulfillAsync(new() { Status = 503, Body = "shutting down" }));
        await page.Page.GetByRole(AriaRole.Button, new() { Name = "Refresh" }).ClickAsync();
        await Expect(page.Page.Locator("#status-message")).ToContainTextAsync("The relay\u2019s status is unavailable: 503");
        await Expect(page.Page.Locator("#status-message")).ToContainTextAsync("shutting down");
        Assert.Empty(page.ForeignRequests);
        Assert.Empty(AppDriver.UnexpectedErrors(page, 503));
    }
}
