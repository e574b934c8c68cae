// One pkarr relay over HTTP (shared spec pkarr.md §5.7, with the legacy rules of §5.8 and the relay answers of
// §6.2–6.3): GET and PUT of one key at `<base>/<z32 key>`, each request bounded by its own timeout.
//
//   GET  <base>/<key>?policy=<CacheOnly|CacheFirst|NetworkOnly>    [If-Modified-Since] [Cache-Control: no-cache…]
//        200 relay payload (≤ 1104 bytes read) | 304 | 404 [Pkarr-Invalid-Signed-Packet-Seq] | 503 | …
//        (400 → once more without `policy`: relays older than it, such as npm pkarr 1.x, refuse any query)
//   PUT  <base>/<key>   body = relay payload (72–1072 bytes)       [If-Match: <cas µs>]
//        2xx [Pkarr-Dht-Stored-Nodes] | 409 / 412 / 428 | 503 | …
//
// Network input is never trusted: bodies are read through a bounded buffer and headers parse with Try* methods.

using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Relays;

/// <summary>GET and PUT of one key on one relay (spec §5.7). Thread-safe: it holds no per-request state.</summary>
internal sealed partial class RelayClient
{
    /// <summary>The largest body read from a relay: the reference relay's request limit (spec §6.3). Valid payloads
    /// stop at 1072 bytes; the margin matches what relays themselves accept before parsing.</summary>
    internal const int MaxBodyLength = 1104;

    /// <summary>Asks the relay and any HTTP cache on the way to skip their caches (spec §5.7).</summary>
    internal const string CacheBypass = "no-cache, no-store, must-revalidate";

    internal const string StoredNodesHeader = "Pkarr-Dht-Stored-Nodes";
    internal const string InvalidSeqHeader = "Pkarr-Invalid-Signed-Packet-Seq";
    internal const string MementoHeader = "Memento-Datetime";

    // Enough of an error body to say in a debug log what a relay complained about.
    private const int MaxLoggedErrorLength = 256;

    private readonly HttpClient _http;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _basePath;

    /// <summary>A client for the relay at <paramref name="relay"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="relay"/> is not an absolute http or https URL.</exception>
    internal RelayClient(Uri relay, HttpClient http, TimeSpan timeout, TimeProvider time, ILogger logger)
    {
        Relay = relay ?? throw Error.ArgumentNull(nameof(relay));
        _http = http ?? throw Error.ArgumentNull(nameof(http));
        _time = time ?? throw Error.ArgumentNull(nameof(time));
        _logger = logger ?? throw Error.ArgumentNull(nameof(logger));
        if (Problem(relay) is { } problem)
        {
            throw Error.InvalidRelayUrl(relay.OriginalString, problem);
        }

        if (timeout <= TimeSpan.Zero)
        {
            throw Error.Invariant(nameof(timeout), timeout, $"The request timeout must be positive, not {timeout}.");
        }

        _timeout = timeout;

        // Trailing slashes are dropped, so `https://r.example/prefix/` and `https://r.example/prefix` both address
        // `/prefix/<key>`. The reference appends to the path as given and sends `/prefix//<key>` for the first,
        // which relays behind a router that does not merge slashes answer with 404: nobody writes a trailing slash
        // meaning "an empty path segment", so the URL the user meant wins. The path stays in its escaped form.
        _basePath = relay.GetLeftPart(UriPartial.Authority) + relay.AbsolutePath.TrimEnd('/');
    }

    /// <summary>Why <paramref name="relay"/> cannot be a relay's base URL (spec §5.1), or null when it can.</summary>
    internal static string? Problem(Uri? relay) =>
        relay is null || !relay.IsAbsoluteUri ? "it is not an absolute URL"
        : relay.Scheme != Uri.UriSchemeHttp && relay.Scheme != Uri.UriSchemeHttps ? "only http and https relays exist"
        : null;

    /// <summary>The relay's base URL, as configured.</summary>
    internal Uri Relay { get; }

    /// <summary>The URL of <paramref name="key"/>: the base path plus the z32 key as one more segment, keeping the
    /// base's query (a fragment is never sent).</summary>
    internal Uri KeyUrl(PublicKey key) => new(_basePath + "/" + key.ToZ32() + Relay.Query);

