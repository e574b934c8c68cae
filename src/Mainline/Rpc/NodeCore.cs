// The protocol state machine of one DHT node (shared spec §11.1), without I/O ("sans-IO"):
//
//   driver ──Receive(datagram, from, now)──▶ NodeCore: routing table, requests in flight, ──TryTakeOutgoing──▶ driver
//          ──Tick(now) at NextDeadline───▶           lookups, puts, storage, tokens,
//          ──StartLookup / StartPut───────▶           rate limits, address votes
//
// It owns no socket, thread, timer, clock or random source: every entry point carries the time (`now`, ms on the
// driver's clock), randomness comes from an injected IEntropy, and datagrams to send wait in a FIFO the driver
// drains. So one protocol implementation has two drivers: LocalNode (one UDP socket, one thread, TimeProvider)
// and the simulator (virtual time, a virtual network, 100,000 cores in one process), and a seeded run replays bit
// for bit. Nothing here locks: a core is used by one thread at a time, its driver's. Receive and Tick catch and log
// a failing handler (one bug must not stop the node); commands (StartLookup, StartPut, …) throw to their caller.
//
// NextDeadline is exact (the earliest request expiry, or the next purge, refresh or empty-table retry), so a
// driver sleeps until then rather than polling. Requests all time out RequestTimeout after they were sent, so
// sending order is expiry order: a FIFO of requests makes the next expiry O(1).
//
// Outcomes never depend on the iteration order of a hash container keyed by a type whose hash is seeded per
// process (NodeId, IPAddress, IPEndPoint, string): those containers are only probed (Contains, TryGetValue);
// whatever is iterated to decide what is sent, in which order, or what is evicted is a list, a FIFO or an LRU.
using System.Buffers.Binary;
using System.Net;
using Mainline.Krpc;
using Mainline.Routing;
using Mainline.Server;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mainline.Rpc;

/// <summary>A datagram for the driver to send.</summary>
/// <param name="Datagram">The encoded KRPC message.</param>
/// <param name="To">Where it goes.</param>
internal readonly record struct Outgoing(byte[] Datagram, IPEndPoint To)
{
    /// <summary>True for our own query (a driver may pace these); false for a reply to a peer's query.</summary>
    public bool IsQuery { get; init; }
}

/// <summary>An outgoing request waiting for its reply.</summary>
internal sealed class Pending
{
    public required uint Tid { get; init; }
    public required IPEndPoint To { get; init; }
    public required long SentAt { get; init; }

    /// <summary>When the request times out: from this time on, Tick settles it as unanswered.</summary>
    public required long Deadline { get; init; }
    public Lookup? Lookup { get; init; }
    public bool Primary { get; init; }
    public PutOperation? Put { get; init; }

    /// <summary>For a lookup query: hops from the lookup's first nodes to this one (0 for those it started from).</summary>
    public int Hop { get; init; }

    /// <summary>Answered or timed out: no longer in flight (it may still sit in the expiry FIFO).</summary>
    public bool Settled { get; set; }
}

/// <summary>The protocol state machine of one node: no socket, thread, clock, timer or random source of its own.</summary>
internal sealed partial class NodeCore
{
    /// <summary>Our client version <c>v</c>: "CS" (C#) + version 0.1.</summary>
    public static readonly byte[] Version = [(byte)'C', (byte)'S', 0, 1];

    private const long TokenFreshMs = 5 * 60 * 1000;
    private const long EmptyTableRetryMs = 5_000;

    private readonly DhtOptions _options;
    private readonly ILogger _log;
    private readonly IEntropy _entropy;
    private readonly IReadOnlyList<IPEndPoint> _bootstrap;
    private readonly long _timeoutMs;
    private readonly long _purgeMs;
    private readonly long _refreshMs;
    private readonly Storage _storage;
    private readonly Tokens _tokens;
    private readonly RateLimiter _limiter;
    private readonly LookupCache _cache = new();
    private readonly Dictionary<uint, Pending> _pending = [];

