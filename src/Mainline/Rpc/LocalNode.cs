// The event loop that owns one DHT node's state (shared spec §11.1; style: one owner for mutable state).
//
//   UDP socket ──datagrams──────────────────────────────┐
//   Dht API ──Command──▶ inbox Channel ──wake datagram──┼──▶ one thread: routing table, in-flight requests,
//   tick: 50 ms with requests in flight, else ≤ 1 s ────┘     lookups, puts, storage, tokens; outbox of queries
//
// Only this thread sends datagrams and reads or writes protocol state, so none of that state needs a lock. The
// thread blocks in poll(2) on the socket: a datagram is decoded and answered on the thread the kernel wakes, and
// a process running many nodes (a testnet) costs one small thread per node rather than thread-pool work items
// queued behind unrelated work. API calls write a closure into the inbox channel and wake the thread with a
// one-byte datagram to its own socket; they await a TaskCompletionSource whose continuations run asynchronously
// (never on the loop). Queries the loop sends wait in an outbox and go out between received datagrams, so the
// replies to a lookup's first queries are handled while the rest of its round is still being sent.
//
// Time comes from DhtOptions.TimeProvider (milliseconds since the node started). With a provider other than the
// system clock (a test's fake clock), a periodic timer of that provider wakes the loop, so that advancing the
// clock runs timeouts and maintenance promptly even though poll(2) itself waits in real time.
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Threading.Channels;
using Mainline.Krpc;
using Mainline.Routing;
using Mainline.Server;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mainline.Rpc;

internal abstract class LoopItem;

internal sealed class Received(byte[] data, IPEndPoint from) : LoopItem
{
    public byte[] Data { get; } = data;

    public IPEndPoint From { get; } = from;
}

internal sealed class Command(Action run) : LoopItem
{
    public Action Run { get; } = run;
}

/// <summary>An outgoing request waiting for its reply.</summary>
internal sealed class Pending
{
    public required uint Tid { get; init; }
    public required IPEndPoint To { get; init; }
    public required long SentAt { get; init; }
    public required Query Query { get; init; }
    public Lookup? Lookup { get; init; }
    public bool Primary { get; init; }
    public PutOperation? Put { get; init; }
}

internal sealed partial class LocalNode : IAsyncDisposable
{
    /// <summary>Our client version <c>v</c>: "CS" (C#) + version 0.1.</summary>
    public static readonly byte[] Version = [(byte)'C', (byte)'S', 0, 1];

    private const long TickMs = 50;

    // With no request in flight only maintenance is due (purge, refresh, the empty-table retry: intervals of
    // seconds to minutes), so an idle node wakes once a second (or at its shortest maintenance interval): a
    // testnet of hundreds of idle nodes in one process then costs little CPU.
    private const long MaxIdleTickMs = 1000;
    private const int MaxReceivesPerSend = 16;
    private const byte WakeByte = (byte)'w';
    private const long TokenFreshMs = 5 * 60 * 1000;
    private const long EmptyTableRetryMs = 5_000;

    private readonly Socket _socket;
    // Written by any thread, read only by the loop (TryRead: the loop never awaits it, it polls the socket).
    private readonly Channel<LoopItem> _inbox = Channel.CreateUnbounded<LoopItem>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Queue<(byte[] Datagram, IPEndPoint To)> _outbox = new();
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly IPEndPoint _wakeEndPoint;
    private readonly DhtOptions _options;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly long _startedAt;
    private readonly ITimer? _clockWake;
    private readonly IReadOnlyList<IPEndPoint> _bootstrap;
    private readonly long _timeoutMs;
    private readonly long _idleTickMs;
    private readonly Storage _storage;
    private readonly Tokens _tokens;
    private readonly RateLimiter _limiter;
    private readonly LookupCache _cache = new();
    private readonly Dictionary<uint, Pending> _pending = [];
    private readonly Dictionary<LookupKey, Lookup> _lookups = [];
    private readonly Dictionary<NodeId, PutOperation> _mutablePuts = [];
    private readonly List<PutOperation> _allPuts = [];
    private int _wakePending;
    private bool _bursting;
    private volatile bool _stopping;
    // Transaction ids come from the OS's cryptographic generator, drawn 64 at a time: an off-path forger who
    // sees some of our ids (its own queries' replies) learns nothing about the next ones.
    private readonly byte[] _tidPool = new byte[256];
    private int _tidPoolUsed = 256;
    private readonly AddressVotes _votes = new();
    private RoutingTable _table;
    private Lookup? _selfLookup;
    private long _lastTick;
    private long _lastRefresh;
    private long _lastPurge;
    private long _lastEmptyRetry = long.MinValue / 2;
    private bool _stopped;

