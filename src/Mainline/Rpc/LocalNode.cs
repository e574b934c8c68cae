// The state-owning event loop of one DHT node (shared spec §11.1, style: one owner for mutable state).
//
//   receive task ──Received──┐
//   ticker (50 ms) ──Tick────┼──▶ Channel<LoopItem> ──▶ single loop: routing table, in-flight requests,
//   Dht API ──Command────────┘                           lookups, puts, storage, tokens
//
// Nothing outside the loop touches protocol state; API calls post closures and await a TaskCompletionSource
// whose continuations run asynchronously (never on the loop).
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
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

internal sealed class Tick : LoopItem
{
    public static readonly Tick Instance = new();
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

    private const int MaxQueuedDatagrams = 10_000;
    private const long TokenFreshMs = 5 * 60 * 1000;
    private const long EmptyTableRetryMs = 5_000;

    private readonly Socket _socket;
    private readonly Channel<LoopItem> _channel = Channel.CreateUnbounded<LoopItem>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly DhtOptions _options;
    private readonly ILogger _log;
    private readonly IReadOnlyList<IPEndPoint> _bootstrap;
    private readonly long _timeoutMs;
    private readonly Storage _storage;
    private readonly Tokens _tokens;
    private readonly RateLimiter _limiter;
    private readonly LookupCache _cache = new();
    private readonly Dictionary<uint, Pending> _pending = [];
    private readonly Dictionary<LookupKey, Lookup> _lookups = [];
    private readonly Dictionary<NodeId, PutOperation> _mutablePuts = [];
    private readonly List<PutOperation> _allPuts = [];
    private Task _loop = Task.CompletedTask;
    private Task _receiver = Task.CompletedTask;
    private Task _ticker = Task.CompletedTask;
    private int _queued;
    private uint _nextTid = (uint)Random.Shared.Next();
    private RoutingTable _table;
    private Lookup? _selfLookup;
    private long _lastRefresh;
    private long _lastPurge;
    private long _lastEmptyRetry = long.MinValue / 2;
    private bool _stopped;

    private LocalNode(Socket socket, DhtOptions options, IReadOnlyList<IPEndPoint> bootstrap, NodeId id)
    {
        _socket = socket;
        _options = options;
        _log = options.Logger ?? NullLogger.Instance;
        _bootstrap = bootstrap;
        _timeoutMs = (long)options.RequestTimeout.TotalMilliseconds;
        _storage = new Storage(options.Server);
        var now = Now;
        _tokens = new Tokens(now);
        _limiter = new RateLimiter(options.RateLimitPerIp, options.RateLimitBurst);
        _table = new RoutingTable(id);
        ServerMode = options.Mode == DhtMode.Server;
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        _lastRefresh = now;
        _lastPurge = now;
    }

    public static long Now => Environment.TickCount64;

    public IPEndPoint LocalEndPoint { get; }

    // ---- loop-owned state exposed to the loop's own code ----
    public NodeId Id => _table.Id;

    public bool ServerMode { get; private set; }

    public bool Firewalled { get; private set; } = true;

    public IPEndPoint? PublicEndPoint { get; private set; }

    public RoutingTable Table => _table;

    public LookupCache Cache => _cache;

    public Storage Storage => _storage;

    public Tokens Tokens => _tokens;

    public IReadOnlyList<IPEndPoint> BootstrapNodes => _bootstrap;

