// DNS-over-HTTPS (RFC 8484) on the host's ASP.NET Core app: GET /dns-query?dns=<base64url> and POST /dns-query with
// the raw query. Every query goes through the same handler as UDP and TCP (transport Https), so ANY refusal and the
// rate limits apply to DoH too, which pkdns's DoH skips (shared spec pkarr.md §9.3, §9.5). Where pkdns differs:
//
//   Accept         pkdns: exactly "application/dns-message" or 400. Here: absent, */*, application/*,
//                  application/dns-message, with parameters, q-values and lists, all accepted; 406 only when the
//                  header rules application/dns-message out.
//   Content-Type   pkdns: not checked. Here: POST must say application/dns-message (415), RFC 8484 §4.1.
//   Cache-Control  pkdns: max-age=300 on everything. Here: the smallest TTL of the answer and authority records
//                  (RFC 8484 §5.1; a negative answer's SOA counts with min(TTL, MINIMUM), RFC 2308 §5) for NOERROR
//                  and NXDOMAIN; no-store for failures, which must not be cached for minutes.
//   Client         pkdns: X-Forwarded-For always trusted. Here: only behind a proxy the operator names.
//
// The query ID is passed through unchanged: RFC 8484 §4.1 asks clients to send 0 (cache-friendly), the answer echoes
// whatever came.

using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using Pkarr.Dns;
using Pkarr.DnsServer.Listeners;
using Pkarr.DnsServer.Query;
using Pkarr.Relay.Http;
using Pkarr.Relay.RateLimiting;

namespace Pkarr.DnsServer.Http;

internal static class DohEndpoint
{
    public const string Path = "/dns-query";

    /// <summary>The media type of DNS messages over HTTP (RFC 8484 §6).</summary>
    public const string MessageType = "application/dns-message";

    private const int MaxMessageLength = DnsListener.MaxMessageLength;

    // The longest base64url text of a 65535-byte message (with padding).
    private static readonly int MaxEncodedLength = (MaxMessageLength + 2) / 3 * 4;

    /// <summary>Maps GET and POST <see cref="Path"/>, and OPTIONS for CORS pre-flight: browsers may query from any
    /// page (the answers are public DNS data).</summary>
    public static void Map(IEndpointRouteBuilder routes, IDnsQueryHandler handler, bool behindProxy)
    {
        ArgumentNullException.ThrowIfNull(routes);
        ArgumentNullException.ThrowIfNull(handler);
        string[] methods = [HttpMethods.Get, HttpMethods.Post, HttpMethods.Options];
        // acceptCorsPreflight: routing otherwise matches a pre-flight (OPTIONS naming POST in
        // Access-Control-Request-Method) against POST only and answers 405; here the handler answers it.
        routes.MapMethods(Path, methods, http => HandleAsync(http, handler, behindProxy))
            .WithMetadata(new HttpMethodMetadata(methods, acceptCorsPreflight: true));
    }

    private static async Task HandleAsync(HttpContext http, IDnsQueryHandler handler, bool behindProxy)
    {
        var request = http.Request;
        var headers = http.Response.Headers;
        headers.AccessControlAllowOrigin = "*";
        if (HttpMethods.IsOptions(request.Method))
        {
            headers.AccessControlAllowMethods = "GET, POST, OPTIONS";
            headers.AccessControlAllowHeaders = "Content-Type, Accept";
            headers.AccessControlMaxAge = "86400";
            http.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }

        if (!AcceptsDnsMessage(request.Headers.Accept))
        {
            await RelayApi.TextAsync(http, StatusCodes.Status406NotAcceptable, "answers are application/dns-message").ConfigureAwait(false);
            return;
        }

        byte[]? query;
        int length;
        if (HttpMethods.IsGet(request.Method))
        {
            if (!TryDecodeParameter(request.Query["dns"], out query, out length))
            {
                await RelayApi.TextAsync(http, StatusCodes.Status400BadRequest, "the dns parameter must be one base64url-encoded DNS query").ConfigureAwait(false);
                return;
            }
        }
        else
        {
            if (!IsDnsMessage(request.ContentType))
            {
                await RelayApi.TextAsync(http, StatusCodes.Status415UnsupportedMediaType, "the body must be application/dns-message").ConfigureAwait(false);
                return;
            }

            (query, length) = await ReadBodyAsync(http).ConfigureAwait(false);
            if (query is null)
            {
                await RelayApi.TextAsync(http, StatusCodes.Status413PayloadTooLarge, "a DNS message is at most 65535 bytes").ConfigureAwait(false);
                return;
            }
        }

        try
        {
            await AnswerAsync(http, handler, query.AsMemory(0, length), behindProxy).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(query);
        }
    }