    private LocalNode(Socket socket, DhtOptions options, IReadOnlyList<IPEndPoint> bootstrap, NodeId id)
    {
        _socket = socket;
        _options = options;
        _log = options.LoggerFactory?.CreateLogger("Mainline.Dht") ?? NullLogger.Instance;
        _time = options.TimeProvider;
        _startedAt = _time.GetTimestamp();
        _bootstrap = bootstrap;
        _timeoutMs = (long)options.RequestTimeout.TotalMilliseconds;
        _idleTickMs = Math.Clamp(
            (long)Math.Min(options.PurgeInterval.TotalMilliseconds, options.RefreshInterval.TotalMilliseconds), TickMs, MaxIdleTickMs);
        _storage = new Storage(options.Server);
        var now = Now;
        _tokens = new Tokens(now);
        _limiter = new RateLimiter(options);
        _table = new RoutingTable(id);
        ServerMode = options.Mode == DhtMode.Server;
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        PrivateNetwork = NodeId.IsExempt(LocalEndPoint.Address) || bootstrap.Any(b => NodeId.IsExempt(b.Address));
        _wakeEndPoint = LocalEndPoint.Address.Equals(IPAddress.Any) ? new IPEndPoint(IPAddress.Loopback, LocalEndPoint.Port) : LocalEndPoint;
        _lastRefresh = now;
        _lastPurge = now;
        if (_time != TimeProvider.System)
        {
            var period = TimeSpan.FromMilliseconds(TickMs);
            _clockWake = _time.CreateTimer(static state => ((LocalNode)state!).Wake(), this, period, period);
        }
    }

    /// <summary>Milliseconds since the node started, on the options' clock; every timeout and expiry uses it.</summary>
    public long Now => (long)_time.GetElapsedTime(_startedAt).TotalMilliseconds;

    public IPEndPoint LocalEndPoint { get; }

    /// <summary>When the loop last ran its tick (timeouts, maintenance), in <see cref="Now"/> milliseconds.</summary>
    internal long LastTick => _lastTick;

    // ---- loop-owned state exposed to the loop's own code ----
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

    /// <summary>Where the requests in flight went (tests wait on it before moving a fake clock).</summary>
    internal List<IPEndPoint> PendingEndPoints() => [.. _pending.Values.Select(p => p.To)];

    public static async Task<LocalNode> StartAsync(DhtOptions options, CancellationToken cancellationToken)
    {
        var bootstrap = await ResolveAsync([.. (IEnumerable<EndPoint>?)options.Bootstrap ?? DhtOptions.DefaultBootstrap, .. options.ExtraBootstrap], cancellationToken).ConfigureAwait(false);
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            try
            {
                // A lookup's replies arrive in bursts (up to 40 at once); the OS default (~208 KiB on Linux,
                // ~90 small datagrams) can overflow under load. Best effort: the OS may cap it.
                socket.ReceiveBufferSize = 1 << 20;
            }
            catch (SocketException)
            {
            }

            Bind(socket, options);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var id = options.PublicIp is { } ip ? NodeId.CreateSecure(ip) : NodeId.Random();
        var node = new LocalNode(socket, options, bootstrap, id);
        node.Start();
        return node;
    }

