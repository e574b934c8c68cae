// Network lookups of the packet source: at most one per key at a time (every query for the key waits on it), at most
// MaxConcurrentLookups over all keys, each cut at MaxLookupTime, none outliving Dispose. A lookup's result is merged
// into the table under the entry's lock and then handed to its waiters, so a waiter sees the same answer the next
// query would.
//
//   result                         packet held                               nothing or a marker held
//   found, more recent / new       replaced, zone built once                 the packet
//   found, same packet             last seen = the later of both             -
//   found, older                   kept; no lookup for MinTtl                -
//   not found / invalid packet     kept; no lookup for NegativeTtl           "not found" for NegativeTtl
//   no responses, error, timeout   kept; back-off 2 s, 4 s … 30 s            "failed" for the back-off (never "not found")

using System.Net;
using Microsoft.Extensions.Logging;
using Pkarr.Client;
using Pkarr.DnsServer.Answering;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.DnsServer.Packets;

internal sealed partial class PkarrPacketSource
{
    /// <summary>Under <c>lock (entry)</c>: claims a lookup slot and <paramref name="client"/>'s lookup token and sets
    /// the entry's flight; or returns why not (Failed when stopping or too many lookups run, RateLimited).</summary>
    private PacketLookup? TryBegin(Entry entry, IPAddress client)
    {
        if (_stopping.IsCancellationRequested)
        {
            return PacketLookup.Failed;
        }

        if (Interlocked.Increment(ref _running) > _options.MaxConcurrentLookups)
        {
            Interlocked.Decrement(ref _running);
            LogTooManyLookups(_logger, entry.Key, _options.MaxConcurrentLookups);
            return PacketLookup.Failed;
        }

        if (!_limits.TryAcquireLookup(client))
        {
            Interlocked.Decrement(ref _running);
            return PacketLookup.RateLimited;
        }

        // The deadline starts now, on the source's clock, not when the thread pool gets to the lookup.
        entry.Flight = new Flight(new CancellationTokenSource(_options.MaxLookupTime, _time), _time.GetTimestamp());
        return null;
    }

    /// <summary>Runs a begun lookup on the thread pool: a resolve that does work before its first await delays no
    /// query.</summary>
    private void Launch(Entry entry, Flight flight) => _ = Task.Run(() => RunAsync(entry, flight));

