// The Publish view end to end: a key made or imported in the page, records entered in the form, signed in the browser
// and PUT to the relay; the CLI, an independent reader, resolves exactly those records. Editing a published key starts
// from its records and signs above its timestamp, so the second publish replaces the first instead of a 409.

using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Pkarr.Web.Tests.App;

[Collection(WebCollection.Name)]
public sealed class PublishTests
{
    private readonly WebFixture _web;

    public PublishTests(WebFixture web)
    {
        _web = web;
        AppDriver.UseFixtureTimeout();
    }

    [Fact]
    public async Task A_generated_key_publishes_the_form_records_and_an_edit_replaces_them()
    {
        await using var page = await _web.NewPageAsync();
        string key = await AppDriver.GenerateKeyAsync(page);
        string longText = string.Concat(Enumerable.Repeat("pkarr long text ", 25)); // 400 bytes: two TXT strings

        var a = await AppDriver.AddRecordAsync(page, "A");
        await a.GetByLabel("IPv4 address").FillAsync("192.0.2.10");
        var aaaa = await AppDriver.AddRecordAsync(page, "AAAA", "v6");
        await aaaa.GetByLabel("IPv6 address").FillAsync("2001:db8::1");
        var cname = await AppDriver.AddRecordAsync(page, "CNAME", "www");
        await cname.GetByLabel("Alias of").FillAsync("example.com");
        var txt = await AppDriver.AddRecordAsync(page, "TXT", "long");
        await txt.GetByLabel("Text").FillAsync(longText);
        var mx = await AppDriver.AddRecordAsync(page, "MX");
        await mx.GetByLabel("Mail server").FillAsync("mail.example.com");
        var ns = await AppDriver.AddRecordAsync(page, "NS", "sub");
        await ns.GetByLabel("Name server").FillAsync("ns1.example.com");
        var https = await AppDriver.AddRecordAsync(page, "HTTPS", "_svc");
        await https.GetByLabel("TTL (seconds)").FillAsync("600");
        await https.GetByLabel("ALPN protocols").FillAsync("h2, h3");
        await https.GetByLabel("Port").FillAsync("8443");
        await https.GetByLabel("IPv4 hints").FillAsync("192.0.2.10");
        await Expect(page.Page.Locator("#size-text")).ToContainTextAsync("of 1,000 bytes");

        string verdict = await AppDriver.PublishAsync(page);
        Assert.Contains("Published 7 records", verdict, StringComparison.Ordinal);
        Assert.Matches(@"The relay stored it on [1-9][0-9]* DHT nodes?\.", verdict);

        var first = await AppDriver.ResolveAsync(_web, key);
        Assert.NotNull(first);
        Assert.Equal(first.DnsSize.ToString(System.Globalization.CultureInfo.InvariantCulture), (await page.Page.Locator("#size-meter").GetAttributeAsync("value"))!);
        var expected = new List<Row>
        {
            new("@", "A", 300, "192.0.2.10"),
            new("v6", "AAAA", 300, "2001:db8::1"),
            new("www", "CNAME", 300, "example.com."),
            new("long", "TXT", 300, first.Records[3].Data),
            new("@", "MX", 300, "10 mail.example.com."),
            new("sub", "NS", 300, "ns1.example.com."),
            new("_svc", "HTTPS", 600, "1 . alpn=\"h2,h3\" port=8443 ipv4hint=192.0.2.10"),
        };
        Assert.Equal(expected, first.Records);
        Assert.Equal(longText, TxtText(first.Records[3].Data));

        // Edit in the same page and publish again: newer timestamp, the edit and the untouched records.
        await a.GetByLabel("IPv4 address").FillAsync("192.0.2.11");
        Assert.Contains("Published 7 records", await AppDriver.PublishAsync(page), StringComparison.Ordinal);
        var second = await AppDriver.ResolveAsync(_web, key);
        Assert.NotNull(second);
        Assert.True(second.Timestamp > first.Timestamp, $"{second.Timestamp} is not newer than {first.Timestamp}");
        Assert.Equal([expected[0] with { Data = "192.0.2.11" }, .. expected.Skip(1)], second.Records);

        // The result links to the Resolve view, which shows the new packet without losing the key in memory.
        await page.Page.Locator("#publish-message a[data-resolve]").ClickAsync();
        Assert.Equal(second.Records, await AppDriver.TableAsync(page, 7));
        await page.Page.GetByRole(AriaRole.Link, new() { Name = "Publish", Exact = true }).ClickAsync();
        await Expect(page.Page.Locator("#key-public")).ToHaveTextAsync(key);
        Assert.Empty(page.ForeignRequests);
        Assert.Empty(page.Errors);
    }

