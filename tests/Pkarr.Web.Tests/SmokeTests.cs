// The relay serves the built-in web app at / with its Content-Security-Policy, and the page loads in Chromium without
// errors and without reaching outside the relay.

namespace Pkarr.Web.Tests;

[Collection(WebCollection.Name)]
public sealed class SmokeTests(WebFixture web)
{
    [Fact]
    public async Task The_page_loads_from_the_relay_alone()
    {
        await using var page = await web.NewPageAsync();
        await page.GotoAsync();

        Assert.Contains("Pkarr", await page.Page.TitleAsync(), StringComparison.Ordinal);
        Assert.Empty(page.ForeignRequests);
        Assert.Empty(page.Errors);
    }

    [Fact]
    public async Task The_page_is_served_with_a_strict_policy_and_the_status_page_moves()
    {
        using var http = new HttpClient { BaseAddress = web.Url };
        using var index = await http.GetAsync("/");
        Assert.Equal(System.Net.HttpStatusCode.OK, index.StatusCode);
        string policy = string.Join(' ', index.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", policy, StringComparison.Ordinal);

        using var status = await http.GetAsync("/status");
        Assert.Equal(System.Net.HttpStatusCode.OK, status.StatusCode);
        Assert.Contains("Pkarr Relay", await status.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var missing = await http.GetAsync("/js/no-such-module.js");
        Assert.NotEqual(System.Net.HttpStatusCode.OK, missing.StatusCode);
    }
}
