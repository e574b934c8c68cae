// The TCP side's accept loop: every connection is admitted within the limits (total, per client) or closed at once,
// then runs on its own (TcpConnection).

using System.Net.Sockets;

namespace Pkarr.DnsServer.Listeners;

internal sealed partial class DnsListener
{
    // After an accept error that is not about one connection (out of file descriptors), the loop waits this long rather
    // than spin on the same error.
    private static readonly TimeSpan AcceptBackoff = TimeSpan.FromMilliseconds(100);

    private async Task AcceptTcpAsync()
    {
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _tcp.AcceptAsync(token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException
                || (e is SocketException && token.IsCancellationRequested))
            {
                break;
            }
            catch (SocketException e)
            {
                ListenerLog.AcceptFailed(_logger, e.SocketErrorCode);
                if (e.SocketErrorCode is not (SocketError.ConnectionAborted or SocketError.ConnectionReset))
                {
                    try
                    {
                        await Task.Delay(AcceptBackoff, _options.Time, token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }
                }

                continue;
            }

            try
            {
                Admit(socket);
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
            {
                // The client reset the connection before it could be set up.
                ListenerLog.AcceptFailed(_logger, (e as SocketException)?.SocketErrorCode ?? SocketError.ConnectionReset);
                socket.Dispose();
            }
        }
    }
}