    /// <summary>The GET URL: <see cref="KeyUrl"/> with <c>policy=…</c> added to any query the base has.</summary>
    internal Uri ResolveUrl(PublicKey key, ResolvePolicy policy)
    {
        string query = Relay.Query;
        string pair = "policy=" + Uri.EscapeDataString(policy.ToText());
        return new(_basePath + "/" + key.ToZ32() + (query.Length > 1 ? query + "&" + pair : "?" + pair));
    }

    /// <summary>
    /// Asks the relay for <paramref name="key"/> under <paramref name="policy"/>. With <paramref name="lowerBound"/>
    /// (CacheFirst with a cached packet, spec §5.3) it sends <c>If-Modified-Since</c> and reports packets no newer
    /// than the bound as not found. Never throws for what the relay does; the caller's cancellation propagates.
    /// </summary>
    internal async Task<ResolveResult> GetAsync(PublicKey key, ResolvePolicy policy, Timestamp? lowerBound, CancellationToken cancellationToken)
    {
        bool bypass = policy == ResolvePolicy.NetworkOnly;
        var first = await SendGetAsync(key, ResolveUrl(key, policy), bypass, lowerBound, conditional: true, retried: false, cancellationToken);
        if (first.Result is { } result)
        {
            return result;
        }

        if (first.StatusCode == (int)HttpStatusCode.BadRequest)
        {
            // Relays older than the policy parameter (npm pkarr 1.x) read the whole last path segment, query included,
            // as the key and refuse it. A v7 relay answers 400 only to a bad key or policy, which this client never
            // sends, so asking once more without the policy costs nothing there and reaches the older relays, which
            // have no policies anyway (the cache-bypass header still asks for fresh data).
            LogPolicyRefused(_logger, Relay, key);
            var plain = await SendGetAsync(key, KeyUrl(key), bypass, lowerBound, conditional: true, retried: true, cancellationToken);
            return plain.Result ?? ResolveResult.NotFound;
        }

        // A 304 to an unconditional request comes from a stale HTTP cache on the way, and an empty 2xx from an old
        // relay that answered a failed condition so (spec §5.8): once more, past caches and without the condition,
        // which the lower-bound check below the request replaces.
        LogRetry(_logger, Relay, key, first.StatusCode);
        var second = await SendGetAsync(key, ResolveUrl(key, policy), bypassCache: true, lowerBound, conditional: false, retried: true, cancellationToken);
        return second.Result ?? ResolveResult.NotFound;
    }

    /// <summary>
    /// Publishes <paramref name="packet"/> to the relay. With <paramref name="cas"/> it also sends the legacy
    /// <c>If-Match: &lt;cas µs&gt;</c> (spec §5.8): v7 relays ignore it, older ones answer 412 when it does not
    /// hold. Never throws for what the relay does; the caller's cancellation propagates.
    /// </summary>
    internal async Task<RelayPublishOutcome> PutAsync(SignedPacket packet, Timestamp? cas, CancellationToken cancellationToken)
    {
        var key = packet.PublicKey;
        using var request = new HttpRequestMessage(HttpMethod.Put, KeyUrl(key)) { Content = new ReadOnlyMemoryContent(packet.RelayPayload) };
        if (cas is { } expected)
        {
            request.Headers.TryAddWithoutValidation("If-Match", expected.Microseconds.ToString(CultureInfo.InvariantCulture));
        }

        using var timeout = new CancellationTokenSource(_timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token);
            int status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                if (!TryReadStoredNodes(response, out int storedOn))
                {
                    LogMalformedHeader(_logger, Relay, key, StoredNodesHeader);
                    return new(Relay, status, 0, new PublishError(PublishErrorKind.UnexpectedResponses));
                }

                LogPublished(_logger, Relay, key, status, storedOn);
                return new(Relay, status, storedOn, null);
            }

