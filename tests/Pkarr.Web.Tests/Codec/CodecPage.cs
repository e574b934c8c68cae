// Runs the web app's core modules (wwwroot/js/{zbase32,keys,ed25519,dns,packet}.js) in Chromium, loaded from the
// relay's origin exactly as the page loads them. Bytes cross the boundary as hex and results come back as JSON
// text, so BigInt timestamps and Uint8Arrays survive the trip in both directions.

using System.Text.Json;

namespace Pkarr.Web.Tests.Codec;

/// <summary>Which Ed25519 implementation the page is made to use.</summary>
public enum CryptoMode
{
    /// <summary>The browser as it is: Chromium signs Ed25519 with WebCrypto.</summary>
    Native,

    /// <summary>crypto.subtle exists but refuses Ed25519 (as older Safari/Firefox do): the noble fallback.</summary>
    NoEd25519,

    /// <summary>No crypto.subtle at all (plain-HTTP origins): the noble fallback with its own SHA-512.</summary>
    NoSubtle,
}

internal sealed class CodecPage : IAsyncDisposable
{
    // Every script gets the five modules and two helpers in scope: hex ↔ bytes, and a JSON reviver for the
    // {"$hex": "…"} values that stand for Uint8Array in record data sent from C#.
    private const string Prelude = """
        const zbase32 = await import('/js/zbase32.js');
        const keys = await import('/js/keys.js');
        const ed25519 = await import('/js/ed25519.js');
        const dns = await import('/js/dns.js');
        const packet = await import('/js/packet.js');
        const hex = (b) => keys.toHex(b);
        const bytes = (h) => keys.fromHex(h);
        const revive = (text) => JSON.parse(text, (k, v) => (v && typeof v === 'object' && typeof v.$hex === 'string' ? bytes(v.$hex) : v));
        """;

    // importKey and generateKey are the only ways to an Ed25519 CryptoKey; refusing them is what a browser without
    // Ed25519 does.
    private const string RefuseEd25519 = """
        (() => {
          const subtle = crypto.subtle;
          const refuse = (method, at) => {
            const original = subtle[method].bind(subtle);
            subtle[method] = (...args) => {
              const algorithm = args[at];
              const name = typeof algorithm === 'string' ? algorithm : algorithm?.name;
              return String(name).toLowerCase() === 'ed25519'
                ? Promise.reject(new DOMException('Unrecognized algorithm name', 'NotSupportedError'))
                : original(...args);
            };
          };
          refuse('importKey', 2);
          refuse('generateKey', 0);
        })();
        """;

    private const string RemoveSubtle = """
        Object.defineProperty(Crypto.prototype, 'subtle', { get: () => undefined, configurable: true });
        """;

    private CodecPage(WebPage page) => Web = page;

    public WebPage Web { get; }

    /// <summary>A fresh page on the relay's origin whose Ed25519 is as <paramref name="mode"/> says.</summary>
    public static async Task<CodecPage> OpenAsync(WebFixture web, CryptoMode mode = CryptoMode.Native)
    {
        var page = await web.NewPageAsync();
        if (mode == CryptoMode.NoEd25519)
        {
            await page.Page.AddInitScriptAsync(RefuseEd25519);
        }
        else if (mode == CryptoMode.NoSubtle)
        {
            await page.Page.AddInitScriptAsync(RemoveSubtle);
        }

        // A static file of the app rather than the app itself: the modules are tested alone, with no UI running.
        await page.GotoAsync("/js/zbase32.js");
        return new CodecPage(page);
    }

    /// <summary>
    /// Runs <paramref name="body"/> (an async function body with the modules in scope and the argument as
    /// <c>arg</c>) and parses the JSON text it returns. Bounded in time: a hang fails the test.
    /// </summary>
    public async Task<JsonElement> RunAsync(string body, object? arg = null)
    {
        string script = $"async (arg) => {{ {Prelude}\n{body}\n }}";
        string json = await Web.Page.EvaluateAsync<string>(script, arg).WaitAsync(TimeSpan.FromSeconds(60));
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    public ValueTask DisposeAsync() => Web.DisposeAsync();
}
