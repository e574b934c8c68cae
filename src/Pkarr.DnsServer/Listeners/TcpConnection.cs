// One DNS-over-TCP connection (RFC 7766). Queries are read one frame at a time and each starts being answered as soon
// as it is read (pipelining, §6.2.1.1); answers are written as they complete, in any order (a client matches them by
// ID), one write at a time. At most ListenerOptions.MaxQueriesPerTcpConnection are answered at once: beyond, the
// connection is not read until one is written, so a client cannot queue unbounded work.
//
// The idle timer (§6.2.3) runs while nothing is being answered, and restarts at every response write so that it also
// bounds a write to a client that stopped reading; while a query is being answered (a network lookup) it is stopped.
// A client that half-closes after its queries still gets every answer, then the connection closes (§6.2.4 leaves
// closing to the server once its answers are out).

using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Pkarr.DnsServer.Query;

namespace Pkarr.DnsServer.Listeners;

internal sealed class TcpConnection : IDisposable
{
    private readonly DnsListener _owner;
    private readonly NetworkStream _stream;
    private readonly CancellationTokenSource _closing;
    private readonly SemaphoreSlim _slots;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ITimer _timer;
    private readonly TimeProvider _time;
    private readonly TimeSpan _idleTimeout;
    private readonly Lock _lock = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Guarded by _lock.
    private int _inFlight;
    private int _writing;
    private bool _armed;
    private bool _readDone;
    private bool _closed;
    private DateTimeOffset _deadline;

    public TcpConnection(DnsListener owner, Socket socket, IPAddress client, IPAddress clientKey)
    {
        _owner = owner;
        Client = client;
        ClientKey = clientKey;
        // Responses go out as soon as they are written: Nagle would hold a short answer back for the client's ACK.
        socket.NoDelay = true;
        _stream = new NetworkStream(socket, ownsSocket: true);
        // Not linked to the listener's token: a linked source stays registered there until disposed, and the listener
        // closes its connections itself when it stops.
        _closing = new CancellationTokenSource();
        int slots = owner.Options.MaxQueriesPerTcpConnection;
        _slots = new SemaphoreSlim(slots, slots);
        _time = owner.Options.Time;
        _idleTimeout = owner.Options.TcpIdleTimeout;
        _timer = _time.CreateTimer(static state => ((TcpConnection)state!).OnTimer(), this, Timeout.InfiniteTimeSpan,
            Timeout.InfiniteTimeSpan);
    }

    /// <summary>The peer's address, as the socket reports it (v4-mapped on a dual-stack socket).</summary>
    public IPAddress Client { get; }

    /// <summary>The client's key for the per-client connection limit.</summary>
    public IPAddress ClientKey { get; }

    /// <summary>Completes when the connection is closed.</summary>
    public Task Completion => _completed.Task;

    public void Start()
    {
        lock (_lock)
        {
            UpdateTimer(refresh: false);
        }

        _ = Task.Run(RunAsync);
    }

    /// <summary>Closes the connection now: reads and writes in progress fail, queries being answered are cancelled.</summary>
    public void Dispose() => Abort();

    private void Abort()
    {
        try
        {
            _closing.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already closed.
        }

        _stream.Dispose();
    }

    private async Task RunAsync()
    {
        var token = _closing.Token;
        var reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(leaveOpen: true));
        try
        {
            await ReadQueriesAsync(reader, token).ConfigureAwait(false);
            await DrainAsync(token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // The client went away, the idle timer fired, or the listener is stopping.
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
            lock (_lock)
            {
                _closed = true;
            }

            Abort();
            _timer.Dispose();
            _owner.Closed(this);
            _completed.TrySetResult();
        }
    }

    private async Task ReadQueriesAsync(PipeReader reader, CancellationToken token)
    {
        while (true)
        {
            await _slots.WaitAsync(token).ConfigureAwait(false);
            if (await ReadQueryAsync(reader, token).ConfigureAwait(false) is not { } query)
            {
                return;
            }

            Received();
            if (!_owner.TryBeginQuery(Client))
            {
                ArrayPool<byte>.Shared.Return(query.Buffer);
                Finished(wrote: false);
                continue;
            }

            var pending = _owner.StartQuery(query.Buffer.AsMemory(0, query.Length), new QueryContext(Client, DnsTransport.Tcp), token);
            if (pending.IsCompleted)
            {
                await RespondAsync(query.Buffer, _owner.ResultOf(pending)).ConfigureAwait(false);
            }
            else
            {
                _ = CompleteAsync(pending, query.Buffer);
            }
        }
    }

