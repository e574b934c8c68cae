// DNS over UDP (RFC 1035 §4.2.1) and TCP (RFC 1035 §4.2.2, RFC 7766) on one port, the server's front door for
// ordinary resolvers. pkdns listens on UDP only, with a 1024-byte buffer (shared spec pkarr.md §9.1, §9.5); here a UDP
// datagram of any size up to 65535 bytes is read whole, and TCP takes what does not fit in UDP (TC answers).
//
//   UDP datagram ─▶ in-flight budget ─▶ handler ─┬─ completed at once: answered from the receive loop's thread
//                                                  └─ pending (network lookup): answered from its own task
//   (a blocking receive loop per core, the shape of unbound's workers; on Linux each loop has a UDP socket of its own,
//   all on one port with SO_REUSEPORT: the kernel spreads the clients over them, so no two loops contend for a
//   socket; elsewhere the loops share one socket)
//   TCP connection ─▶ connection limits ─▶ TcpConnection (framing, pipelining, idle timeout)
//
// Queries are answered concurrently: a query that waits seconds for the DHT or an upstream must not hold back the
// cached answers behind it. The budget (ListenerOptions.MaxQueriesInFlight) bounds what waits at once.

using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Pkarr.DnsServer.Metrics;
using Pkarr.DnsServer.Query;
using Pkarr.DnsServer.RateLimiting;

namespace Pkarr.DnsServer.Listeners;

internal sealed partial class DnsListener : IAsyncDisposable
{
    /// <summary>The largest DNS message: UDP datagrams and TCP frames (a 16-bit length) alike.</summary>
    internal const int MaxMessageLength = 65535;

    /// <summary>The DNS header: anything shorter is not a message.</summary>
    internal const int HeaderLength = 12;

    // With port 0 the OS picks a UDP port whose TCP twin may be taken; a few fresh picks find a free pair.
    private const int BindAttempts = 8;

    // Linux's SOL_SOCKET and SO_REUSEPORT (asm-generic/socket.h), which .NET's SocketOptionName does not name.
    private const int SolSocket = 1;
    private const int SoReusePort = 15;

    // How long disposal waits for loops and queries to end: they are cancelled, so this only bounds a stuck handler.
    private static readonly TimeSpan ShutdownBound = TimeSpan.FromSeconds(5);

    private readonly Socket[] _udp;
    private readonly Socket _tcp;
    private readonly ListenerOptions _options;
    private readonly ILogger<DnsListener> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _connectionsLock = new();
    private readonly HashSet<TcpConnection> _connections = [];
    private readonly Dictionary<IPAddress, int> _connectionsPerClient = [];
    private readonly Task _udpLoop;
    private readonly Task _acceptLoop;
    private int _inFlight;
    private int _disposed;

    // SO_REUSEPORT lets each loop have a socket of its own on the one port; the kernel hashes each client's address and
    // port to one of them. Other systems' options of that name do not spread datagrams, so there the loops share one.
    private static int UdpSocketsFor(int loops) => OperatingSystem.IsLinux() ? loops : 1;

    private DnsListener(Socket[] udp, Socket tcp, IDnsQueryHandler handler, ListenerOptions options, DnsMetrics metrics,
        ILogger<DnsListener> logger)
    {
        _udp = udp;
        _tcp = tcp;
        Handler = handler;
        _options = options;
        Metrics = metrics;
        _logger = logger;
        UdpEndPoint = (IPEndPoint)udp[0].LocalEndPoint!;
        TcpEndPoint = (IPEndPoint)tcp.LocalEndPoint!;
        // One receive loop per core, each a thread of its own: a cached answer is computed and sent on the thread that
        // received its query, so a single loop would leave the other cores idle under load.
        _udpLoop = Task.WhenAll(Enumerable.Range(0, options.UdpReceiveLoops).Select(i => StartUdpLoop(udp[i % udp.Length])));
        _acceptLoop = Task.Run(AcceptTcpAsync);
    }