    // The requests in sending order, which is expiry order (one timeout for all); answered ones are dropped from
    // the head as they reach it, so the head is always the next request to expire.
    private readonly Queue<Pending> _expiries = new();
    private readonly Queue<Outgoing> _outgoing = new();
    private readonly Dictionary<LookupKey, Lookup> _lookups = [];
    private readonly Dictionary<NodeId, PutOperation> _mutablePuts = [];
    private readonly List<PutOperation> _allPuts = [];
    private readonly AddressVotes _votes = new();
    private RoutingTable _table;
    private Lookup? _selfLookup;
    private long _now;
    private long _lastRefresh;
    private long _lastPurge;
    private long _lastEmptyRetry;
    private bool _stopped;

    /// <summary>A node with id <paramref name="id"/> at <paramref name="localEndPoint"/>, started at <paramref name="now"/>.</summary>
    /// <param name="options">The node's options (mode, timeouts, limits, storage); its clock and logger are the driver's.</param>
    /// <param name="bootstrap">Resolved bootstrap endpoints.</param>
    /// <param name="id">The node's id.</param>
    /// <param name="localEndPoint">Where the node receives: never queried, and (when private) a private network.</param>
    /// <param name="entropy">Every random draw of the protocol.</param>
    /// <param name="now">The start time, ms on the driver's clock.</param>
    /// <param name="logger">Where events go; none when null.</param>
    public NodeCore(
        DhtOptions options, IReadOnlyList<IPEndPoint> bootstrap, NodeId id, IPEndPoint localEndPoint, IEntropy entropy, long now,
        ILogger? logger = null)
    {
        _options = options;
        _log = logger ?? NullLogger.Instance;
        _entropy = entropy;
        _bootstrap = bootstrap;
        _now = now;
        _timeoutMs = Milliseconds(options.RequestTimeout);
        _purgeMs = Milliseconds(options.PurgeInterval);
        _refreshMs = Milliseconds(options.RefreshInterval);
        _storage = new Storage(options.Server, entropy);
        _tokens = new Tokens(now, entropy);
        _limiter = new RateLimiter(options);
        _table = new RoutingTable(id);
        ServerMode = options.Mode == DhtMode.Server;
        LocalEndPoint = localEndPoint;
        PrivateNetwork = NodeId.IsExempt(localEndPoint.Address) || bootstrap.Any(b => NodeId.IsExempt(b.Address));
        _lastRefresh = now;
        _lastPurge = now;
        _lastEmptyRetry = now - EmptyTableRetryMs; // an empty table with a bootstrap list retries at once
    }

    /// <summary>The time of the current call, ms on the driver's clock (never decreases); every timeout and expiry
    /// uses it. Set by every entry point.</summary>
    public long Now => _now;

    public IPEndPoint LocalEndPoint { get; }

    public NodeId Id => _table.Id;

    public bool ServerMode { get; private set; }

    public bool Firewalled { get; private set; } = true;

    /// <summary>
    /// True when this node runs on a private network: bound to a loopback, private or link-local address, or
    /// bootstrapping from one (every testnet). Such a node takes private endpoints from its peers' node lists
    /// and its address from fewer voters; a public node refuses both. Tests set it to act as a public node on
    /// loopback.
    /// </summary>
    public bool PrivateNetwork
    {
        get => _votes.PrivateNetwork;
        internal set => _votes.PrivateNetwork = value;
    }

    public IPEndPoint? PublicEndPoint { get; private set; }

    public RoutingTable Table => _table;

    public LookupCache Cache => _cache;

    public Storage Storage => _storage;

    public Tokens Tokens => _tokens;

    public IReadOnlyList<IPEndPoint> BootstrapNodes => _bootstrap;

    /// <summary>True once <see cref="Shutdown"/> ran: the core then ignores datagrams and ticks.</summary>
    public bool Stopped => _stopped;

    /// <summary>Where the requests in flight went, in sending order (tests wait on it before moving a fake clock).</summary>
    internal List<IPEndPoint> PendingEndPoints() => [.. _expiries.Where(p => !p.Settled).Select(p => p.To)];

    /// <summary>Requests in flight.</summary>
    public int PendingCount => _pending.Count;

    /// <summary>Requests the pending table has room for without growing (tests).</summary>
    internal int PendingCapacity => _pending.EnsureCapacity(0);

    /// <summary>Datagrams waiting for the driver.</summary>
    public int OutgoingCount => _outgoing.Count;

