// The relay's own page (shared spec pkarr.md §6.9): a small black monospace page that says what the server is and
// shows three blocks, Versioning, Cache stats and Dht Info. No script and no form; every value is HTML-encoded, and a
// Content-Security-Policy forbids anything but the page's own inline style. Served at / unless a web app folder is
// configured, then at /status.

using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Unicode;
using Microsoft.AspNetCore.Http;

namespace Pkarr.Relay.Http;

internal static class StatusPage
{
    /// <summary>No script, no form, no request to anyone: only the inline style may apply.</summary>
    internal const string ContentSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /// <summary>Counts from here up are abbreviated (12.3K); below they are written out with separators (9,999).</summary>
    private const long AbbreviateFrom = 10_000;

    /// <summary>Encodes what HTML needs (&lt;, &amp;, quotes…) and leaves other characters as they are: the page is UTF-8.</summary>
    private static readonly HtmlEncoder Encoder = HtmlEncoder.Create(UnicodeRanges.All);

    private const string Style =
        "body{background:#000;color:#ddd;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,\"Liberation Mono\",monospace;"
        + "margin:2em auto;max-width:44em;padding:0 1em;line-height:1.5}"
        + "a{color:#7cf}h1{font-size:1.4em}h2{font-size:1em;margin:0 0 .4em}"
        + "section{border:1px solid #444;padding:.6em 1em;margin:1em 0}"
        + "dl{display:grid;grid-template-columns:max-content auto;gap:.1em 1.5em;margin:0}dd{margin:0}";

    public static async Task WriteAsync(HttpContext http, RelayContext relay)
    {
        var status = await RelayStatus.CollectAsync(relay, http.RequestAborted).ConfigureAwait(false);
        byte[] html = Encoding.UTF8.GetBytes(Render(status));
        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/html; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.ContentLength = html.Length;
        if (!HttpMethods.IsHead(http.Request.Method))
        {
            await response.Body.WriteAsync(html, http.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary>The page for <paramref name="status"/>.</summary>
    internal static string Render(RelayStatus status)
    {
        var html = new StringBuilder(2048);
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append("<title>Pkarr Relay</title>\n<style>").Append(Style).Append("</style>\n</head>\n<body>\n")
            .Append("<h1>Pkarr Relay</h1>\n")
            .Append("<p>This server is a <a href=\"https://github.com/pubky/pkarr\">Pkarr</a> relay: an HTTP front for the ")
            .Append("Mainline DHT, for clients that cannot use UDP (see the ")
            .Append("<a href=\"https://github.com/pubky/pkarr/blob/main/design/relays.md\">relay design note</a>). ")
            .Append("<code>GET /&lt;public key&gt;</code> resolves a key's signed packet, <code>PUT</code> publishes one.</p>\n");

        Block(html, "Versioning", [("Version", status.Version), ("Uptime", Duration(status.UptimeSeconds))]);

        var store = status.Store;
        Block(html, "Cache stats",
        [
            ("Packets", Count(store.Packets)),
            ("Capacity", Count(store.Capacity)),
            ("Utilisation", store.Utilisation.ToString("0.00", CultureInfo.InvariantCulture) + "%"),
        ]);

        var dht = status.Dht;
        string estimate = Count(dht.SizeEstimate)
            + (dht.SizeEstimateStddev is { } stddev ? " ± " + (stddev * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%" : string.Empty);
        Block(html, "Dht Info",
        [
            ("Port", dht.Port.ToString(CultureInfo.InvariantCulture)),
            ("Firewalled", dht.Firewalled ? "yes" : "no"),
            ("Size estimate", estimate),
        ]);

        html.Append("</body>\n</html>\n");
        return html.ToString();
    }

    /// <summary>A count as the page shows it: <c>9,999</c>, <c>12.3K</c>, <c>4.5M</c>, <c>1.2B</c>.</summary>
    internal static string Count(long value)
    {
        if (Math.Abs(value) < AbbreviateFrom)
        {
            return value.ToString("N0", CultureInfo.InvariantCulture);
        }

        // The unit is chosen after rounding, so that 999,960 is 1.0M rather than 1000.0K.
        ReadOnlySpan<(double Divisor, char Suffix)> units = [(1e3, 'K'), (1e6, 'M'), (1e9, 'B')];
        foreach (var (divisor, suffix) in units)
        {
            double scaled = Math.Round(value / divisor, 1, MidpointRounding.AwayFromZero);
            if (Math.Abs(scaled) < 1000 || suffix == 'B')
            {
                return scaled.ToString("#,0.0", CultureInfo.InvariantCulture) + suffix;
            }
        }

        return value.ToString("N0", CultureInfo.InvariantCulture);
    }

    private static string Duration(long seconds)
    {
        var span = TimeSpan.FromSeconds(seconds);
        return span.Days > 0
            ? string.Create(CultureInfo.InvariantCulture, $"{span.Days}d {span.Hours}h {span.Minutes}m")
            : string.Create(CultureInfo.InvariantCulture, $"{span.Hours}h {span.Minutes}m {span.Seconds}s");
    }

    private static void Block(StringBuilder html, string title, ReadOnlySpan<(string Name, string Value)> rows)
    {
        var encoder = Encoder;
        html.Append("<section>\n<h2>").Append(encoder.Encode(title)).Append("</h2>\n<dl>\n");
        foreach (var (name, value) in rows)
        {
            html.Append("<dt>").Append(encoder.Encode(name)).Append("</dt><dd>").Append(encoder.Encode(value)).Append("</dd>\n");
        }

        html.Append("</dl>\n</section>\n");
    }
}