    public static async Task<LocalNode> StartAsync(DhtOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var bootstrap = await ResolveAsync([.. options.Bootstrap ?? DhtOptions.DefaultBootstrap, .. options.ExtraBootstrap], cancellationToken).ConfigureAwait(false);
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
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

    /// <summary>Resolves HOST:PORT strings once, IPv4 only; unresolvable hosts are skipped.</summary>
    internal static async Task<IReadOnlyList<IPEndPoint>> ResolveAsync(IEnumerable<string> entries, CancellationToken cancellationToken)
    {
        var result = new List<IPEndPoint>();
        foreach (var entry in entries.Distinct(StringComparer.Ordinal))
        {
            var colon = entry.LastIndexOf(':');
            if (colon <= 0 || !ushort.TryParse(entry.AsSpan(colon + 1), out var port) || port == 0)
            {
                throw Error.BadEndpoint(entry, nameof(entries));
            }

            var host = entry[..colon];
            if (IPAddress.TryParse(host, out var literal))
            {
                if (literal.AddressFamily == AddressFamily.InterNetwork)
                {
                    result.Add(new IPEndPoint(literal, port));
                }

                continue;
            }

            try
            {
                var addresses = await Dns.GetHostAddressesAsync(host, AddressFamily.InterNetwork, cancellationToken).ConfigureAwait(false);
                if (addresses.Length > 0)
                {
                    result.Add(new IPEndPoint(addresses[0], port));
                }
            }
            catch (SocketException)
            {
                // Unresolvable bootstrap hosts are skipped, as the reference does.
            }
        }

        return result;
    }

    private void Start()
    {
        _loop = Task.Run(RunLoopAsync);
        _receiver = Task.Run(ReceiveAsync);
        _ticker = Task.Run(TickAsync);
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
        if (!_channel.Writer.TryWrite(command))
        {
            tcs.TrySetException(Error.Stopped());
        }

        return tcs.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Queues a datagram as if it had arrived on the socket (fuzzing the handler without UDP).</summary>
    internal bool Inject(byte[] datagram, IPEndPoint from)
    {
        Interlocked.Increment(ref _queued);
        return _channel.Writer.TryWrite(new Received(datagram, from));
    }

    /// <summary>Runs <paramref name="action"/> on the loop, fire and forget.</summary>
    public bool Post(Action action) => _channel.Writer.TryWrite(new Command(action));

    // ---- loop ----

    private async Task ReceiveAsync()
    {
        var buffer = GC.AllocateUninitializedArray<byte>(64 * 1024);
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult r;
            try
            {
                r = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (ObjectDisposedException)
            {
                break;
            }
            catch (SocketException)
            {
                continue;
            }

            if (r.RemoteEndPoint is not IPEndPoint from || from.Port == 0 || r.ReceivedBytes == 0)
            {
                continue;
            }

            if (Interlocked.Increment(ref _queued) > MaxQueuedDatagrams)
            {
                Interlocked.Decrement(ref _queued);
                continue;
            }

            _channel.Writer.TryWrite(new Received(buffer.AsSpan(0, r.ReceivedBytes).ToArray(), from));
        }
    }

    private async Task TickAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                _channel.Writer.TryWrite(Tick.Instance);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RunLoopAsync()
    {
        var reader = _channel.Reader;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (reader.TryRead(out var item))
                {
                    try
                    {
                        Handle(item);
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        // A bug in one handler must not stop the node; it is logged.
                        Log.HandlerFailed(_log, e);
                    }
                }
            }
        }
        finally
        {
            Shutdown();
        }
    }

    private void Handle(LoopItem item)
    {
        switch (item)
        {
            case Received r:
                Interlocked.Decrement(ref _queued);
                OnDatagram(r.Data, r.From);
                break;
            case Command c:
                c.Run();
                break;
            default:
                OnTick();
                break;
        }
    }

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
            Advance(lookup);
        }
        else if (p.Put is { } put)
        {
            put.InFlight.Remove(p.Tid);
            CheckPut(put);
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

    // ---- datagrams ----

    private void OnDatagram(byte[] data, IPEndPoint from)
    {
        var status = KrpcCodec.TryDecode(data, out var message);
        switch (status)
        {
            case DecodeStatus.Drop:
                return;
            case DecodeStatus.Malformed:
                if (ServerMode && _limiter.Allow(from.Address, Now))
                {
                    SendRaw(KrpcCodec.EncodeError(message!.TransactionId, KrpcError.Create(ErrorCodes.Protocol, "Invalid arguments"), Version, from), from);
                }

                return;
            case DecodeStatus.UnknownMethod:
                if (ServerMode && _limiter.Allow(from.Address, Now))
                {
                    SendRaw(KrpcCodec.EncodeError(message!.TransactionId, KrpcError.Create(ErrorCodes.MethodUnknown, "Method Unknown"), Version, from), from);
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

        var tid = BinaryPrimitives.ReadUInt32BigEndian(message.TransactionId);
        if (!_pending.TryGetValue(tid, out var p) || !SameSource(p.To, from))
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
    }

    /// <summary>Same port, and same IP unless the request went to 0.0.0.0 (spec §2.2).</summary>
    private static bool SameSource(IPEndPoint to, IPEndPoint from) =>
        to.Port == from.Port && (to.Address.Equals(IPAddress.Any) || to.Address.Equals(from.Address));

    // ---- sending ----

    internal uint Send(Query query, IPEndPoint to, Lookup? lookup, bool primary, PutOperation? put)
    {
        uint tid;
        do
        {
            tid = _nextTid++;
        }
        while (_pending.ContainsKey(tid));

        Span<byte> t = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(t, tid);
        _pending[tid] = new Pending { Tid = tid, To = to, SentAt = Now, Query = query, Lookup = lookup, Primary = primary, Put = put };
        SendRaw(KrpcCodec.EncodeQuery(t, query, Version, readOnly: !ServerMode), to);
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
        _channel.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        await Task.WhenAll(_loop, _receiver, _ticker).ConfigureAwait(false);
        _stop.Dispose();
    }

    private void Shutdown()
    {
        // Running lookups end with what they have: streams complete, waiting callers get partial results.
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

        while (_channel.Reader.TryRead(out var item))
        {
            // Commands queued after the stop must not hang their callers.
            if (item is Command c)
            {
                c.Run();
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
    }
}