    /// <summary>The earliest <see cref="Now"/> at which <see cref="Tick"/> has work: the next request expiry or the
    /// next maintenance (purge, refresh, empty-table retry); at or before <see cref="Now"/> when work is due.
    /// <see cref="long.MaxValue"/> once stopped.</summary>
    public long NextDeadline
    {
        get
        {
            if (_stopped)
            {
                return long.MaxValue;
            }

            var next = Math.Min(_lastPurge + _purgeMs, _lastRefresh + _refreshMs);
            if (EmptyTableRetryWanted)
            {
                next = Math.Min(next, _lastEmptyRetry + EmptyTableRetryMs);
            }

            // (Reading it drops answered queries from the head of the soft-deadline queue: no wake-up for them.)
            next = Math.Min(next, NextSoftDeadline());
            return _expiries.TryPeek(out var first) ? Math.Min(next, first.Deadline) : next;
        }
    }

    private bool EmptyTableRetryWanted => _bootstrap.Count > 0 && _selfLookup is null && _table.IsEmpty;

    /// <summary>Moves the clock to <paramref name="now"/> (an earlier time is ignored): drivers call it before a
    /// command (<see cref="StartLookup"/>, <see cref="StartPut"/>, …) so that it runs on the current time.</summary>
    public void SetTime(long now)
    {
        if (now > _now)
        {
            _now = now;
        }
    }

    /// <summary>Handles one datagram from <paramref name="from"/>; bad input is dropped (or answered with an error),
    /// never thrown.</summary>
    public void Receive(ReadOnlyMemory<byte> datagram, IPEndPoint from, long now)
    {
        SetTime(now);
        if (_stopped)
        {
            return;
        }

        // The decoded message may point into the datagram (a reply's nodes) but does not outlive this call, so a
        // driver may reuse the buffer for its next datagram.
        Guarded(static (core, d) => core.OnDatagram(d.Data, d.From), (Data: datagram, From: from));
    }

    /// <summary>Times out the requests whose deadline has come and runs the maintenance that is due.</summary>
    public void Tick(long now)
    {
        SetTime(now);
        if (_stopped)
        {
            return;
        }

        while (_expiries.TryPeek(out var p) && p.Deadline <= _now)
        {
            _expiries.Dequeue();
            if (!p.Settled)
            {
                p.Settled = true;
                _pending.Remove(p.Tid);
                Guarded(static (core, p) => core.Settle(p), p);
            }
        }

        DropSettled();
        ExpireSoftDeadlines();
        Guarded(static (core, _) => core.Maintain(core._now), 0);
    }

    /// <summary>The next datagram to send, in the order the node produced them.</summary>
    public bool TryTakeOutgoing(out Outgoing datagram) => _outgoing.TryDequeue(out datagram);

    /// <summary>Runs a handler; a bug in one handler must not stop the node, so it is logged.</summary>
    private void Guarded<T>(Action<NodeCore, T> handler, T state)
    {
        try
        {
            handler(this, state);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.HandlerFailed(_log, e);
        }
    }

    private static long Milliseconds(TimeSpan interval) => Math.Max(1, (long)interval.TotalMilliseconds);

    /// <summary>Drops answered requests from the head of the expiry FIFO, so that the head is the next expiry.</summary>
    private void DropSettled()
    {
        while (_expiries.TryPeek(out var p) && p.Settled)
        {
            _expiries.Dequeue();
        }
    }

    /// <summary>A request is over (timed out): advance its lookup or put.</summary>
    private void Settle(Pending p)
    {
        if (p.Lookup is { } lookup)
        {
            lookup.InFlight.Remove(p.Tid);
            if (p.Primary)
            {
                lookup.Slow.Remove(p.To);
                lookup.TimedOut(p.To);
            }

            Advance(lookup);
        }
        else if (p.Put is { } put)
        {
            put.InFlight.Remove(p.Tid);
            CheckPut(put);
        }
        else
        {
            OnProbeTimeout(p.Tid);
        }
    }