            var error = response.StatusCode switch
            {
                HttpStatusCode.Conflict or HttpStatusCode.PreconditionFailed or HttpStatusCode.PreconditionRequired => PublishError.NotMostRecent,
                HttpStatusCode.ServiceUnavailable => new PublishError(PublishErrorKind.NoResponses),
                _ => new PublishError(PublishErrorKind.UnexpectedResponses),
            };
            string text = await ReadErrorTextAsync(response, linked.Token);
            LogPublishRefused(_logger, Relay, key, status, text);
            return new(Relay, status, 0, error);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is OperationCanceledException or HttpRequestException or IOException)
        {
            LogNoAnswer(_logger, Relay, key, e.Message);
            return new(Relay, null, 0, new PublishError(PublishErrorKind.NoResponses));
        }
    }

    // Null Result: the answer asks for one more try (only ever returned when not yet retried).
    private async Task<(ResolveResult? Result, int? StatusCode)> SendGetAsync(
        PublicKey key, Uri url, bool bypassCache, Timestamp? lowerBound, bool conditional, bool retried, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        bool sentCondition = conditional && lowerBound is not null;
        if (bypassCache)
        {
            request.Headers.TryAddWithoutValidation("Cache-Control", CacheBypass);
        }

        if (sentCondition)
        {
            request.Headers.IfModifiedSince = lowerBound!.Value.ToDateTimeOffset();
        }

        using var timeout = new CancellationTokenSource(_timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token);
            int status = (int)response.StatusCode;
            if (response.StatusCode == HttpStatusCode.NotModified)
            {
                return !sentCondition && !retried ? (null, status) : (ResolveResult.NotFound, status);
            }

            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return (NotFoundAnswer(key, response, lowerBound), status);
            }

            if (response.StatusCode == HttpStatusCode.BadRequest && !retried)
            {
                return (null, status);
            }

            if (!response.IsSuccessStatusCode)
            {
                var kind = response.StatusCode == HttpStatusCode.ServiceUnavailable ? ResolveErrorKind.NoResponses : ResolveErrorKind.UnexpectedResponses;
                LogResolveRefused(_logger, Relay, key, status);
                return (ResolveResult.Of(new ResolveError(kind)), status);
            }

            long? length = response.Content.Headers.ContentLength;
            if ((length ?? 0) == 0 && !retried)
            {
                return (null, status);
            }

            return (await PacketAnswerAsync(key, response, lowerBound, linked.Token), status);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is OperationCanceledException or HttpRequestException or IOException)
        {
            LogNoAnswer(_logger, Relay, key, e.Message);
            return (ResolveResult.Of(new ResolveError(ResolveErrorKind.NoResponses)), null);
        }
    }

    // 404: nothing, or (with the header) a newer value that is signed but is no DNS packet (spec §6.2). An invalid
    // value no newer than the lower bound is what the client already has, hence not found.
    private ResolveResult NotFoundAnswer(PublicKey key, HttpResponseMessage response, Timestamp? lowerBound)
    {
        if (!response.Headers.TryGetValues(InvalidSeqHeader, out var values))
        {
            return ResolveResult.NotFound;
        }

        if (!TrySingle(values, out string? text)
            || !long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long seq))
        {
            LogMalformedHeader(_logger, Relay, key, InvalidSeqHeader);
            return ResolveResult.Of(new ResolveError(ResolveErrorKind.UnexpectedResponses));
        }

        if (seq >= 0 && lowerBound is { } bound && (ulong)seq <= bound.Microseconds)
        {
            return ResolveResult.NotFound;
        }

        LogInvalidSignedPacket(_logger, Relay, key, seq);
        return ResolveResult.Of(ResolveError.InvalidSignedPacket(seq));
    }

    private async Task<ResolveResult> PacketAnswerAsync(PublicKey key, HttpResponseMessage response, Timestamp? lowerBound, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength is > MaxBodyLength and var declared)
        {
            LogBodyRefused(_logger, Relay, key, $"Content-Length {declared} is above {MaxBodyLength} bytes");
            return ResolveResult.Of(new ResolveError(ResolveErrorKind.UnexpectedResponses));
        }

        var buffer = new byte[MaxBodyLength + 1];
        int read = await ReadBoundedAsync(response, buffer, cancellationToken);
        if (read > MaxBodyLength)
        {
            LogBodyRefused(_logger, Relay, key, $"the body runs past {MaxBodyLength} bytes");
            return ResolveResult.Of(new ResolveError(ResolveErrorKind.UnexpectedResponses));
        }

        if (!SignedPacket.TryFromRelayPayload(key, buffer.AsSpan(0, read), out var packet, out var error))
        {
            LogBodyRefused(_logger, Relay, key, error.Message);
            return ResolveResult.Of(new ResolveError(ResolveErrorKind.UnexpectedResponses));
        }

        if (lowerBound is { } bound && packet.Timestamp <= bound)
        {
            LogBelowBound(_logger, Relay, key, packet.Timestamp);
            return ResolveResult.NotFound;
        }

        // The relay's last sight of the packet ages it as the relay's cache did (spec §11 item 11); a date ahead of
        // our clock is a wrong relay clock, and would make the packet look fresher than anything we saw ourselves.
        var now = Timestamp.WallClock(_time);
        var lastSeen = response.Headers.TryGetValues(MementoHeader, out var values)
            && TrySingle(values, out string? text)
            && Timestamp.TryParseHttpDate(text, out var memento)
            && memento <= now
                ? memento
                : now;
        LogResolved(_logger, Relay, key, packet.Timestamp);
        return ResolveResult.Of(new CachedPacket(packet, lastSeen));
    }

    // Reads at most buffer.Length bytes; a count equal to buffer.Length means the body is longer than allowed,
    // whatever Content-Length said.
    private static async Task<int> ReadBoundedAsync(HttpResponseMessage response, byte[] buffer, CancellationToken cancellationToken)
    {
        using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        int total = 0;
        while (total < buffer.Length)
        {
            int n = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }

    private async Task<string> ReadErrorTextAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (!_logger.IsEnabled(LogLevel.Debug))
        {
            return "";
        }

        var buffer = new byte[MaxLoggedErrorLength];
        int read = await ReadBoundedAsync(response, buffer, cancellationToken);
        return System.Text.Encoding.UTF8.GetString(buffer, 0, read);
    }

    // Absent: a relay that does not report nodes (the npm relay, older ones) stored it somewhere: 1 (spec §5.6).
    private static bool TryReadStoredNodes(HttpResponseMessage response, out int storedOn)
    {
        storedOn = 1;
        if (!response.Headers.TryGetValues(StoredNodesHeader, out var values))
        {
            return true;
        }

        if (TrySingle(values, out string? text) && uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out uint count))
        {
            storedOn = (int)Math.Min(count, int.MaxValue);
            return true;
        }

        return false;
    }

    private static bool TrySingle(IEnumerable<string> values, out string? value)
    {
        value = null;
        foreach (string v in values)
        {
            if (value is not null)
            {
                return false;
            }

            value = v.Trim();
        }

        return value is not null;
    }

    [LoggerMessage(1, LogLevel.Debug, "Relay {Relay} has {Key} at {Timestamp}")]
    private static partial void LogResolved(ILogger logger, Uri relay, PublicKey key, Timestamp timestamp);

    [LoggerMessage(2, LogLevel.Debug, "Relay {Relay} answered {Key} with {Timestamp}, no newer than the lower bound: not found")]
    private static partial void LogBelowBound(ILogger logger, Uri relay, PublicKey key, Timestamp timestamp);

    [LoggerMessage(3, LogLevel.Debug, "Relay {Relay} sent an unusable body for {Key}: {Reason}")]
    private static partial void LogBodyRefused(ILogger logger, Uri relay, PublicKey key, string reason);

    [LoggerMessage(4, LogLevel.Debug, "Relay {Relay} answered {Key} with status {Status}")]
    private static partial void LogResolveRefused(ILogger logger, Uri relay, PublicKey key, int status);

    [LoggerMessage(5, LogLevel.Debug, "Relay {Relay} says the newest value of {Key} at seq {Seq} is not a valid signed packet")]
    private static partial void LogInvalidSignedPacket(ILogger logger, Uri relay, PublicKey key, long seq);

    [LoggerMessage(6, LogLevel.Debug, "Relay {Relay} sent a malformed {Header} header for {Key}")]
    private static partial void LogMalformedHeader(ILogger logger, Uri relay, PublicKey key, string header);

    [LoggerMessage(7, LogLevel.Debug, "Relay {Relay} answered {Key} with status {Status} and no packet: asking once more past caches")]
    private static partial void LogRetry(ILogger logger, Uri relay, PublicKey key, int? status);

    [LoggerMessage(11, LogLevel.Debug, "Relay {Relay} refused the request for {Key} with 400: asking once more without the policy parameter, as relays older than it expect")]
    private static partial void LogPolicyRefused(ILogger logger, Uri relay, PublicKey key);

    [LoggerMessage(8, LogLevel.Debug, "Relay {Relay} did not answer for {Key}: {Reason}")]
    private static partial void LogNoAnswer(ILogger logger, Uri relay, PublicKey key, string reason);

    [LoggerMessage(9, LogLevel.Debug, "Relay {Relay} stored {Key} (status {Status}, on {StoredOn} DHT nodes)")]
    private static partial void LogPublished(ILogger logger, Uri relay, PublicKey key, int status, int storedOn);

    [LoggerMessage(10, LogLevel.Debug, "Relay {Relay} refused {Key} with status {Status}: {Text}")]
    private static partial void LogPublishRefused(ILogger logger, Uri relay, PublicKey key, int status, string text);
}