    private static void Bind(Socket socket, DhtOptions options)
    {
        var address = options.BindAddress;
        if (options.Port is { } port)
        {
            socket.Bind(new IPEndPoint(address, port));
            return;
        }

        try
        {
            socket.Bind(new IPEndPoint(address, 6881));
        }
        catch (SocketException)
        {
            socket.Bind(new IPEndPoint(address, 0));
        }
    }

    /// <summary>Resolves the bootstrap endpoints once: IPv4 only; unresolvable names are skipped, as the reference
    /// does, and so are endpoints no query should go to (0.0.0.0, multicast, port 0: see <see cref="Endpoints.IsUsable"/>).</summary>
    internal static async Task<IReadOnlyList<IPEndPoint>> ResolveAsync(IEnumerable<EndPoint> entries, CancellationToken cancellationToken)
    {
        var result = new List<IPEndPoint>();
        foreach (var entry in entries.Distinct())
        {
            IPEndPoint? resolved = entry switch
            {
                IPEndPoint ip => ip,
                DnsEndPoint dns when IPAddress.TryParse(dns.Host, out var literal) => new IPEndPoint(literal, dns.Port),
                DnsEndPoint dns => await ResolveAsync(dns, cancellationToken).ConfigureAwait(false),
                _ => null,
            };
            if (resolved is not null && Endpoints.IsUsable(resolved) && !result.Contains(resolved))
            {
                result.Add(resolved);
            }
        }

        return result;
    }

    private static async Task<IPEndPoint?> ResolveAsync(DnsEndPoint entry, CancellationToken cancellationToken)
    {
        try
        {
            var addresses = await Dns.GetHostAddressesAsync(entry.Host, AddressFamily.InterNetwork, cancellationToken).ConfigureAwait(false);
            return addresses.Length > 0 ? new IPEndPoint(addresses[0], entry.Port) : null;
        }
        catch (SocketException)
        {
            return null;
        }
    }

    private void Start()
    {
        // A small stack: the loop's call depth is shallow, and a testnet runs hundreds of these threads.
        var thread = new Thread(RunLoop, maxStackSize: 512 * 1024)
        {
            IsBackground = true,
            Name = $"DHT node {LocalEndPoint.Port}",
        };
        thread.Start();
        Log.Started(_log, Id, LocalEndPoint, ServerMode, _bootstrap.Count);
    }

    // ---- API plumbing ----

