// Round-trip estimates and the adaptive ("soft") timeout of lookup queries.
//
// Every request still expires RequestTimeout (2 s) after it was sent: until then its reply counts. But a lookup
// stops *waiting* for a query once the query is later than the round trips seen so far predict. The query is then
// "slow": it no longer takes one of the lookup's α slots, it no longer keeps the lookup from ending, and its node no
// longer counts among the 20 closest the lookup must hear from. If the reply comes after all (before the lookup
// ends), the node is an ordinary responder again. On the real DHT a fifth of the nodes a lookup learns of never
// answer (NAT, firewall, gone), so a lookup that waits the full timeout for each of them ends seconds after its
// last useful reply; libtorrent's "short timeout" works the same way.
//
// The prediction, per request:
//   - every reply to one of our queries is a sample of this node's network (RFC 6298: smoothed RTT and mean
//     deviation, integer arithmetic so that a seeded run replays bit for bit); a query to a node we know nothing of
//     is slow after SRTT + 4·RTTVAR, a high quantile of the round trips we see (before the first sample, 1 s);
//   - a node in the routing table keeps its own smoothed RTT; a query to it is slow after twice that, when sooner
//     (a node that usually answers fast and is twice as late as usual is more likely gone than slow);
//   - never sooner than MinSoftTimeoutMs (loopback and LAN round trips must not turn every query slow at once)
//     and never later than the request timeout.
using System.Net;

namespace Mainline.Rpc;

/// <summary>RFC 6298's smoothed round-trip time and mean deviation, in integer milliseconds.</summary>
internal sealed class RttEstimator
{
    // Scaled as in RFC 6298's reference code: SRTT × 8 and RTTVAR × 4, so the 1/8 and 1/4 gains are shifts.
    private long _srtt8;
    private long _rttvar4;

    /// <summary>Samples taken so far.</summary>
    public long Samples { get; private set; }

    /// <summary>The smoothed round trip, ms (0 before the first sample).</summary>
    public long Smoothed => _srtt8 >> 3;

    /// <summary>SRTT + 4·RTTVAR, ms; <paramref name="initial"/> before the first sample.</summary>
    public long Timeout(long initial) => Samples == 0 ? initial : (_srtt8 >> 3) + _rttvar4;

    /// <summary>Adds a measured round trip of <paramref name="sampleMs"/>.</summary>
    public void Add(long sampleMs)
    {
        sampleMs = Math.Max(0, sampleMs);
        if (Samples++ == 0)
        {
            _srtt8 = sampleMs << 3;
            _rttvar4 = sampleMs << 1; // RTTVAR = R/2
            return;
        }

        var error = sampleMs - (_srtt8 >> 3);
        _srtt8 += error;
        _rttvar4 += Math.Abs(error) - (_rttvar4 >> 2);
    }
}

internal sealed partial class NodeCore
{
    /// <summary>No query turns slow sooner than this, whatever the round trips seen.</summary>
    internal const long MinSoftTimeoutMs = 100;

    /// <summary>The soft timeout before any round trip was measured (RFC 6298's initial RTO).</summary>
    internal const long InitialSoftTimeoutMs = 1_000;

    private readonly RttEstimator _rtt = new();

    // The lookup queries by soft deadline; the send counter breaks ties, so the order is the same in every process.
    private readonly PriorityQueue<Pending, (long Deadline, long Order)> _softExpiries = new();
    private long _sendOrder;

    /// <summary>The round trips this node measured (diagnostics and tests).</summary>
    internal RttEstimator Rtt => _rtt;

    /// <summary>When a lookup stops waiting for a query to <paramref name="node"/> sent now.</summary>
    private long SoftDeadline(NodeId? node, IPEndPoint to)
    {
        var timeout = _rtt.Timeout(InitialSoftTimeoutMs);
        if (node is { } id && _table.KnownRoundTrip(id, to) is > 0 and var known)
        {
            timeout = Math.Min(timeout, 2 * known);
        }

        return _now + Math.Clamp(timeout, MinSoftTimeoutMs, _timeoutMs);
    }

    /// <summary>Files a lookup query under its soft deadline.</summary>
    private void WatchSoftDeadline(Pending pending, NodeId? node)
    {
        if (_options.AdaptiveTimeouts)
        {
            _softExpiries.Enqueue(pending, (SoftDeadline(node, pending.To), _sendOrder++));
        }
    }

    /// <summary>The next soft deadline of a query still in flight, or <see cref="long.MaxValue"/>.</summary>
    private long NextSoftDeadline()
    {
        DropSettledSoft();
        return _softExpiries.TryPeek(out _, out var first) ? first.Deadline : long.MaxValue;
    }

    private void DropSettledSoft()
    {
        while (_softExpiries.TryPeek(out var p, out _) && (p.Settled || p.Lookup is null or { Done: true }))
        {
            _softExpiries.Dequeue();
        }
    }

    /// <summary>Marks the lookup queries whose soft deadline has come as slow and lets their lookups go on.</summary>
    private void ExpireSoftDeadlines()
    {
        while (_softExpiries.TryPeek(out var p, out var due) && due.Deadline <= _now)
        {
            _softExpiries.Dequeue();
            if (!p.Settled && p.Lookup is { Done: false } lookup && lookup.InFlight.Remove(p.Tid))
            {
                lookup.Slow.Add(p.To);
                Guarded(static (core, l) => core.Advance(l), lookup);
            }
        }
    }
}
