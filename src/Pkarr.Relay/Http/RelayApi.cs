// The relay's routes (shared spec pkarr.md §6.1–6.3): GET/HEAD/PUT /{key}, plus the page at /, liveness and
// readiness. Statuses, bodies and headers are the reference's; every body is plain text.
//
//   GET  /{key}?policy=  CacheOnly ─▶ store ─▶ 200 | 404
//                        CacheFirst ─▶ fresh in store ─▶ 200 ; else user-DHT token ─▶ client resolve ─▶ 200 | 404 | 503
//                        NetworkOnly ─▶ user-DHT token ─▶ client resolve (no floor, no fallback) ─▶ 200 | 404 | 503
//   PUT  /{key}          key ─▶ body ≤ 1104 ─▶ verify ─▶ not older than stored ─▶ user-DHT token ─▶ DHT put ─▶ store ─▶ 204

using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Pkarr.Client;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Relay.Http;

internal static class RelayApi
{
    /// <summary>The largest PUT body: a 1000-byte DNS packet plus the 104-byte signature and timestamp.</summary>
    public const int MaxBodyLength = 1104;

    public const string PayloadContentType = "application/pkarr.org/relays#payload";
    public const string StoredNodesHeader = "Pkarr-Dht-Stored-Nodes";
    public const string InvalidSeqHeader = "Pkarr-Invalid-Signed-Packet-Seq";
    public const string MementoHeader = "Memento-Datetime";

    /// <summary>Where a served packet came from: <c>cache</c> (the relay's store) or <c>dht</c> (fetched for this
    /// request). The web app shows it; clients may ignore it.</summary>
    public const string SourceHeader = "Pkarr-Source";

    /// <summary>The web app's policy: its own scripts, styles, images and requests only; no inline script, no framing.</summary>
    internal const string WebContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>
    /// Kestrel's request body limit, above <see cref="MaxBodyLength"/>, which the handler enforces on the decoded body
    /// itself. Kestrel counts chunked framing (sizes, CRLFs) against its limit, so at 1104 it would refuse a chunked
    /// 1104-byte body; and it reads and discards an unread body only up to its limit, so that a client that sends an
    /// oversized body without waiting for "100 Continue" still receives the 413 (or the 400 of a bad key) instead of
    /// a connection closed under its upload.
    /// </summary>
    public const int RequestBodyLimit = 16 * 1024;

    // Keys parsed from paths: at most 16,384 segments of at most 64 characters.
    private static readonly KeyCache ParsedKeys = new(16_384);

    public static void Map(IEndpointRouteBuilder routes, RelayContext relay)
    {
        routes.MapMethods("/{key}", [HttpMethods.Get, HttpMethods.Head], (HttpContext http, string key) => GetAsync(http, relay, key));
        routes.MapPut("/{key}", (HttpContext http, string key) => PutAsync(http, relay, key));
        // With a web app at /, the status page moves to /status (a literal route wins over /{key}).
        routes.MapMethods(relay.Options.Web.Enabled ? "/status" : "/", [HttpMethods.Get, HttpMethods.Head], (HttpContext http) => StatusPage.WriteAsync(http, relay));
        routes.MapMethods("/api/status", [HttpMethods.Get, HttpMethods.Head], (HttpContext http) => RelayStatus.WriteJsonAsync(http, relay));
        routes.MapMethods("/healthz", [HttpMethods.Get, HttpMethods.Head], (HttpContext http) => TextAsync(http, StatusCodes.Status200OK, "ok"));
        routes.MapMethods("/readyz", [HttpMethods.Get, HttpMethods.Head], (HttpContext http) => ReadyAsync(http, relay));
    }

    /// <summary>What the web app's files are compressed for: text, most of it JavaScript (the vendored Ed25519 library
    /// is half of it); a phone then loads a third of the bytes.</summary>
    private static readonly string[] CompressedTypes =
        ["text/html", "text/css", "text/javascript", "application/javascript", "image/svg+xml", "application/json"];