    private static async Task AnswerAsync(HttpContext http, IDnsQueryHandler handler, ReadOnlyMemory<byte> query, bool behindProxy)
    {
        byte[]? response = null;
        if (query.Length >= DnsListener.HeaderLength)
        {
            var context = new QueryContext(ClientAddress.Of(http, behindProxy), DnsTransport.Https);
            try
            {
                response = await handler.HandleAsync(query, context, http.RequestAborted).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
            {
                return;
            }
        }

        if (response is null)
        {
            await RelayApi.TextAsync(http, StatusCodes.Status400BadRequest, "not a DNS query").ConfigureAwait(false);
            return;
        }

        var httpResponse = http.Response;
        httpResponse.StatusCode = StatusCodes.Status200OK;
        httpResponse.ContentType = MessageType;
        httpResponse.ContentLength = response.Length;
        httpResponse.Headers.CacheControl = CacheControlOf(response);
        await httpResponse.Body.WriteAsync(response, http.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>True when an <c>Accept</c> header allows application/dns-message: the most specific range that matches
    /// it (the type itself, then application/*, then */*) decides, and q=0 refuses (RFC 9110 §12.5.1). No header, or
    /// one with no readable range, accepts anything.</summary>
    internal static bool AcceptsDnsMessage(StringValues accept)
    {
        if (accept.Count == 0 || !MediaTypeHeaderValue.TryParseList(accept, out var ranges) || ranges.Count == 0)
        {
            return true;
        }

        int best = -1;
        double quality = 0;
        foreach (var range in ranges)
        {
            int specificity = Specificity(range);
            double q = range.Quality ?? 1;
            if (specificity > best)
            {
                (best, quality) = (specificity, q);
            }
            else if (specificity == best && specificity >= 0)
            {
                quality = Math.Max(quality, q);
            }
        }

        return best >= 0 && quality > 0;
    }

    /// <summary>How closely a media range names application/dns-message: 2 exactly, 1 as application/*, 0 as */*,
    /// -1 not at all.</summary>
    private static int Specificity(MediaTypeHeaderValue range)
    {
        if (range.MatchesAllTypes)
        {
            return 0;
        }

        if (!range.Type.Equals("application", StringComparison.OrdinalIgnoreCase))
        {
            return -1;
        }

        if (range.MatchesAllSubTypes)
        {
            return 1;
        }

        return range.SubType.Equals("dns-message", StringComparison.OrdinalIgnoreCase) ? 2 : -1;
    }

    private static bool IsDnsMessage(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var type)
        && type.MediaType.Equals(MessageType, StringComparison.OrdinalIgnoreCase);

    /// <summary>Decodes the one <c>dns</c> parameter: base64url, without padding as RFC 8484 §4.1 says, or with it
    /// as some clients send it. The bytes are in a pooled buffer.</summary>
    internal static bool TryDecodeParameter(StringValues values, out byte[] query, out int length)
    {
        query = [];
        length = 0;
        if (values.Count != 1 || values[0] is not { Length: > 0 } text || text.Length > MaxEncodedLength)
        {
            return false;
        }

        var chars = text.AsSpan();
        if (chars.EndsWith("=="))
        {
            chars = chars[..^2];
        }
        else if (chars.EndsWith('='))
        {
            chars = chars[..^1];
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(Base64Url.GetMaxDecodedLength(chars.Length));
        if (Base64Url.DecodeFromChars(chars, buffer, out _, out length) != OperationStatus.Done)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return false;
        }

        query = buffer;
        return true;
    }

    /// <summary>The body in a pooled buffer, or a null buffer when it is longer than 65535 bytes (read no further than
    /// one byte past the limit).</summary>
    private static async Task<(byte[]? Buffer, int Length)> ReadBodyAsync(HttpContext http)
    {
        if (http.Request.ContentLength is > MaxMessageLength)
        {
            return (null, 0);
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(MaxMessageLength + 1);
        int length = 0;
        try
        {
            int read;
            while ((read = await http.Request.Body.ReadAsync(buffer.AsMemory(length, MaxMessageLength + 1 - length), http.RequestAborted).ConfigureAwait(false)) > 0)
            {
                length += read;
                if (length > MaxMessageLength)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return (null, 0);
                }
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return (null, 0);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }

        return (buffer, length);
    }

    /// <summary>The Cache-Control of a response (RFC 8484 §5.1): for NOERROR and NXDOMAIN, max-age = the smallest TTL
    /// of the answer and authority records, an SOA counting with min(TTL, MINIMUM) (RFC 2308 §5); no-store for
    /// failures (SERVFAIL, REFUSED, FORMERR, ...), for answers without records, and for what does not parse.</summary>
    internal static string CacheControlOf(ReadOnlySpan<byte> response)
    {
        const string NoStore = "no-store";
        if (!DnsMessage.TryParse(response, out var message, out _) || (message.Flags & 0xF) is not (0 or 3)
            || message.Additionals.Any(r => r.Type == RecordType.OPT && r.Ttl >> 24 != 0))
        {
            // The OPT record's TTL carries the upper rcode bits (RFC 6891 §6.1.3): BADVERS has 0 in the header.
            return NoStore;
        }

        uint? smallest = null;
        foreach (var record in message.Answers.Concat(message.Authorities))
        {
            uint ttl = record.Data is SoaData soa ? Math.Min(record.Ttl, soa.Minimum) : record.Ttl;
            smallest = Math.Min(smallest ?? uint.MaxValue, ttl);
        }

        return smallest is { } seconds ? "max-age=" + seconds.ToString(CultureInfo.InvariantCulture) : NoStore;
    }
}
