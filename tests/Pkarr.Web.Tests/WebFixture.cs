// What every web app test stands on: `pkarr relay --testnet` as a child process (the web app at its /), and Debian's
// Chromium driven by Playwright: headless, offline, with no browser download. Pages come from NewPageAsync, which
// lets the relay's own origin through and aborts and records every other request, so a test can assert that the
// page reached nothing else.

using System.Diagnostics;
using System.Reflection;
using Microsoft.Playwright;
using Pkarr.Relay.Tests.Processes;

namespace Pkarr.Web.Tests;

[CollectionDefinition(Name)]
public sealed class WebCollection : ICollectionFixture<WebFixture>
{
    public const string Name = "web";
}

public sealed class WebFixture : IAsyncLifetime
{
    /// <summary>The Chromium that scripts/setup.sh installs from Debian.</summary>
    public const string ChromiumPath = "/usr/bin/chromium";

    /// <summary>Playwright's wait for anything a test waits on: selectors, navigation, events.</summary>
    public const float Timeout = 30_000;

    /// <summary>A desktop window and a phone's (portrait, the width of most phones).</summary>
    public static readonly ViewportSize Desktop = new() { Width = 1280, Height = 900 };

    /// <inheritdoc cref="Desktop"/>
    public static readonly ViewportSize Phone = new() { Width = 390, Height = 844 };

    private static readonly Lazy<string> Scratch = new(() => Directory.CreateTempSubdirectory("pkarr-web-tests-").FullName);

    private IPlaywright? _playwright;

    internal RelayProcess Relay { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>The relay's base URL, such as <c>http://127.0.0.1:39411/</c>.</summary>
    public Uri Url => Relay.Url;

    /// <summary>Where screenshots go: .artifacts/screenshots/ in the repository (kept by CI).</summary>
    public static string ScreenshotDirectory { get; } = Path.Combine(
        typeof(WebFixture).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "ArtifactsDirectory").Value!,
        "screenshots");

    public async Task InitializeAsync()
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: run scripts/setup.sh (it installs Debian's chromium)");
        Relay = await RelayProcess.StartAsync("relay", "--testnet", "--http-port", "0", "--log-level", "warning");
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Timeout = Timeout,
            // The machine's network is closed: without these, Chromium's own background requests (updates, sync,
            // Google's hosts) are refused at every start. --no-sandbox because CI runs as root.
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
            ],
        });
    }

    /// <summary>A fresh folder for key and zone files, inside one that the fixture deletes when the tests end: secret
    /// keys are not left behind in the machine's temp folder.</summary>
    public static string TempFolder() => Directory.CreateDirectory(Path.Combine(Scratch.Value, Guid.NewGuid().ToString("N"))).FullName;

    public async Task DisposeAsync()
    {
        if (Scratch.IsValueCreated)
        {
            Directory.Delete(Scratch.Value, recursive: true);
        }

        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
        if (Relay is not null)
        {
            await Relay.DisposeAsync();
        }
    }

    /// <summary>A fresh page in a fresh context (no storage shared with other tests), at <paramref name="viewport"/>
    /// (default <see cref="Desktop"/>), that may reach the relay's origin only.</summary>
    public async Task<WebPage> NewPageAsync(ViewportSize? viewport = null, string? colorScheme = null)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = viewport ?? Desktop,
            ColorScheme = colorScheme == "dark" ? ColorScheme.Dark : ColorScheme.Light,

            // The app's colour transitions run only without this preference: axe measures contrast at one instant, and
            // a link still fading from its hover or current-page colour reads as a contrast failure that is not there.
            ReducedMotion = ReducedMotion.Reduce,
            AcceptDownloads = true,
        });
        context.SetDefaultTimeout(Timeout);
        var page = await context.NewPageAsync();
        var web = new WebPage(this, context, page);
        await context.RouteAsync("**/*", web.RouteAsync);
        return web;
    }

    /// <summary>Runs <c>pkarr <paramref name="args"/></c> (the built CLI, by the host that runs the tests) to its end,
    /// within a minute.</summary>
    public static async Task<CliResult> PkarrAsync(params string[] args)
    {
        var start = RelayProcess.CliStartInfo(args);
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"pkarr {string.Join(' ', args)} did not finish within a minute");
        }

        return new CliResult(process.ExitCode, await output, await errors);
    }
}

/// <summary>What a <c>pkarr</c> run printed, and how it exited.</summary>
public sealed record CliResult(int ExitCode, string Output, string Errors)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Output}\nstderr:\n{Errors}";
}

/// <summary>A page of the web app, with what it tried to reach outside the relay and what it logged as errors.</summary>
public sealed class WebPage : IAsyncDisposable
{
    private readonly WebFixture _fixture;
    private readonly List<string> _foreign = [];
    private readonly List<string> _errors = [];

    internal WebPage(WebFixture fixture, IBrowserContext context, IPage page)
    {
        _fixture = fixture;
        Context = context;
        Page = page;
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                lock (_errors)
                {
                    _errors.Add("console: " + message.Text);
                }
            }
        };
        page.PageError += (_, error) =>
        {
            lock (_errors)
            {
                _errors.Add("uncaught: " + error);
            }
        };
    }

    public IBrowserContext Context { get; }

    public IPage Page { get; }

    /// <summary>Requests to any origin but the relay's, which were aborted.</summary>
    public IReadOnlyList<string> ForeignRequests
    {
        get
        {
            lock (_foreign)
            {
                return [.. _foreign];
            }
        }
    }

    /// <summary>Console errors and uncaught exceptions of the page.</summary>
    public IReadOnlyList<string> Errors
    {
        get
        {
            lock (_errors)
            {
                return [.. _errors];
            }
        }
    }

    /// <summary>Opens <paramref name="pathAndQuery"/> (such as <c>/?resolve=…</c>) on the relay.</summary>
    public async Task GotoAsync(string pathAndQuery = "/")
    {
        var response = await Page.GotoAsync(new Uri(_fixture.Url, pathAndQuery).ToString());
        Assert.NotNull(response);
        Assert.True(response.Ok, $"GET {pathAndQuery}: {response.Status}");
    }

    /// <summary>Saves a full-page screenshot as .artifacts/screenshots/<paramref name="name"/>.png.</summary>
    public async Task ScreenshotAsync(string name)
    {
        Directory.CreateDirectory(WebFixture.ScreenshotDirectory);
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(WebFixture.ScreenshotDirectory, name + ".png"), FullPage = true });
    }

    public async ValueTask DisposeAsync() => await Context.CloseAsync();

    internal async Task RouteAsync(IRoute route)
    {
        var url = new Uri(route.Request.Url);
        if (url.Scheme is "data" or "blob" || (url.Scheme == _fixture.Url.Scheme && url.Authority == _fixture.Url.Authority))
        {
            await route.ContinueAsync();
            return;
        }

        lock (_foreign)
        {
            _foreign.Add(route.Request.Url);
        }

        await route.AbortAsync();
    }
}