    /// <summary>Registers what <see cref="UseWeb"/> needs: response compression (Brotli, then gzip) when the web app
    /// is on. The files hold no secret, so compressing them over HTTPS leaks nothing (BREACH needs a secret in a
    /// compressed body beside attacker-chosen text); the relay's payloads are binary and never compressed.</summary>
    public static void AddWebServices(IServiceCollection services, RelayContext relay)
    {
        if (!relay.Options.Web.Enabled)
        {
            return;
        }

        services.AddResponseCompression(options =>
        {
            options.EnableForHttps = true;
            options.MimeTypes = CompressedTypes;
            options.Providers.Add<BrotliCompressionProvider>();
            options.Providers.Add<GzipCompressionProvider>();
        });
    }

    /// <summary>
    /// Serves the web app at / with index.html as its default document: the built-in one embedded in this assembly
    /// (wwwroot/), or the folder of <see cref="WebSettings.Root"/>. It runs first in the pipeline, before the HTTP rate
    /// limit: a page load fetches a dozen small files from memory, which the default 2r/s would refuse, while the
    /// requests that cost something (the API) stay limited. It also runs before routing because /{key} matches every
    /// one-segment path (/app.js too); a key has no file extension, so its requests pass through without a file found.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The configured folder does not exist.</exception>
    public static void UseWeb(WebApplication app, RelayContext relay)
    {
        var web = relay.Options.Web;
        if (web.Enabled)
        {
            IFileProvider files;
            if (web.Root is { } root)
            {
                string folder = Path.GetFullPath(root);
                if (!Directory.Exists(folder))
                {
                    throw Error.WebRootMissing(folder);
                }

                var physical = new PhysicalFileProvider(folder);
                app.Lifetime.ApplicationStopped.Register(physical.Dispose);
                files = physical;
            }
            else
            {
                files = WebApp.Files;
            }

            app.UseResponseCompression();
            app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
            app.UseStaticFiles(new StaticFileOptions
            {
                FileProvider = files,
                ContentTypeProvider = WebApp.ContentTypes,
                OnPrepareResponse = file =>
                {
                    var headers = file.Context.Response.Headers;
                    headers.ContentSecurityPolicy = WebContentSecurityPolicy;
                    headers.XContentTypeOptions = "nosniff";
                    headers["Referrer-Policy"] = "no-referrer";
                    // The files change with the relay's version: revalidate rather than run an old script against a
                    // new relay.
                    headers.CacheControl = "no-cache";
                },
            });
        }
    }

