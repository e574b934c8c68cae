// The production driver of one DHT node's protocol state machine (NodeCore): a UDP socket, one thread, a clock.
//
//   UDP socket ──datagrams──────────────────────────────┐
//   Dht API ──Command──▶ inbox Channel ──wake datagram──┼──▶ one thread ──Receive / Tick / commands──▶ NodeCore
//   poll(2) timeout: until the core's NextDeadline ─────┘        ◀──outgoing datagrams── (replies at once, queries paced)
//
// Only this thread calls the core, so no protocol state needs a lock. The thread blocks in poll(2) on the socket:
// a datagram is decoded and answered on the thread the kernel wakes, and a process running many nodes (a testnet)
// costs one small thread per node rather than thread-pool work items queued behind unrelated work. API calls
// write a closure into the inbox channel and wake the thread with a one-byte datagram to its own socket; they
// await a TaskCompletionSource whose continuations run asynchronously (never on the loop). Queries the core
// produces wait in an outbox and go out between received datagrams (the first of a burst at once), so the replies
// to a lookup's first queries are handled while the rest of its round is still being sent.
//
// Time comes from DhtOptions.TimeProvider (milliseconds since the node started), handed to the core on every
// call. poll(2) sleeps until the core's next deadline, at most a second: a lost wake datagram then delays a command
// by no more than that. With a provider other than the system clock (a test's fake clock), a periodic timer of
// that provider wakes the loop, so that advancing the clock runs timeouts and maintenance promptly even though
// poll(2) itself waits in real time.
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
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

internal sealed partial class LocalNode : IAsyncDisposable
{
    // The fake clock's wake period: moving a test's clock runs due work within this much of its time.
    private const long ClockWakeMs = 50;

    // The longest poll(2) wait: with nothing due for minutes an idle node still drains its inbox once a second
    // (should a wake datagram be lost), and a testnet of hundreds of idle nodes in one process costs little CPU.
    private const long MaxWaitMs = 1000;
    private const int MaxReceivesPerSend = 16;
    private const byte WakeByte = (byte)'w';

    private readonly Socket _socket;
    // Written by any thread, read only by the loop (TryRead: the loop never awaits it, it polls the socket).
    private readonly Channel<LoopItem> _inbox = Channel.CreateUnbounded<LoopItem>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Queue<Outgoing> _outbox = new();
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly IPEndPoint _wakeEndPoint;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly long _startedAt;
    private readonly ITimer? _clockWake;
    private readonly long _maxWaitMs;
    private int _wakePending;
    private bool _bursting;
    private volatile bool _stopping;
    private long _lastTick;
    private bool _stopped;

    private LocalNode(Socket socket, DhtOptions options, IReadOnlyList<IPEndPoint> bootstrap, NodeId id)
    {
        _socket = socket;
        _log = options.LoggerFactory?.CreateLogger("Mainline.Dht") ?? NullLogger.Instance;
        _time = options.TimeProvider;
        _startedAt = _time.GetTimestamp();
        _maxWaitMs = Math.Clamp(
            (long)Math.Min(options.PurgeInterval.TotalMilliseconds, options.RefreshInterval.TotalMilliseconds), ClockWakeMs, MaxWaitMs);
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        _wakeEndPoint = LocalEndPoint.Address.Equals(IPAddress.Any) ? new IPEndPoint(IPAddress.Loopback, LocalEndPoint.Port) : LocalEndPoint;
        Core = new NodeCore(options, bootstrap, id, LocalEndPoint, SystemEntropy.Instance, Now, _log);
        if (_time != TimeProvider.System)
        {
            var period = TimeSpan.FromMilliseconds(ClockWakeMs);
            _clockWake = _time.CreateTimer(static state => ((LocalNode)state!).Wake(), this, period, period);
        }
    }

    /// <summary>The node's protocol state; only the loop's thread may touch it (commands run there).</summary>
    public NodeCore Core { get; }

    /// <summary>Milliseconds since the node started, on the options' clock: the time handed to the core.</summary>
    public long Now => (long)_time.GetElapsedTime(_startedAt).TotalMilliseconds;

    public IPEndPoint LocalEndPoint { get; }

    /// <summary>The <see cref="Now"/> up to which the loop has run the core's due work (timeouts, maintenance).</summary>
    internal long LastTick => _lastTick;

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
        Log.Started(_log, Core.Id, LocalEndPoint, Core.ServerMode, Core.BootstrapNodes.Count);
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

    /// <summary>Makes the loop drain its inbox now rather than at its next datagram or deadline.</summary>
    public void Wake()
    {
        if (Interlocked.Exchange(ref _wakePending, 1) == 0)
        {
            // If this datagram is lost (a full receive buffer), the loop still drains the inbox within MaxWaitMs.
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
                long wait = _outbox.Count > 0 ? 0 : Math.Clamp(Core.NextDeadline - Now, 0, _maxWaitMs);
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
                var now = Now;
                if (now >= Core.NextDeadline)
                {
                    Core.Tick(now);
                    Flush();
                }

                _lastTick = now;
            }
        }
        finally
        {
            Shutdown();
            _exited.TrySetResult();
        }
    }

    /// <summary>Takes the core's datagrams: replies go out at once; the first query of a burst too, the rest wait
    /// in the outbox for the loop to send between received datagrams.</summary>
    private void Flush()
    {
        while (Core.TryTakeOutgoing(out var outgoing))
        {
            if (!outgoing.IsQuery)
            {
                SendRaw(outgoing.Datagram, outgoing.To);
            }
            else if (_outbox.Count == 0 && !_bursting)
            {
                _bursting = true;
                SendRaw(outgoing.Datagram, outgoing.To);
            }
            else
            {
                _outbox.Enqueue(outgoing);
            }
        }
    }

    /// <summary>Runs a command; a bug in one must not stop the node, so it is logged.</summary>
    private void Run(Command command)
    {
        Core.SetTime(Now);
        try
        {
            command.Run();
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

        Core.Receive(buffer.AsMemory(0, received), from, Now);
        Flush();
    }

    private void DrainInbox()
    {
        Volatile.Write(ref _wakePending, 0);
        while (_inbox.Reader.TryRead(out var item))
        {
            if (item is Received r)
            {
                Core.Receive(r.Data, r.From, Now);
            }
            else
            {
                Run((Command)item);
            }

            Flush();
        }
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
        // more gets in); then the core ends every lookup and put (see NodeCore.Shutdown).
        _inbox.Writer.TryComplete();
        while (_inbox.Reader.TryRead(out var item))
        {
            if (item is Command c)
            {
                Run(c);
            }
        }

        Core.Shutdown();
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "DHT node {Id} listening on {EndPoint}, server mode {ServerMode}, {Bootstrap} bootstrap nodes")]
        public static partial void Started(ILogger logger, NodeId id, IPEndPoint endPoint, bool serverMode, int bootstrap);

        [LoggerMessage(4, LogLevel.Error, "DHT loop handler failed")]
        public static partial void HandlerFailed(ILogger logger, Exception exception);
    }
}