    /// <summary>Runs <paramref name="func"/> on the loop and returns its result.</summary>
    public Task<T> InvokeAsync<T>(Func<T> func, CancellationToken cancellationToken)
    {
        var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var command = new Command(() =>
        {
            try
            {
                tcs.TrySetResult(func());
            }
            catch (Exception e)
            {
                tcs.TrySetException(e);
            }
        });
        if (!Enqueue(command))
        {
            tcs.TrySetException(Error.Stopped());
        }

        return tcs.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Queues a datagram as if it had arrived on the socket (fuzzing the handler without UDP).</summary>
    internal bool Inject(byte[] datagram, IPEndPoint from) => Enqueue(new Received(datagram, from));

    /// <summary>Runs <paramref name="action"/> on the loop, fire and forget; false when the node has stopped.</summary>
    public bool Post(Action action) => Enqueue(new Command(action));

    private bool Enqueue(LoopItem item)
    {
        if (!_inbox.Writer.TryWrite(item))
        {
            return false; // stopped
        }

        Wake();
        return true;
    }

    /// <summary>Makes the loop drain its inbox now rather than at its next datagram or tick.</summary>
    public void Wake()
    {
        if (Interlocked.Exchange(ref _wakePending, 1) == 0)
        {
            // If this datagram is lost (a full receive buffer), the loop still drains the inbox at its next tick.
            SendRaw([WakeByte], _wakeEndPoint);
        }
    }

    // ---- loop ----

    private void RunLoop()
    {
        var buffer = GC.AllocateUninitializedArray<byte>(64 * 1024);
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        _lastTick = Now;
        try
        {
            var receivedInARow = 0;
            while (!_stopping)
            {
                // Datagrams that have arrived go first, queries we still have to send next (at least one per
                // MaxReceivesPerSend received): a lookup's first reply is handled, and its value delivered, while
                // the rest of its 20 queries are still going out, instead of after all of them.
                _bursting = false;
                long wait = _outbox.Count > 0 ? 0 : Math.Clamp(_lastTick + TickInterval - Now, 0, _idleTickMs);
                if ((_outbox.Count == 0 || receivedInARow < MaxReceivesPerSend) && Readable((int)(wait * 1000)))
                {
                    receivedInARow++;
                    Receive(buffer, ref any);
                }
                else if (_outbox.TryDequeue(out var outgoing))
                {
                    receivedInARow = 0;
                    SendRaw(outgoing.Datagram, outgoing.To);
                }

                DrainInbox();
                if (Now >= _lastTick + TickInterval)
                {
                    _lastTick = Now;
                    Guarded(static (node, _) => node.OnTick(), 0);
                }
            }
        }
        finally
        {
            Shutdown();
            _exited.TrySetResult();
        }
    }

    /// <summary>Ticks often while requests are in flight (their timeouts), rarely otherwise.</summary>
    private long TickInterval => _pending.Count > 0 ? TickMs : _idleTickMs;

    /// <summary>Runs a handler; a bug in one handler must not stop the node, so it is logged.</summary>
    private void Guarded<T>(Action<LocalNode, T> handler, T state)
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

    private bool Readable(int microseconds)
    {
        try
        {
            return _socket.Poll(microseconds, SelectMode.SelectRead);
        }
        catch (SocketException)
        {
            return false;
        }
        catch (ObjectDisposedException)
        {
            _stopping = true;
            return false;
        }
    }

    private void Receive(byte[] buffer, ref EndPoint any)
    {
        int received;
        try
        {
            received = _socket.ReceiveFrom(buffer, SocketFlags.None, ref any);
        }
        catch (SocketException)
        {
            // ICMP errors of earlier sends (Windows reports them here); the peer will time out.
            return;
        }
        catch (ObjectDisposedException)
        {
            _stopping = true;
            return;
        }

        if (any is not IPEndPoint from || from.Port == 0 || received == 0)
        {
            return;
        }

        if (received == 1 && buffer[0] == WakeByte && from.Equals(_wakeEndPoint))
        {
            return; // our own wake-up: the inbox is drained next
        }

        // The decoded message copies what it keeps, so the buffer is reused for the next datagram.
        Guarded(static (node, d) => node.OnDatagram(d.Data, d.From), (Data: buffer.AsMemory(0, received), From: from));
    }

    private void DrainInbox()
    {
        Volatile.Write(ref _wakePending, 0);
        while (_inbox.Reader.TryRead(out var item))
        {
            Handle(item);
        }
    }

    /// <summary>Runs one inbox item: an injected datagram or a command.</summary>
    private void Handle(LoopItem item) => Guarded(
        static (node, item) =>
        {
            if (item is Received r)
            {
                node.OnDatagram(r.Data, r.From);
            }
            else
            {
                ((Command)item).Run();
            }
        },
        item);

    private void OnTick()
    {
        var now = Now;
        List<Pending>? expired = null;
        foreach (var p in _pending.Values)
        {
            if (now - p.SentAt > _timeoutMs)
            {
                (expired ??= []).Add(p);
            }
        }

        if (expired is not null)
        {
            foreach (var p in expired)
            {
                _pending.Remove(p.Tid);
                Settle(p);
            }
        }

        Maintain(now);
    }

    /// <summary>A request is over (timed out): advance its lookup or put.</summary>
    private void Settle(Pending p)
    {
        if (p.Lookup is { } lookup)
        {
            lookup.InFlight.Remove(p.Tid);
            if (p.Primary)
            {
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
        if (now - _lastPurge >= (long)_options.PurgeInterval.TotalMilliseconds)
        {
            _lastPurge = now;
            foreach (var node in _table.Purge(now))
            {
                Send(new PingQuery(Id), node.EndPoint, null, false, null);
            }
        }

        var refreshDue = now - _lastRefresh >= (long)_options.RefreshInterval.TotalMilliseconds;
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
            return; // nothing honest is this long; decoding it would only spend the loop's time
        }

        var status = KrpcCodec.TryDecode(data, out var message);
        switch (status)
        {
            case DecodeStatus.Drop:
                return;
            case DecodeStatus.Malformed:
                if (ServerMode && _limiter.Allow(from.Address, Now))
                {
                    SendReply(KrpcCodec.EncodeError(message!.TransactionId, KrpcError.Create(ErrorCodes.Protocol, "Invalid arguments"), Version, from), from, Now);
                }

                return;
            case DecodeStatus.UnknownMethod:
                if (ServerMode && _limiter.Allow(from.Address, Now))
                {
                    SendReply(KrpcCodec.EncodeError(message!.TransactionId, KrpcError.Create(ErrorCodes.MethodUnknown, "Method Unknown"), Version, from), from, Now);
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
        var now = Now;
        if (now - p.SentAt > _timeoutMs)
        {
            Settle(p);
            return;
        }

        if (message.Response is { } r && !message.ReadOnly)
        {
            _table.Seen(r.Id, from, now);
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
    }

    // ---- sending ----

    internal uint Send(Query query, IPEndPoint to, Lookup? lookup, bool primary, PutOperation? put)
    {
        uint tid;
        do
        {
            tid = NextTid();
        }
        while (_pending.ContainsKey(tid));

        Span<byte> t = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(t, tid);
        _pending[tid] = new Pending { Tid = tid, To = to, SentAt = Now, Query = query, Lookup = lookup, Primary = primary, Put = put };
        // The first query of a burst goes out at once (a lookup's closest node first); the rest wait in the
        // outbox, sent by the loop between the replies that arrive meanwhile. Replies to queries go out at once.
        var datagram = KrpcCodec.EncodeQuery(t, query, Version, readOnly: !ServerMode);
        if (_outbox.Count == 0 && !_bursting)
        {
            _bursting = true;
            SendRaw(datagram, to);
        }
        else
        {
            _outbox.Enqueue((datagram, to));
        }
        return tid;
    }

    /// <summary>The next transaction id: 4 random bytes (the caller keeps ids unique among requests in flight).</summary>
    private uint NextTid()
    {
        if (_tidPoolUsed == _tidPool.Length)
        {
            RandomNumberGenerator.Fill(_tidPool);
            _tidPoolUsed = 0;
        }

        var tid = BinaryPrimitives.ReadUInt32BigEndian(_tidPool.AsSpan(_tidPoolUsed));
        _tidPoolUsed += 4;
        return tid;
    }

    private void SendRaw(byte[] datagram, IPEndPoint to)
    {
        try
        {
            _socket.SendTo(datagram, SocketFlags.None, to);
        }
        catch (SocketException)
        {
            // Unreachable peers surface as timeouts.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    // ---- shutdown ----

    public async ValueTask DisposeAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        _clockWake?.Dispose();
        _inbox.Writer.TryComplete();
        _stopping = true;
        SendRaw([WakeByte], _wakeEndPoint);
        await _exited.Task.ConfigureAwait(false);
        _socket.Dispose();
    }

    private void Shutdown()
    {
        // Commands queued before the stop run first, so that their callers never hang (after TryComplete nothing
        // more gets in); then every lookup, those they started included, ends with what it has (streams complete,
        // waiting callers get partial results) and every waiting put fails.
        _inbox.Writer.TryComplete();
        while (_inbox.Reader.TryRead(out var item))
        {
            if (item is Command c)
            {
                c.Run();
            }
        }

        foreach (var lookup in _lookups.Values.ToList())
        {
            FinishLookup(lookup);
        }

        foreach (var put in _allPuts)
        {
            foreach (var w in put.Waiters)
            {
                w.TrySetException(Error.Stopped());
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "DHT node {Id} listening on {EndPoint}, server mode {ServerMode}, {Bootstrap} bootstrap nodes")]
        public static partial void Started(ILogger logger, NodeId id, IPEndPoint endPoint, bool serverMode, int bootstrap);

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