    private void Maintain(long now)
    {
        if (now - _lastPurge >= _purgeMs)
        {
            _lastPurge = now;

            // The request tables keep the size of their busiest moment (a join's lookups, a burst of gets) while the
            // node mostly idles after it: each purge pass gives back what the requests in flight no longer use.
            _pending.TrimExcess();
            _expiries.TrimExcess();
            _softExpiries.TrimExcess();
            foreach (var node in _table.Purge(now))
            {
                Send(new PingQuery(Id), node.EndPoint, null, false, null);
            }
        }

        var refreshDue = now - _lastRefresh >= _refreshMs;
        if (refreshDue)
        {
            _lastRefresh = now;
            if (_options.Mode == DhtMode.Adaptive && !ServerMode && !Firewalled)
            {
                ServerMode = true;
                Log.SwitchedToServer(_log, Id);
            }
        }

        if (_bootstrap.Count > 0 && _selfLookup is null
            && (refreshDue || (_table.IsEmpty && now - _lastEmptyRetry >= EmptyTableRetryMs)))
        {
            _lastEmptyRetry = now;
            StartSelfLookup();
        }
        else if (refreshDue && _bootstrap.Count == 0)
        {
            BeginRefresh(); // no self-lookup to follow (nothing to bootstrap from): the buckets still get refreshed
        }
    }

    /// <summary>Starts (or joins) the find_node lookup on our own id.</summary>
    public Lookup StartSelfLookup()
    {
        var lookup = StartLookup(new LookupKey(Id, LookupKind.FindNode, null), null);
        if (_selfLookup is null && !lookup.Done)
        {
            _selfLookup = lookup;
            lookup.OnCompleted(_ => _selfLookup = null);
        }

        return lookup;
    }

    /// <summary>
    /// A table for <paramref name="newId"/> holding this table's nodes, filed into buckets by their distance to
    /// the new id: an id change (our public address moved) keeps the node's view of the network instead of
    /// starting over from the bootstrap list. Nodes that no longer fit a full bucket are left out.
    /// </summary>
    private RoutingTable Rebucketed(NodeId newId)
    {
        var table = new RoutingTable(newId);
        foreach (var entry in _table.Entries)
        {
            table.Add(entry.Node, entry.LastSeen);
        }

        return table;
    }

    // ---- datagrams ----

    private void OnDatagram(ReadOnlyMemory<byte> data, IPEndPoint from)
    {
        if (data.Length > Limits.MaxDatagramLength)
        {
            return; // nothing honest is this long; decoding it would only spend the node's time
        }

        var status = KrpcCodec.TryDecode(data, out var message);
        switch (status)
        {
            case DecodeStatus.Drop:
                return;
            case DecodeStatus.Malformed:
                if (ServerMode && _limiter.Allow(from.Address, _now))
                {
                    SendReply(KrpcCodec.EncodeError(message!.TransactionId, KrpcError.Create(ErrorCodes.Protocol, "Invalid arguments"), Version, from), from, _now);
                }

                return;
            case DecodeStatus.UnknownMethod:
                if (ServerMode && _limiter.Allow(from.Address, _now))
                {
                    SendReply(KrpcCodec.EncodeError(message!.TransactionId, KrpcError.Create(ErrorCodes.MethodUnknown, "Method Unknown"), Version, from), from, _now);
                }

                return;
        }

        if (message!.Kind == MessageKind.Query)
        {
            OnQuery(message, from);
        }
        else
        {
            OnReply(message, from);
        }
    }

    private void OnReply(Message message, IPEndPoint from)
    {
        if (message.TransactionId.Length != 4)
        {
            return;
        }

        // A reply counts only from the exact endpoint we queried: anything else is a forgery or a stray, and
        // must neither complete the request nor feed the lookup, the table or the address votes.
        var tid = BinaryPrimitives.ReadUInt32BigEndian(message.TransactionId);
        if (!_pending.TryGetValue(tid, out var p) || !p.To.Equals(from))
        {
            return;
        }

        _pending.Remove(tid);
        p.Settled = true;
        DropSettled();
        var now = _now;
        if (now >= p.Deadline)
        {
            Settle(p); // late: it counts as the timeout it is
            return;
        }

        var roundTrip = now - p.SentAt;
        _rtt.Add(roundTrip); // an error or a read-only reply is a round trip all the same
        var responder = message.Response is { } r && !message.ReadOnly ? r.Id : (NodeId?)null;
        if (responder is { } id)
        {
            _table.Seen(id, from, now);
        }

        if (p.Lookup is { } lookup)
        {
            OnLookupReply(lookup, p, message, from, now);
        }
        else if (p.Put is { } put)
        {
            OnPutReply(put, p, message);
        }
        else
        {
            OnProbeReply(p.Tid, message, now);
        }

        if (responder is { } node)
        {
            _table.Measured(node, from, roundTrip); // after the handlers, which may just have added the node
        }
    }

    // ---- sending ----

