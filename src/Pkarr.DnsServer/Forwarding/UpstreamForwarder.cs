// The production IDnsForwarder (shared spec pkarr.md §9.1 "ICANN forwarding", §9.5 "UDP size", "Forwarded-answer
// cache", "Limits", §9.6 bootstrap names).
//
// A question goes: cache (ForwardCache) → single flight (identical questions in flight share one upstream exchange)
// → each upstream in turn until one answers. One upstream exchange (UpstreamForwarder.Exchange.cs):
//   * a fresh UDP socket per query, connected to the upstream, so the OS picks a random source port for it alone
//     (never the listening port) and drops datagrams from any other address or port; ICMP "port unreachable" ends
//     the attempt at once instead of at the timeout;
//   * a random 16-bit id (RandomNumberGenerator), RD = 1, EDNS OPT advertising 1232 bytes (DO, CD as asked);
//   * replies with another id, not a response, or another question are ignored and waiting goes on (late, duplicate
//     and spoofed replies change nothing); the receive buffer holds 65535 bytes, so no reply is ever cut;
//   * a TC reply is asked again over TCP (RFC 7766, 2-byte length prefix) with a fresh timeout budget.
// An attempt that times out moves on to the next upstream; so does one that fails (unreachable, unusable reply) and
// one that answers SERVFAIL or REFUSED (kept, and returned if no other upstream does better). Upstreams that keep
// timing out are tried last until they answer again. The flights run on the forwarder's own token, so a caller that
// gives up does not waste the answer for the others (or for the cache); every attempt is bounded by the timeout.

using System.Net;
using Microsoft.Extensions.Logging;
using Pkarr.Dns;
using Pkarr.DnsServer.Metrics;

namespace Pkarr.DnsServer.Forwarding;

/// <summary>Forwards questions to the configured upstream resolvers over UDP (TCP for truncated replies), with a
/// response cache and single flight.</summary>
internal sealed partial class UpstreamForwarder : IDnsForwarder, IDisposable
{
    /// <summary>Consecutive timeouts after which an upstream is tried last and a warning is logged.</summary>
    internal const int FailingAfter = 3;

    /// <summary>Most CNAME steps followed inside one response by <see cref="ResolveAddressesAsync"/>.</summary>
    private const int MaxCnameSteps = 16;

    private readonly ForwarderOptions _options;
    private readonly IPEndPoint[] _upstreams;
    private readonly int[] _consecutiveTimeouts;
    private readonly DnsMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<UpstreamForwarder> _logger;
    private readonly ForwardCache? _cache;
    private readonly Lock _flightsGate = new();
    private readonly Dictionary<ForwardKey, Task<ForwardResult>> _flights = [];
    private readonly CancellationTokenSource _disposed = new();

    public UpstreamForwarder(ForwarderOptions options, DnsMetrics metrics, TimeProvider time, ILogger<UpstreamForwarder> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(options.Upstreams);
        if (options.Timeout <= TimeSpan.Zero)
        {
            throw Error.NonPositiveTimeout(options.Timeout);
        }

        if (options.CacheBytes < 0)
        {
            throw Error.NegativeCacheBytes(options.CacheBytes);
        }

        if (options.MinTtl > options.MaxTtl)
        {
            throw Error.InvalidTtlBounds(options.MinTtl, options.MaxTtl);
        }

        _upstreams = [.. options.Upstreams];
        if (Array.IndexOf(_upstreams, null) >= 0)
        {
            throw Error.NullUpstream();
        }

        _options = options;
        _consecutiveTimeouts = new int[_upstreams.Length];
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _cache = options.CacheBytes > 0 ? new ForwardCache(options.CacheBytes, options.MinTtl, options.MaxTtl, time) : null;
    }

    /// <inheritdoc />
    public bool HasUpstreams => _upstreams.Length > 0;

    /// <summary>The response cache, or null when it is off (tests look inside).</summary>
    internal ForwardCache? Cache => _cache;

    /// <inheritdoc />
    public ValueTask<ForwardResult> ForwardAsync(DnsQuestion question, ForwardFlags flags, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(question);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<ForwardResult>(cancellationToken);
        }

        var key = new ForwardKey(question.Name, question.Type, question.Class, flags);
        if (_cache is not null && _cache.TryGet(key, out var cached))
        {
            _metrics.ForwardCache(hit: true);
            return ValueTask.FromResult(cached);
        }

        _metrics.ForwardCache(hit: false);
        if (_upstreams.Length == 0 || _disposed.IsCancellationRequested)
        {
            return ValueTask.FromResult(ForwardResult.Failed);
        }

        Task<ForwardResult>? flight;
        TaskCompletionSource<ForwardResult>? started = null;
        lock (_flightsGate)
        {
            if (!_flights.TryGetValue(key, out flight))
            {
                started = new TaskCompletionSource<ForwardResult>(TaskCreationOptions.RunContinuationsAsynchronously);
                flight = started.Task;
                _flights.Add(key, flight);
            }
        }

        if (started is not null)
        {
            _ = FlyAsync(key, question, flags, started);
        }

