// What the web app tests share: the pkarr CLI as the independent party on the other side of the relay (it writes
// key files, publishes zone files and resolves what the page published), and the page's controls found the way a
// user finds them, by their labels and roles.

using System.Text.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Pkarr.Web.Tests.App;

/// <summary>A record as the CLI's <c>resolve --json</c> prints it, and as the page's records table shows it.</summary>
internal sealed record Row(string Name, string Type, long Ttl, string Data)
{
    public override string ToString() => $"{Name} {Ttl} {Type} {Data}";
}

/// <summary>What <c>pkarr resolve --json</c> found.</summary>
internal sealed record Resolved(long Timestamp, int DnsSize, IReadOnlyList<Row> Records);

internal static class AppDriver
{
    /// <summary>Gives Expect(…) the fixture's patience: the page waits on the relay, and the relay on its testnet.
    /// Each test class calls it in its constructor.</summary>
    public static void UseFixtureTimeout() => SetDefaultExpectTimeout(WebFixture.Timeout);

    /// <inheritdoc cref="WebFixture.TempFolder"/>
    public static string TempFolder() => WebFixture.TempFolder();

    /// <summary><c>pkarr keygen -o FILE</c>: the secret-key file and the public key it printed.</summary>
    public static async Task<(string PublicKey, string SecretFile)> KeygenAsync(string folder)
    {
        string file = Path.Combine(folder, $"secret-{Guid.NewGuid():N}.key");
        var result = await WebFixture.PkarrAsync("keygen", "-o", file);
        Assert.True(result.ExitCode == 0, result.ToString());
        string key = result.Output.Trim();
        Assert.Equal(52, key.Length);
        return (key, file);
    }

    /// <summary><c>pkarr publish</c> of <paramref name="zone"/> through the test relay only.</summary>
    public static async Task PublishAsync(WebFixture web, string folder, string secretFile, string zone)
    {
        string file = Path.Combine(folder, $"zone-{Guid.NewGuid():N}.txt");
        await File.WriteAllTextAsync(file, zone);
        var result = await CliAsync("publish", "--secret", secretFile, "--zone", file, "--relay", web.Url.ToString(), "--no-dht", "--no-cache");
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    /// <summary><c>pkarr resolve --json</c> through the test relay only; null when nobody has published the key.</summary>
    public static async Task<Resolved?> ResolveAsync(WebFixture web, string key)
    {
        var result = await CliAsync("resolve", key, "--json", "--relay", web.Url.ToString(), "--no-dht", "--no-cache");
        if (result.ExitCode == 3)
        {
            return null;
        }

        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.Output);
        var root = json.RootElement;
        var records = root.GetProperty("records").EnumerateArray()
            .Select(r => new Row(r.GetProperty("name").GetString()!, r.GetProperty("type").GetString()!, r.GetProperty("ttl").GetInt64(), r.GetProperty("data").GetString()!))
            .ToList();
        return new Resolved(root.GetProperty("timestamp").GetInt64(), root.GetProperty("dns_size").GetInt32(), records);
    }

    /// <summary>Runs the CLI, again (three runs at most) when it timed out on the relay (exit 2): the client gives a
    /// relay 2 s per request, which a loaded CI machine running the relay's DHT put beside it can exceed. Any other
    /// outcome is the answer.</summary>
    private static async Task<CliResult> CliAsync(params string[] args)
    {
        var result = await WebFixture.PkarrAsync(args);
        for (int attempt = 1; attempt < 3 && result.ExitCode == 2; attempt++)
        {
            result = await WebFixture.PkarrAsync(args);
        }

        return result;
    }

    /// <summary>The rows of the Resolve view's records table, once it shows <paramref name="count"/> of them.</summary>
    public static async Task<List<Row>> TableAsync(WebPage page, int count)
    {
        var rows = page.Page.Locator("#resolve-result tbody tr");
        await Expect(rows).ToHaveCountAsync(count);
        var cells = await page.Page.EvaluateAsync<string[][]>(
            "() => Array.from(document.querySelectorAll('#resolve-result tbody tr'), tr => Array.from(tr.cells, c => c.textContent))");
        return [.. cells.Select(c => new Row(c[0], c[1], long.Parse(c[2], System.Globalization.CultureInfo.InvariantCulture), c[3]))];
    }

    /// <summary>Opens the Publish view and makes a new key there; returns its public key.</summary>
    public static async Task<string> GenerateKeyAsync(WebPage page)
    {
        await page.GotoAsync("/#publish");
        await page.Page.GetByRole(AriaRole.Button, new() { Name = "Generate a new key" }).ClickAsync();
        var shown = page.Page.Locator("#key-public");
        await Expect(shown).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^[ybndrfg8ejkmcpqxot1uwisza345h769]{52}$"));
        await Expect(page.Page.Locator("#records-state")).ToContainTextAsync("Nothing is published");
        return (await shown.TextContentAsync())!;
    }

    /// <summary>Adds a record of <paramref name="type"/> with the Add button; returns its row.</summary>
    public static async Task<ILocator> AddRecordAsync(WebPage page, string type, string name = "@")
    {
        var rows = page.Page.Locator("#records-list > li");
        int before = await rows.CountAsync();
        await page.Page.GetByLabel("New record type").SelectOptionAsync(type);
        await page.Page.GetByRole(AriaRole.Button, new() { Name = "Add record" }).ClickAsync();
        await Expect(rows).ToHaveCountAsync(before + 1);
        var row = rows.Nth(before);
        await row.GetByLabel("Name", new() { Exact = true }).FillAsync(name);
        return row;
    }

    /// <summary>Clicks Sign and publish and waits for the page's verdict; returns its text.</summary>
    public static async Task<string> PublishAsync(WebPage page, bool expectSuccess = true)
    {
        var message = page.Page.Locator("#publish-message");
        await page.Page.GetByRole(AriaRole.Button, new() { Name = "Sign and publish" }).ClickAsync();
        if (expectSuccess)
        {
            await Expect(message).ToHaveClassAsync(new System.Text.RegularExpressions.Regex(@"\bok\b"));
        }
        else
        {
            await Expect(message).ToHaveClassAsync(new System.Text.RegularExpressions.Regex(@"\berror\b"));
        }

        return (await message.InnerTextAsync()).Trim();
    }

    /// <summary>Presses Tab until the focused element matches <paramref name="selector"/>, at most
    /// <paramref name="limit"/> times; fails if it never does.</summary>
    public static async Task TabToAsync(WebPage page, string selector, int limit = 40, bool backwards = false)
    {
        for (int i = 0; i < limit; i++)
        {
            await page.Page.Keyboard.PressAsync(backwards ? "Shift+Tab" : "Tab");
            if (await page.Page.EvaluateAsync<bool>("s => document.activeElement?.matches(s) ?? false", selector))
            {
                return;
            }
        }

        Assert.Fail($"{limit} presses of Tab did not reach {selector}");
    }

    /// <summary>The page's errors, but for the browser's own notes on the statuses a test provokes (by default 404:
    /// nothing published), which the app expects and turns into words.</summary>
    public static IReadOnlyList<string> UnexpectedErrors(WebPage page, params int[] statuses) =>
        [.. page.Errors.Where(e => !(statuses.Length == 0 ? new[] { 404 } : statuses).Any(
            status => e.Contains($"the server responded with a status of {status}", StringComparison.Ordinal)))];
}