    private static async Task GetAsync(HttpContext http, RelayContext relay, string key)
    {
        relay.Metrics.Rates.Resolve();
        if (!TryKey(key, out var publicKey, out string? keyError))
        {
            await TextAsync(http, StatusCodes.Status400BadRequest, "Invalid public key: " + keyError).ConfigureAwait(false);
            return;
        }

        var policy = ResolvePolicy.CacheFirst;
        if (http.Request.Query.TryGetValue("policy", out var values) && !ResolvePolicyText.TryParse(values.ToString(), out policy))
        {
            await TextAsync(http, StatusCodes.Status400BadRequest,
                $"Invalid policy '{values}': expected CacheOnly, CacheFirst or NetworkOnly").ConfigureAwait(false);
            return;
        }

        var cancel = http.RequestAborted;
        if (policy != ResolvePolicy.NetworkOnly && relay.Store is { } store
            && await store.GetAsync(publicKey, cancel).ConfigureAwait(false) is { } cached
            && (policy == ResolvePolicy.CacheOnly || Fresh(relay, cached)))
        {
            relay.Metrics.CacheHit();
            await ServeAsync(http, relay, cached, "cache").ConfigureAwait(false);
            return;
        }

        if (policy == ResolvePolicy.CacheOnly)
        {
            relay.Metrics.CacheMiss();
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        if (!relay.Limits.TryAcquireUserDht(http, out var retryAfter))
        {
            await UserDhtLimitedAsync(http, relay, retryAfter).ConfigureAwait(false);
            return;
        }

        relay.Metrics.CacheMiss();
        var result = await relay.Client.ResolveAsync(publicKey, policy, cancel).ConfigureAwait(false);
        if (result.Entry is { } entry)
        {
            relay.Metrics.Resolved("found");
            await ServeAsync(http, relay, entry, "dht").ConfigureAwait(false);
            return;
        }

        var error = result.Error!;
        switch (error.Kind)
        {
            case ResolveErrorKind.NotFound:
                relay.Metrics.Resolved("not_found");
                http.Response.StatusCode = StatusCodes.Status404NotFound;
                break;
            case ResolveErrorKind.InvalidSignedPacket:
                relay.Metrics.Resolved("invalid");
                http.Response.Headers[InvalidSeqHeader] = error.Seq.ToString(CultureInfo.InvariantCulture);
                await TextAsync(http, StatusCodes.Status404NotFound,
                    string.Create(CultureInfo.InvariantCulture, $"DHT mutable item at seq {error.Seq} is not a valid signed packet")).ConfigureAwait(false);
                break;
            default:
                relay.Metrics.Resolved("unavailable");
                await TextAsync(http, StatusCodes.Status503ServiceUnavailable, error.Kind switch
                {
                    ResolveErrorKind.NoDhtNodesQueried => "No DHT nodes were queried",
                    ResolveErrorKind.NoResponses => "No DHT nodes responded",
                    ResolveErrorKind.NoUsableResponses => "No usable responses from DHT nodes",
                    _ => "Unexpected responses from DHT nodes",
                }).ConfigureAwait(false);
                break;
        }
    }

    private static async Task PutAsync(HttpContext http, RelayContext relay, string key)
    {
        relay.Metrics.Rates.Publish();
        // The path is checked before the body is read: a bad key with an oversized body is a 400, not a 413.
        if (!TryKey(key, out var publicKey, out string? keyError))
        {
            relay.Metrics.Published("invalid");
            await TextAsync(http, StatusCodes.Status400BadRequest, "Invalid URL: " + keyError).ConfigureAwait(false);
            return;
        }

        byte[]? body = await ReadBodyAsync(http).ConfigureAwait(false);
        if (body is null)
        {
            relay.Metrics.Published("too_large");
            await TextAsync(http, StatusCodes.Status413PayloadTooLarge,
                string.Create(CultureInfo.InvariantCulture, $"Payload too large: a relay payload is at most {MaxBodyLength} bytes")).ConfigureAwait(false);
            return;
        }

        if (!SignedPacket.TryFromRelayPayload(publicKey, body, out var packet, out var packetError))
        {
            relay.Metrics.Published("invalid");
            await TextAsync(http, StatusCodes.Status400BadRequest, packetError.ToString()).ConfigureAwait(false);
            return;
        }

        var cancel = http.RequestAborted;
        if (relay.Store is { } store && await store.PeekAsync(publicKey, cancel).ConfigureAwait(false) is { } cached
            && cached.Packet.MoreRecentThan(packet))
        {
            relay.Metrics.Published("conflict");
            await TextAsync(http, StatusCodes.Status409Conflict, "packet is not the most recent").ConfigureAwait(false);
            return;
        }

        if (!relay.Limits.TryAcquireUserDht(http, out var retryAfter))
        {
            relay.Metrics.Published("rate_limited");
            await UserDhtLimitedAsync(http, relay, retryAfter).ConfigureAwait(false);
            return;
        }

        // The put runs to its end even when the client goes away: a half-published packet helps nobody.
        var result = await relay.Client.PublishAsync(packet, cancellationToken: CancellationToken.None).ConfigureAwait(false);
        if (result.Error is null)
        {
            relay.Metrics.Published("stored");
            relay.Used(packet);
            http.Response.StatusCode = StatusCodes.Status204NoContent;
            http.Response.Headers[StoredNodesHeader] = result.StoredOn.ToString(CultureInfo.InvariantCulture);
            return;
        }

        if (result.Error.Kind == PublishErrorKind.NotMostRecent)
        {
            relay.Metrics.Published("conflict");
            await TextAsync(http, StatusCodes.Status409Conflict, "packet is not the most recent").ConfigureAwait(false);
            return;
        }

        relay.Metrics.Published("failed");
        await TextAsync(http, StatusCodes.Status500InternalServerError, "DHT put failed: " + result.Error).ConfigureAwait(false);
    }

    /// <summary>The body, or null when it is longer than <see cref="MaxBodyLength"/>.</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpContext http)
    {
        if (http.Request.ContentLength is > MaxBodyLength)
        {
            return null;
        }

        var buffer = new byte[MaxBodyLength + 1];
        int length = 0;
        try
        {
            int read;
            while ((read = await http.Request.Body.ReadAsync(buffer.AsMemory(length), http.RequestAborted).ConfigureAwait(false)) > 0)
            {
                length += read;
                if (length > MaxBodyLength)
                {
                    return null;
                }
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return null;
        }

        return buffer.AsSpan(0, length).ToArray();
    }

    private static async Task ServeAsync(HttpContext http, RelayContext relay, CachedPacket entry, string source)
    {
        relay.Used(entry.Packet);
        var packet = entry.Packet;
        var response = http.Response;
        response.ContentType = PayloadContentType;
        response.Headers.CacheControl = string.Create(CultureInfo.InvariantCulture, $"public, max-age={packet.Ttl(relay.MinimumTtl, relay.MaximumTtl)}");
        response.Headers.LastModified = packet.Timestamp.ToHttpDate();
        response.Headers[MementoHeader] = entry.LastSeen.ToHttpDate();
        response.Headers[SourceHeader] = source;

        // 304 compares the full microsecond timestamp with the header's whole seconds: 08:49:37.5 is newer than 08:49:37.
        if (http.Request.Headers.IfModifiedSince.ToString() is { Length: > 0 } since
            && Timestamp.TryParseHttpDate(since, out var ims) && packet.Timestamp <= ims)
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        var payload = packet.RelayPayload;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentLength = payload.Length;
        if (!HttpMethods.IsHead(http.Request.Method))
        {
            await response.Body.WriteAsync(payload, http.RequestAborted).ConfigureAwait(false);
        }
    }

    private static async Task UserDhtLimitedAsync(HttpContext http, RelayContext relay, TimeSpan retryAfter)
    {
        relay.Metrics.RateLimited("user_dht");
        http.Response.Headers.RetryAfter = ((long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        await TextAsync(http, StatusCodes.Status429TooManyRequests, "Too many requests to DHT nodes").ConfigureAwait(false);
    }

    private static async Task ReadyAsync(HttpContext http, RelayContext relay)
    {
        // Ready once the DHT node knows other nodes: before that every cache miss and PUT would fail with 503/500.
        var info = await relay.Dht.GetInfoAsync(http.RequestAborted).ConfigureAwait(false);
        if (info.RoutingTableSize == 0)
        {
            await TextAsync(http, StatusCodes.Status503ServiceUnavailable, "not ready: the DHT node knows no other node yet").ConfigureAwait(false);
            return;
        }

        await TextAsync(http, StatusCodes.Status200OK, "ready").ConfigureAwait(false);
    }

    private static bool TryKey(string segment, out PublicKey key, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        // Routing has percent-decoded the segment already.
        if (ParsedKeys.TryParse(segment, out key, out var keyError))
        {
            error = null;
            return true;
        }

        error = keyError.ToString();
        return false;
    }

    /// <summary>True when a stored packet may be served under CacheFirst without asking the DHT (as the client decides).</summary>
    private static bool Fresh(RelayContext relay, CachedPacket cached) =>
        relay.MaximumTtl > 0 && !cached.IsExpired(relay.MinimumTtl, relay.MaximumTtl, relay.Time);

    internal static Task TextAsync(HttpContext http, int status, string text)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "text/plain; charset=utf-8";
        return http.Response.WriteAsync(text, http.RequestAborted);
    }
}
