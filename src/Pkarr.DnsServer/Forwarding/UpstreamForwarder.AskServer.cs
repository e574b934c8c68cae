// One question to an authoritative server of a delegation (key delegation, spec §9.1 "NS referrals with glue", §9.6):
// the query logic follows a Pkarr referral for a stub resolver, which cannot follow one itself.
//
// The exchange is the upstreams' own (UpstreamForwarder.Exchange.cs): fresh socket, random id, question checked, TC
// → TCP, the configured timeout per transport; only RD is clear. There is no retry and no other server here: which
// servers to ask, in what order, is the caller's choice. No single flight: the same delegated name asked by many
// clients at once is rare, and the answer is cached.
//
// Caching: in the same ForwardCache as forwarded answers, under a key that also holds the server's endpoint, with the
// same rules (positive answers for their TTLs, NXDOMAIN/NODATA with an SOA per RFC 2308; referrals, SERVFAIL and
// REFUSED never). Keyed by server, an answer is never handed out for another server, nor for a forwarded question:
// a republished packet that delegates elsewhere asks the new server at once.

using System.Net;
using Pkarr.Dns;

namespace Pkarr.DnsServer.Forwarding;

internal sealed partial class UpstreamForwarder
{
    /// <inheritdoc />
    public async ValueTask<ForwardResult> AskServerAsync(IPEndPoint server, DnsQuestion question, ForwardFlags flags, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(question);
        cancellationToken.ThrowIfCancellationRequested();
        var key = new ForwardKey(question.Name, question.Type, question.Class, flags, server);
        if (_cache is not null && _cache.TryGet(key, out var cached))
        {
            _metrics.ForwardCache(hit: true);
            return cached;
        }

        _metrics.ForwardCache(hit: false);
        if (_disposed.IsCancellationRequested)
        {
            return ForwardResult.Failed;
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposed.Token);
        Exchange exchange;
        try
        {
            exchange = await ExchangeAsync(server, -1, question, flags, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_disposed.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return ForwardResult.Failed;
        }
        catch (Exception e) when (e is not (OperationCanceledException or OutOfMemoryException))
        {
            // A bug: this server counts as failed (the caller asks the next), never an exception.
            LogFlightFailed(_logger, e);
            return ForwardResult.Failed;
        }

        switch (exchange.Outcome)
        {
            case ExchangeOutcome.Answered:
                var response = exchange.Message!;
                _cache?.TryAdd(key, response, exchange.WireLength);
                return new ForwardResult(ForwardStatus.Answered, response);
            case ExchangeOutcome.TimedOut:
                return ForwardResult.Timeout;
            default:
                return ForwardResult.Failed;
        }
    }
}