        return new ValueTask<ForwardResult>(flight.WaitAsync(cancellationToken));
    }

    /// <summary>
    /// The addresses of <paramref name="hostName"/> (A, then AAAA) through the upstreams, never the system resolver:
    /// DHT bootstrap names (shared spec §9.6), since the system resolver may be this very server. CNAMEs in an answer
    /// are followed within the same response. An IP literal is returned as is; no answer gives an empty list.
    /// </summary>
    /// <param name="hostName">A host name or an IP literal.</param>
    /// <param name="cancellationToken">Cancels the lookups.</param>
    public async Task<IReadOnlyList<IPAddress>> ResolveAddressesAsync(string hostName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(hostName);
        if (IPAddress.TryParse(hostName, out var literal))
        {
            return [literal];
        }

        if (!DnsName.TryParse(hostName, out var name) || name.IsRoot)
        {
            return [];
        }

        var v4 = ForwardAsync(new DnsQuestion(name, RecordType.A, DnsClass.IN), ForwardFlags.None, cancellationToken).AsTask();
        var v6 = ForwardAsync(new DnsQuestion(name, RecordType.AAAA, DnsClass.IN), ForwardFlags.None, cancellationToken).AsTask();
        var results = await Task.WhenAll(v4, v6).ConfigureAwait(false);
        var addresses = new List<IPAddress>();
        AddAddresses(name, RecordType.A, results[0], addresses);
        AddAddresses(name, RecordType.AAAA, results[1], addresses);
        return addresses;
    }

    /// <summary>Stops the flights in progress (their callers get <see cref="ForwardResult.Failed"/>).</summary>
    public void Dispose() => _disposed.Cancel();

    private static void AddAddresses(DnsName name, RecordType type, ForwardResult result, List<IPAddress> addresses)
    {
        if (result.Response is not { } response || (response.Flags & 0x000F) != 0)
        {
            return;
        }

        var answers = response.Answers;
        var current = name;
        for (int step = 0; step <= MaxCnameSteps; step++)
        {
            DnsName? next = null;
            bool found = false;
            for (int i = 0; i < answers.Count; i++)
            {
                var record = answers[i];
                if (!DnsNames.EqualsIgnoreCase(record.Name, current))
                {
                    continue;
                }

                switch (record.Data)
                {
                    case AData a when type == RecordType.A:
                        addresses.Add(a.Address);
                        found = true;
                        break;
                    case AaaaData aaaa when type == RecordType.AAAA:
                        addresses.Add(aaaa.Address);
                        found = true;
                        break;
                    case CnameData cname:
                        next = cname.Target;
                        break;
                }
            }

            if (found || next is null)
            {
                return;
            }

            current = next;
        }
    }

    private async Task FlyAsync(ForwardKey key, DnsQuestion question, ForwardFlags flags, TaskCompletionSource<ForwardResult> flight)
    {
        ForwardResult result;
        try
        {
            (result, int wireLength) = await AskUpstreamsAsync(question, flags).ConfigureAwait(false);
            if (result.Response is { } response && _cache is not null)
            {
                _cache.TryAdd(key, response, wireLength);
            }
        }
        catch (OperationCanceledException) when (_disposed.IsCancellationRequested)
        {
            // Disposal mid-flight: the callers get SERVFAIL.
            result = ForwardResult.Failed;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A bug: the callers get SERVFAIL, never an exception.
            LogFlightFailed(_logger, e);
            result = ForwardResult.Failed;
        }

        // Cached before the flight ends: a caller arriving now finds the cache or this flight, never neither.
        lock (_flightsGate)
        {
            _flights.Remove(key);
        }

        flight.SetResult(result);
    }

    private async Task<(ForwardResult Result, int WireLength)> AskUpstreamsAsync(DnsQuestion question, ForwardFlags flags)
    {
        DnsMessage? fallback = null;
        bool allTimedOut = true;
        foreach (int index in AttemptOrder())
        {
            var reply = await ExchangeAsync(_upstreams[index], index, question, flags, _disposed.Token).ConfigureAwait(false);
            switch (reply.Outcome)
            {
                case ExchangeOutcome.Answered:
                    allTimedOut = false;
                    int rcode = reply.Message!.Flags & 0x000F;
                    if (rcode is 2 or 5)
                    {
                        // SERVFAIL or REFUSED: another upstream may do better; this one is the answer if none does.
                        fallback = reply.Message;
                        continue;
                    }

                    return (new ForwardResult(ForwardStatus.Answered, reply.Message), reply.WireLength);
                case ExchangeOutcome.TimedOut:
                    continue;
                default:
                    allTimedOut = false;
                    continue;
            }
        }

        if (fallback is not null)
        {
            return (new ForwardResult(ForwardStatus.Answered, fallback), 0);
        }

        return (allTimedOut ? ForwardResult.Timeout : ForwardResult.Failed, 0);
    }

    /// <summary>The configured order, with upstreams that keep timing out moved to the end.</summary>
    private int[] AttemptOrder()
    {
        var order = new int[_upstreams.Length];
        int at = 0;
        for (int pass = 0; pass < 2; pass++)
        {
            for (int i = 0; i < _upstreams.Length; i++)
            {
                bool failing = Volatile.Read(ref _consecutiveTimeouts[i]) >= FailingAfter;
                if (failing == (pass == 1))
                {
                    order[at++] = i;
                }
            }
        }

        return order;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Asking upstream {Upstream} for {Name} {Type} (id {Id}, {Transport})")]
    private static partial void LogAsking(ILogger logger, IPEndPoint upstream, DnsName name, RecordType type, ushort id, string transport);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Upstream {Upstream} {Outcome} for {Name} {Type}")]
    private static partial void LogOutcome(ILogger logger, IPEndPoint upstream, string outcome, DnsName name, RecordType type);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upstream {Upstream} has not answered {Count} queries in a row (timeout {Timeout}); it is asked last until it answers again")]
    private static partial void LogKeepsTimingOut(ILogger logger, IPEndPoint upstream, int count, TimeSpan timeout);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Upstream {Upstream} failed: {Reason}")]
    private static partial void LogUpstreamFailed(ILogger logger, IPEndPoint upstream, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Upstream {Upstream} failed: socket error {Error}")]
    private static partial void LogUpstreamSocketError(ILogger logger, IPEndPoint upstream, System.Net.Sockets.SocketError error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A forwarded question failed unexpectedly")]
    private static partial void LogFlightFailed(ILogger logger, Exception exception);
}