    private async Task RunAsync(Entry entry, Flight flight)
    {
        ResolveResult? result = null;
        bool timedOut = false;
        var answer = PacketLookup.Failed;
        try
        {
            using (var linked = CancellationTokenSource.CreateLinkedTokenSource(flight.Deadline.Token, _stopping.Token))
            {
                try
                {
                    result = await _resolve(entry.Key, linked.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (linked.IsCancellationRequested)
                {
                    timedOut = flight.Deadline.IsCancellationRequested;
                }
                catch (Exception exception)
                {
                    // The resolve is the network's code: whatever it throws, only this key's lookup fails.
                    LogResolveThrew(_logger, entry.Key, exception);
                }
            }

            var now = Timestamp.WallClock(_time);
            string outcome;
            lock (entry)
            {
                outcome = Merge(entry, result, timedOut, now);
                answer = AnswerOf(entry.Held, now);
            }

            _metrics.Lookup(outcome);
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                double milliseconds = _time.GetElapsedTime(flight.Started).TotalMilliseconds;
                LogLookup(_logger, entry.Key, outcome, milliseconds);
            }
        }
        finally
        {
            lock (entry)
            {
                entry.Flight = null;
            }

            flight.Deadline.Dispose();
            try
            {
                // Before the waiters resume: the table is within its bound by the time anyone sees the result.
                EvictIfNeeded();
            }
            finally
            {
                // The slot is given back only once the table has settled, so no running lookup means a table at rest.
                Interlocked.Decrement(ref _running);
                flight.Done.TrySetResult(answer);
            }
        }
    }

    /// <summary>Under <c>lock (entry)</c>: folds a lookup's result into the entry (see the table at the top); returns
    /// the lookup's outcome for the metrics.</summary>
    private string Merge(Entry entry, ResolveResult? result, bool timedOut, Timestamp now)
    {
        var held = entry.Held;
        Held next;
        string outcome;
        if (result is { Found: true } && result.Packet.PublicKey == entry.Key)
        {
            outcome = "found";
            next = MergeFound(entry.Key, held, result.Entry, now);
        }
        else if (result is { Found: false, Error.Kind: ResolveErrorKind.NotFound or ResolveErrorKind.InvalidSignedPacket })
        {
            // The network answered and has nothing newer: a held packet is still the owner's latest word we know.
            // Its age is kept (it was not seen again), but no lookup starts before NegativeTtl, where pkdns starts one
            // per query.
            outcome = "not_found";
            var until = After(now, Seconds(_options.NegativeTtl));
            next = held?.Kind == HeldKind.Packet
                ? held.Recheck(until, failures: 0)
                : new Held { Kind = HeldKind.NotFound, LastSeen = now, RefreshAt = until };
        }
        else
        {
            if (result is { Found: true })
            {
                LogWrongKey(_logger, entry.Key, result.Packet.PublicKey);
            }

            // Not an answer about the key: never "not found"; a held packet stays; the key backs off.
            outcome = timedOut || result?.Error?.Kind == ResolveErrorKind.NoResponses ? "timeout" : "failed";
            int failures = (held?.Failures ?? 0) + 1;
            var until = After(now, Backoff(failures));
            next = held?.Kind == HeldKind.Packet
                ? held.Recheck(until, failures)
                : new Held { Kind = HeldKind.Failed, LastSeen = now, RefreshAt = until, Failures = failures };
        }

        Interlocked.Add(ref _bytes, next.Weight - entry.Weight);
        entry.Weight = next.Weight;
        entry.Held = next;
        return outcome;
    }

    /// <summary>A found packet against the held one: never back to an older packet (§3.7), the same packet only
    /// moves its last-seen time forward, a newer one is indexed once.</summary>
    private Held MergeFound(PublicKey key, Held? held, CachedPacket found, Timestamp now)
    {
        var packet = found.Packet;
        var seen = found.LastSeen > now ? now : found.LastSeen;
        var recheck = After(now, Seconds(_options.MinTtl));
        if (held?.Zone is { } zone)
        {
            if (packet.IsSameAs(zone.Packet))
            {
                var lastSeen = seen > held.LastSeen ? seen : held.LastSeen;
                return new Held
                {
                    Kind = HeldKind.Packet,
                    Zone = zone,
                    LastSeen = lastSeen,
                    Ttl = held.Ttl,
                    RefreshAt = Later(After(lastSeen, Seconds(held.Ttl)), recheck),
                };
            }

            if (!packet.MoreRecentThan(zone.Packet))
            {
                LogOlderIgnored(_logger, key, packet.Timestamp, zone.Packet.Timestamp);
                return held.Recheck(Later(After(held.LastSeen, Seconds(held.Ttl)), recheck), failures: 0);
            }
        }

        uint ttl = packet.Ttl(_options.MinTtl, _options.MaxTtl);
        return new Held
        {
            Kind = HeldKind.Packet,
            Zone = PacketZone.Create(packet),
            LastSeen = seen,
            Ttl = ttl,
            RefreshAt = Later(After(seen, Seconds(ttl)), recheck),
        };
    }

    private PacketLookup AnswerOf(Held? held, Timestamp now) => held?.Kind switch
    {
        HeldKind.Packet => AgeOf(held.LastSeen, now) is var age && held.Servable(age, _options.ServeStaleTtl)
            ? held.Found(age)
            : PacketLookup.Failed,
        HeldKind.NotFound => PacketLookup.NotFound,
        _ => PacketLookup.Failed,
    };

    /// <summary><see cref="PacketSourceOptions.FailureBackoff"/> doubled per failure after the first, capped.</summary>
    private TimeSpan Backoff(int failures)
    {
        var backoff = _options.FailureBackoff * Math.Pow(2, Math.Min(failures - 1, 20));
        return backoff < _options.MaxFailureBackoff ? backoff : _options.MaxFailureBackoff;
    }

    /// <summary>Whole seconds, at least one: a zero TTL still allows at most one lookup per key per second.</summary>
    private static TimeSpan Seconds(uint seconds) => TimeSpan.FromSeconds(Math.Max(seconds, 1));

    private static Timestamp Later(Timestamp a, Timestamp b) => a > b ? a : b;

    [LoggerMessage(Level = LogLevel.Debug, Message = "Lookup of {Key}: {Outcome} in {Milliseconds:F0} ms")]
    private static partial void LogLookup(ILogger logger, PublicKey key, string outcome, double milliseconds);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Lookup of {Key} still runs after {Seconds} s; the query fails, the lookup goes on and its result is kept")]
    private static partial void LogWaitTimedOut(ILogger logger, PublicKey key, double seconds);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Lookup of {Key} found a packet of {Received}, older than the held one of {Held}; the held packet stays")]
    private static partial void LogOlderIgnored(ILogger logger, PublicKey key, Timestamp received, Timestamp held);

    [LoggerMessage(Level = LogLevel.Debug, Message = "No lookup of {Key}: {Limit} lookups run already")]
    private static partial void LogTooManyLookups(ILogger logger, PublicKey key, int limit);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Resolving {Key} threw; the lookup counts as failed")]
    private static partial void LogResolveThrew(ILogger logger, PublicKey key, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Resolving {Key} returned a packet of {Other}; the lookup counts as failed")]
    private static partial void LogWrongKey(ILogger logger, PublicKey key, PublicKey other);
}