    /// <summary>Where UDP queries are received.</summary>
    public IPEndPoint UdpEndPoint { get; }

    /// <summary>Where TCP connections are accepted: the same address and port as <see cref="UdpEndPoint"/>.</summary>
    public IPEndPoint TcpEndPoint { get; }

    internal IDnsQueryHandler Handler { get; }

    internal DnsMetrics Metrics { get; }

    internal ListenerOptions Options => _options;

    internal ILogger Logger => _logger;

    /// <summary>The UDP sockets on <see cref="UdpEndPoint"/>: one per receive loop on Linux, else one.</summary>
    internal int UdpSocketCount => _udp.Length;

    internal CancellationToken Stopping => _stopping.Token;

    /// <summary>TCP connections open now.</summary>
    internal int TcpConnectionCount
    {
        get
        {
            lock (_connectionsLock)
            {
                return _connections.Count;
            }
        }
    }

    /// <summary>Binds UDP and TCP on <paramref name="endPoint"/> (port 0: one free port for both; the IPv6 any
    /// address <c>[::]</c>: dual-stack, IPv4 clients included) and starts answering through
    /// <paramref name="handler"/>.</summary>
    public static Task<DnsListener> StartAsync(IPEndPoint endPoint, IDnsQueryHandler handler, ListenerOptions options,
        DnsMetrics metrics, ILogger<DnsListener> logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxTcpConnections);
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxTcpConnectionsPerIp);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxQueriesInFlight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxQueriesPerTcpConnection);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.UdpReceiveLoops);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.TcpIdleTimeout, TimeSpan.Zero);
        cancellationToken.ThrowIfCancellationRequested();
        var (udp, tcp) = Bind(endPoint, UdpSocketsFor(options.UdpReceiveLoops));
        var listener = new DnsListener(udp, tcp, handler, options, metrics, logger);
        ListenerLog.Listening(logger, listener.UdpEndPoint);
        return Task.FromResult(listener);
    }

    /// <summary>Takes one place in the in-flight budget; false: the server is saturated and the query is dropped.</summary>
    internal bool TryBeginQuery(IPAddress client)
    {
        if (Interlocked.Increment(ref _inFlight) <= _options.MaxQueriesInFlight)
        {
            return true;
        }

        EndQuery();
        return Overloaded(client);
    }

    /// <summary>Whether the in-flight budget has a place left, read without taking it (UDP takes one only for a query
    /// that goes on waiting); a full budget drops the query, as <see cref="TryBeginQuery"/> does.</summary>
    private bool HasRoom(IPAddress client)
        => Volatile.Read(ref _inFlight) < _options.MaxQueriesInFlight || Overloaded(client);

    /// <summary>Counts and logs a query dropped for a full budget; false.</summary>
    private bool Overloaded(IPAddress client)
    {
        Metrics.Dropped("overload");
        ListenerLog.Overloaded(_logger, client, _options.MaxQueriesInFlight);
        return false;
    }

    /// <summary>Gives back a place of <see cref="TryBeginQuery"/> (or one a UDP query took).</summary>
    internal void EndQuery()
    {
        if (Interlocked.Decrement(ref _inFlight) == 0 && _stopping.IsCancellationRequested)
        {
            _drained.TrySetResult();
        }
    }

    internal void Closed(TcpConnection connection)
    {
        lock (_connectionsLock)
        {
            if (!_connections.Remove(connection))
            {
                return;
            }

            if (--_connectionsPerClient[connection.ClientKey] == 0)
            {
                _connectionsPerClient.Remove(connection.ClientKey);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (Volatile.Read(ref _inFlight) == 0)
        {
            _drained.TrySetResult();
        }

        foreach (var udp in _udp)
        {
            udp.Dispose();
        }

        _tcp.Dispose();
        await BoundedAsync(Task.WhenAll(_udpLoop, _acceptLoop)).ConfigureAwait(false);

        TcpConnection[] open;
        lock (_connectionsLock)
        {
            open = [.. _connections];
        }

        foreach (var connection in open)
        {
            connection.Dispose();
        }

        await BoundedAsync(Task.WhenAll(open.Select(c => c.Completion))).ConfigureAwait(false);
        await BoundedAsync(_drained.Task).ConfigureAwait(false);
    }

    private async Task BoundedAsync(Task task)
    {
        try
        {
            await task.WaitAsync(ShutdownBound, _options.Time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            ListenerLog.ShutdownSlow(_logger, ShutdownBound);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A loop ended with a failure (a bug): stopping goes on, the failure is reported.
            ListenerLog.LoopFailed(_logger, e);
        }
    }

    /// <summary>Binds <paramref name="udpSockets"/> UDP sockets and a TCP socket to one port: with port 0, the port
    /// the first UDP socket got.</summary>
    private static (Socket[] Udp, Socket Tcp) Bind(IPEndPoint endPoint, int udpSockets)
    {
        for (int attempt = 1; ; attempt++)
        {
            var udp = new List<Socket>(udpSockets);
            Socket? tcp = null;
            try
            {
                udp.Add(NewUdpSocket(endPoint, udpSockets > 1));
                udp[0].Bind(endPoint);
                var bound = new IPEndPoint(endPoint.Address, ((IPEndPoint)udp[0].LocalEndPoint!).Port);
                tcp = NewSocket(endPoint, SocketType.Stream, ProtocolType.Tcp);
                tcp.Bind(bound);
                tcp.Listen(512);
                while (udp.Count < udpSockets)
                {
                    udp.Add(NewUdpSocket(endPoint, shared: true));
                    udp[^1].Bind(bound);
                }

                return ([.. udp], tcp);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse && endPoint.Port == 0
                && tcp is not null && attempt < BindAttempts)
            {
                Close(udp, tcp);
            }
            catch
            {
                Close(udp, tcp);
                throw;
            }
        }

        static void Close(List<Socket> udp, Socket? tcp)
        {
            tcp?.Dispose();
            udp.ForEach(socket => socket.Dispose());
        }
    }

    private static Socket NewUdpSocket(IPEndPoint endPoint, bool shared)
    {
        var socket = NewSocket(endPoint, SocketType.Dgram, ProtocolType.Udp);
        if (shared)
        {
            try
            {
                socket.SetRawSocketOption(SolSocket, SoReusePort, BitConverter.GetBytes(1));
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        return socket;
    }

    private static Socket NewSocket(IPEndPoint endPoint, SocketType type, ProtocolType protocol)
    {
        var socket = new Socket(endPoint.AddressFamily, type, protocol);
        if (endPoint.Address.Equals(IPAddress.IPv6Any))
        {
            // [::] means every address: IPv4 clients arrive as ::ffff:a.b.c.d (the rate limits key them by the IPv4).
            socket.DualMode = true;
        }

        return socket;
    }

    private void Admit(Socket socket)
    {
        if (socket.RemoteEndPoint is not IPEndPoint remote)
        {
            socket.Dispose();
            return;
        }

        // One client is one rate-limit key: an IPv4 address (v4-mapped included) or an IPv6 /64.
        var key = DnsRateLimits.KeyOf(remote.Address);
        TcpConnection? connection = null;
        lock (_connectionsLock)
        {
            _connectionsPerClient.TryGetValue(key, out int ofClient);
            if (_connections.Count < _options.MaxTcpConnections && ofClient < _options.MaxTcpConnectionsPerIp)
            {
                connection = new TcpConnection(this, socket, remote.Address, key);
                _connections.Add(connection);
                _connectionsPerClient[key] = ofClient + 1;
            }
        }

        if (connection is null)
        {
            Metrics.Dropped("tcp_limit");
            ListenerLog.TcpLimit(_logger, remote.Address);
            socket.Dispose();
            return;
        }

        connection.Start();
    }
}