    /// <summary>The next query in a pooled buffer, or null when the connection ends: the client closed its side (a
    /// partial frame is discarded), or a length shorter than a DNS header says the stream is not DNS.</summary>
    private async ValueTask<(byte[] Buffer, int Length)?> ReadQueryAsync(PipeReader reader, CancellationToken token)
    {
        while (true)
        {
            var result = await reader.ReadAsync(token).ConfigureAwait(false);
            var buffer = result.Buffer;
            switch (TcpFraming.TryReadMessage(ref buffer, out var message))
            {
                case FrameStatus.Message:
                    int length = (int)message.Length;
                    byte[] query = ArrayPool<byte>.Shared.Rent(length);
                    message.CopyTo(query);
                    reader.AdvanceTo(buffer.Start);
                    return (query, length);
                case FrameStatus.Invalid:
                    _owner.Metrics.Dropped("short");
                    return null;
                default:
                    if (result.IsCompleted || result.IsCanceled)
                    {
                        return null;
                    }

                    reader.AdvanceTo(buffer.Start, buffer.End);
                    break;
            }
        }
    }

    private async Task CompleteAsync(ValueTask<byte[]?> pending, byte[] query)
    {
        byte[]? response = await _owner.AwaitQueryAsync(pending).ConfigureAwait(false);
        await RespondAsync(query, response).ConfigureAwait(false);
    }

    private async ValueTask RespondAsync(byte[] query, byte[]? response)
    {
        ArrayPool<byte>.Shared.Return(query);
        _owner.EndQuery();
        bool wrote = false;
        if (response is { Length: <= DnsListener.MaxMessageLength })
        {
            byte[] frame = TcpFraming.Frame(response);
            try
            {
                await _writeLock.WaitAsync(_closing.Token).ConfigureAwait(false);
                try
                {
                    WriteStarted();
                    wrote = true;
                    await _stream.WriteAsync(frame.AsMemory(0, 2 + response.Length), _closing.Token).ConfigureAwait(false);
                }
                finally
                {
                    _writeLock.Release();
                }
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
            {
                // The client is gone or the connection is closing: nothing more can be written.
                Abort();
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(frame);
            }
        }

        Finished(wrote);
    }

    private async Task DrainAsync(CancellationToken token)
    {
        lock (_lock)
        {
            _readDone = true;
            if (_inFlight == 0)
            {
                return;
            }
        }

        await _drained.Task.WaitAsync(token).ConfigureAwait(false);
    }

    private void Received()
    {
        lock (_lock)
        {
            _inFlight++;
            UpdateTimer(refresh: false);
        }
    }

    private void WriteStarted()
    {
        lock (_lock)
        {
            _writing++;
            UpdateTimer(refresh: true);
        }
    }

    private void Finished(bool wrote)
    {
        lock (_lock)
        {
            if (wrote)
            {
                _writing--;
            }

            _inFlight--;
            UpdateTimer(refresh: false);
            if (_inFlight == 0 && _readDone)
            {
                _drained.TrySetResult();
            }
        }

        _slots.Release();
    }

    /// <summary>Runs the timer while nothing is being answered or a write is in progress; <paramref name="refresh"/>
    /// restarts it (a write is progress). Called under <see cref="_lock"/>.</summary>
    private void UpdateTimer(bool refresh)
    {
        if (_closed)
        {
            return;
        }

        bool armed = _inFlight == 0 || _writing > 0;
        if (armed && (refresh || !_armed))
        {
            _deadline = _time.GetUtcNow() + _idleTimeout;
            _timer.Change(_idleTimeout, Timeout.InfiniteTimeSpan);
        }
        else if (!armed && _armed)
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        _armed = armed;
    }

    private void OnTimer()
    {
        lock (_lock)
        {
            // A stale firing: the timer was stopped or restarted after it was scheduled.
            if (!_armed || _closed || _time.GetUtcNow() < _deadline)
            {
                return;
            }
        }

        ListenerLog.TcpIdleClosed(_owner.Logger, Client);
        Abort();
    }
}
