// axe-core's WCAG 2.x A and AA rules on the web app's views, light and dark: labels, names, roles, contrast, landmarks.
// A rule that fails names its nodes, so the message says what to fix.

using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;

namespace Pkarr.Web.Tests.Accessibility;

[Collection(WebCollection.Name)]
public sealed class AxeTests(WebFixture web)
{
    [Theory]
    [InlineData("light")]
    [InlineData("dark")]
    public async Task The_page_passes_axe(string scheme)
    {
        await using var page = await web.NewPageAsync(colorScheme: scheme);
        await page.GotoAsync();

        var results = await page.Page.RunAxe(new AxeRunOptions
        {
            RunOnly = new RunOnlyOptions { Type = "tag", Values = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
        });

        Assert.True(results.Violations.Length == 0, Describe(results.Violations));
        Assert.NotEmpty(results.Passes);
    }

    private static string Describe(AxeResultItem[] violations) => string.Join('\n', violations.Select(v =>
        $"{v.Id} ({v.Impact}): {v.Help} — " + string.Join("; ", v.Nodes.Select(n => string.Join(' ', n.Target?.ToString() ?? "?")))));
}
