// What the page promises about keys and the network: it reaches nothing but the relay that served it, logs no errors
// through every view, and the secret key goes into no request. The key leaves memory only as the downloaded file
// (which pkarr reads) or, when the user ticks Remember, into this site's localStorage, and unticking removes it.

using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Pkarr.Web.Tests.App;

[Collection(WebCollection.Name)]
public sealed class SafetyTests
{
    private readonly WebFixture _web;

    public SafetyTests(WebFixture web)
    {
        _web = web;
        AppDriver.UseFixtureTimeout();
    }

    [Fact]
    public async Task Every_view_talks_to_the_relay_alone_without_errors_and_the_secret_goes_nowhere()
    {
        await using var page = await _web.NewPageAsync();
        var requests = new List<(string Method, string Url, byte[] Body)>();
        page.Page.Request += (_, request) =>
        {
            lock (requests)
            {
                requests.Add((request.Method, request.Url, request.PostDataBuffer ?? []));
            }
        };

        string key = await AppDriver.GenerateKeyAsync(page);
        var row = await AppDriver.AddRecordAsync(page, "TXT");
        await row.GetByLabel("Text").FillAsync("safety");
        await AppDriver.PublishAsync(page);

        var download = await page.Page.RunAndWaitForDownloadAsync(
            () => page.Page.GetByRole(AriaRole.Button, new() { Name = "Download key file" }).ClickAsync());
        Assert.Equal($"pkarr-{key[..8]}.key", download.SuggestedFilename);
        string folder = AppDriver.TempFolder();
        string file = Path.Combine(folder, download.SuggestedFilename);
        await download.SaveAsAsync(file);
        string secret = await File.ReadAllTextAsync(file);
        Assert.Matches("^[0-9a-f]{64}$", secret);

        // The downloaded file is a real pkarr key file: the CLI publishes with it for the same key.
        await AppDriver.PublishAsync(_web, folder, file, "@ 300 IN TXT \"from the cli\"\n");
        var cli = await AppDriver.ResolveAsync(_web, key);
        Assert.NotNull(cli);
        Assert.Equal([new Row("@", "TXT", 300, "\"from the cli\"")], cli.Records);

        await page.Page.GetByRole(AriaRole.Link, new() { Name = "Status", Exact = true }).ClickAsync();
        await Expect(page.Page.Locator("#status-result")).ToContainTextAsync("Version");
        await page.Page.GetByRole(AriaRole.Link, new() { Name = "Resolve", Exact = true }).ClickAsync();
        await page.Page.GetByLabel("Public key, pk: URI or URL").FillAsync(key);
        await page.Page.GetByLabel("Public key, pk: URI or URL").PressAsync("Enter");
        Assert.Equal(cli.Records, await AppDriver.TableAsync(page, 1));

        Assert.Empty(page.ForeignRequests);
        Assert.Empty(page.Errors);
        byte[] secretBytes = System.Text.Encoding.ASCII.GetBytes(secret);
        byte[] seed = Convert.FromHexString(secret);
        List<(string Method, string Url, byte[] Body)> seen;
        lock (requests)
        {
            seen = [.. requests];
        }

        Assert.Contains(seen, r => r.Method == "PUT");
        foreach (var (method, url, body) in seen)
        {
            Assert.StartsWith(_web.Url.ToString(), url, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, url, StringComparison.OrdinalIgnoreCase);
            Assert.True(body.AsSpan().IndexOf(secretBytes) < 0 && body.AsSpan().IndexOf(seed) < 0, $"{method} {url} carries the secret key");
            Assert.True(method is "GET" or "PUT", $"{method} {url}");
        }

        // Nothing in storage unless asked; the box stores it, unticking removes it.
        const string Stored = "() => localStorage.getItem('pkarr.secretKey')";
        Assert.Null(await page.Page.EvaluateAsync<string?>(Stored));
        await page.Page.GetByRole(AriaRole.Link, new() { Name = "Publish", Exact = true }).ClickAsync();
        var remember = page.Page.GetByLabel("Remember this key in this browser");
        await Expect(page.Page.Locator("#key-remember-warning")).ToContainTextAsync("anyone who uses this browser profile");
        await remember.CheckAsync();
        Assert.Equal(secret, await page.Page.EvaluateAsync<string?>(Stored));

        // A new page of the same browser profile starts with the remembered key.
        var again = await page.Context.NewPageAsync();
        await again.GotoAsync(new Uri(_web.Url, "/#publish").ToString());
        await Expect(again.Locator("#key-public")).ToHaveTextAsync(key);
        await Expect(again.GetByLabel("Remember this key in this browser")).ToBeCheckedAsync();

        await remember.UncheckAsync();
        Assert.Null(await page.Page.EvaluateAsync<string?>(Stored));
        await page.Page.GetByRole(AriaRole.Button, new() { Name = "Forget this key" }).ClickAsync();
        await Expect(page.Page.Locator("#key-loaded")).ToBeHiddenAsync();
        await Expect(page.Page.GetByRole(AriaRole.Button, new() { Name = "Generate a new key" })).ToBeFocusedAsync();
    }
}