    /// <summary>Sends a query: it waits in the outgoing FIFO, and its request expires RequestTimeout from now.</summary>
    internal uint Send(Query query, IPEndPoint to, Lookup? lookup, bool primary, PutOperation? put) =>
        SendRequest(query, to, lookup, primary, put, hop: 0).Tid;

    /// <summary>As <see cref="Send"/>, and returns the request.</summary>
    private Pending SendRequest(Query query, IPEndPoint to, Lookup? lookup, bool primary, PutOperation? put, int hop)
    {
        uint tid;
        do
        {
            tid = NextTid();
        }
        while (_pending.ContainsKey(tid));

        Span<byte> t = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(t, tid);
        var pending = new Pending
        {
            Tid = tid, To = to, SentAt = _now, Deadline = _now + _timeoutMs, Lookup = lookup, Primary = primary, Put = put, Hop = hop,
        };
        _pending[tid] = pending;
        _expiries.Enqueue(pending);
        _outgoing.Enqueue(new Outgoing(KrpcCodec.EncodeQuery(t, query, Version, readOnly: !ServerMode), to) { IsQuery = true });
        return pending;
    }

    /// <summary>Sends a reply to a query when the global reply-byte budget has room for it, else drops it.</summary>
    private void SendReply(byte[] reply, IPEndPoint to, long now)
    {
        if (_limiter.AllowReply(reply.Length, now))
        {
            _outgoing.Enqueue(new Outgoing(reply, to));
        }
    }

    /// <summary>The next transaction id: 4 random bytes (the caller keeps ids unique among requests in flight).</summary>
    private uint NextTid()
    {
        Span<byte> b = stackalloc byte[4];
        _entropy.Fill(b);
        return BinaryPrimitives.ReadUInt32BigEndian(b);
    }

    // ---- shutdown ----

    /// <summary>
    /// Stops the node: every waiting put ends with a result marked <see cref="PutResult.Stopped"/> (the public API
    /// turns it into the same ObjectDisposedException as any call on a stopped node), then every lookup, those the
    /// puts started included, ends with what it has (subscribers complete, callers get partial results). Nothing
    /// is sent afterwards: requests in flight and unsent datagrams are dropped.
    /// </summary>
    public void Shutdown()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        DropRefresh();
        foreach (var put in _allPuts.ToList())
        {
            put.Finish(StoppedResult(put));
        }

        _allPuts.Clear();
        _mutablePuts.Clear();

        // In starting order, so that callbacks run in the same order in every process.
        foreach (var lookup in _lookups.Values.OrderBy(l => l.Number).ToList())
        {
            Guarded(static (core, l) => core.FinishLookup(l), lookup);
        }

        _pending.Clear();
        _expiries.Clear();
        _softExpiries.Clear();
        _outgoing.Clear();
    }

    private static PutResult StoppedResult(PutOperation op) => new(PutStatus.Timeout, op.Target, op.Successes) { Stopped = true };

    private static partial class Log
    {
        [LoggerMessage(2, LogLevel.Information, "DHT node {Id} is reachable: switching to server mode")]
        public static partial void SwitchedToServer(ILogger logger, NodeId id);

        [LoggerMessage(3, LogLevel.Information, "DHT node changed its id to {Id}, secure for public address {Address}")]
        public static partial void IdChanged(ILogger logger, NodeId id, IPEndPoint address);

        [LoggerMessage(4, LogLevel.Error, "DHT loop handler failed")]
        public static partial void HandlerFailed(ILogger logger, Exception exception);

        [LoggerMessage(5, LogLevel.Debug, "DHT {Kind} lookup for {Target} done in {ElapsedMs} ms: {Queried} queried, {Responders} responders with tokens, {Values} values")]
        public static partial void LookupDone(ILogger logger, LookupKind kind, NodeId target, long elapsedMs, int queried, int responders, int values);

        [LoggerMessage(6, LogLevel.Debug, "DHT put {Target}: {Status}, stored on {StoredOn} of {Sent} nodes")]
        public static partial void PutDone(ILogger logger, NodeId target, PutStatus status, int storedOn, int sent);

        [LoggerMessage(7, LogLevel.Debug, "DHT public address voted {Address}: firewalled until our ping through it returns")]
        public static partial void PublicAddressVoted(ILogger logger, IPEndPoint address);
    }
}