    [Fact]
    public async Task A_key_file_from_pkarr_keygen_opens_with_its_published_records_and_an_edit_is_newer()
    {
        string folder = AppDriver.TempFolder();
        var (key, secret) = await AppDriver.KeygenAsync(folder);
        await AppDriver.PublishAsync(_web, folder, secret, """
            @ 300 IN A 192.0.2.1
            @ 300 IN TXT "first"
            _x 120 IN SVCB 1 . alpn=h2 mandatory=alpn
            _sip._tcp 300 IN SRV 10 5 5060 sip.example.com.
            @ 300 IN CAA 0 issue "letsencrypt.org"
            """);
        var before = await AppDriver.ResolveAsync(_web, key);
        Assert.NotNull(before);

        await using var page = await _web.NewPageAsync();
        await page.GotoAsync("/#publish");
        await page.Page.GetByLabel("Or open a key file").SetInputFilesAsync(secret);
        await Expect(page.Page.Locator("#key-public")).ToHaveTextAsync(key);
        await Expect(page.Page.Locator("#records-state")).ToContainTextAsync("Editing the 5 records");
        var rows = page.Page.Locator("#records-list > li");
        await Expect(rows).ToHaveCountAsync(5);
        await Expect(rows.Nth(0).GetByLabel("IPv4 address")).ToHaveValueAsync("192.0.2.1");
        await Expect(rows.Nth(1).GetByLabel("Text")).ToHaveValueAsync("first");
        await Expect(rows.Nth(2).GetByLabel("ALPN protocols")).ToHaveValueAsync("h2");
        await Expect(rows.Nth(2)).ToContainTextAsync("Also kept as published: mandatory");
        // Types without a form (SRV, CAA) are kept exactly as published.
        await Expect(rows.Nth(3)).ToContainTextAsync("published as it is: 10 5 5060 sip.example.com.");
        await Expect(rows.Nth(4)).ToContainTextAsync("published as it is: 0 issue \"letsencrypt.org\"");

        await rows.Nth(1).GetByLabel("Text").FillAsync("second");
        Assert.Contains("Published 5 records", await AppDriver.PublishAsync(page), StringComparison.Ordinal);

        var after = await AppDriver.ResolveAsync(_web, key);
        Assert.NotNull(after);
        Assert.True(after.Timestamp > before.Timestamp);
        Assert.Equal([before.Records[0], before.Records[1] with { Data = "\"second\"" }, .. before.Records.Skip(2)], after.Records);
        Assert.Empty(page.ForeignRequests);
        Assert.Empty(page.Errors);
    }

    [Fact]
    public async Task A_pasted_secret_publishes_for_its_key_and_a_malformed_one_is_refused()
    {
        string folder = AppDriver.TempFolder();
        var (key, secret) = await AppDriver.KeygenAsync(folder);

        await using var page = await _web.NewPageAsync();
        await page.GotoAsync("/#publish");
        var field = page.Page.GetByLabel("Secret key");
        var use = page.Page.GetByRole(AriaRole.Button, new() { Name = "Use this key" });

        await field.FillAsync("00112233 not hex");
        await use.ClickAsync();
        await Expect(page.Page.Locator("#key-message")).ToContainTextAsync("not a secret key");
        await Expect(page.Page.Locator("#key-loaded")).ToBeHiddenAsync();

        // As `pkarr keygen` wrote it, with the newline an editor adds when the text is copied.
        await field.FillAsync(await File.ReadAllTextAsync(secret) + "\n");
        await use.ClickAsync();
        await Expect(page.Page.Locator("#key-public")).ToHaveTextAsync(key);
        await Expect(page.Page.Locator("#records-state")).ToContainTextAsync("Nothing is published");
        await Expect(field).ToHaveValueAsync(string.Empty);

        var row = await AppDriver.AddRecordAsync(page, "A", "home");
        await row.GetByLabel("IPv4 address").FillAsync("198.51.100.7");
        Assert.Contains("Published 1 record", await AppDriver.PublishAsync(page), StringComparison.Ordinal);
        var cli = await AppDriver.ResolveAsync(_web, key);
        Assert.NotNull(cli);
        Assert.Equal([new Row("home", "A", 300, "198.51.100.7")], cli.Records);
        Assert.Empty(page.ForeignRequests);
        Assert.Empty(AppDriver.UnexpectedErrors(page));
    }

    /// <summary>The text of a TXT record's zone-file data: its quoted strings joined.</summary>
    internal static string TxtText(string data) =>
        string.Concat(System.Text.RegularExpressions.Regex.Matches(data, "\"((?:[^\"\\\\]|\\\\.)*)\"").Select(m => m.Groups[1].Value));
}
