// The listeners' log messages. Everything about one client is Debug: a server on the Internet sees broken clients
// all day, and an operator should not have to filter them out.

using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Pkarr.DnsServer.Listeners;

internal static partial class ListenerLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "DNS listening on UDP and TCP {EndPoint}")]
    public static partial void Listening(ILogger logger, IPEndPoint endPoint);

    [LoggerMessage(Level = LogLevel.Debug, Message = "UDP receive error {Error}, likely an ICMP error of an earlier answer; receiving on")]
    public static partial void UdpReceiveFailed(ILogger logger, SocketError error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not send a UDP answer to {Client}: {Reason}")]
    public static partial void UdpSendFailed(ILogger logger, IPEndPoint client, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "TCP accept error {Error}; accepting on")]
    public static partial void AcceptFailed(ILogger logger, SocketError error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "TCP connection from {Client} refused: connection limit reached")]
    public static partial void TcpLimit(ILogger logger, IPAddress client);

    [LoggerMessage(Level = LogLevel.Debug, Message = "TCP connection from {Client} closed: idle")]
    public static partial void TcpIdleClosed(ILogger logger, IPAddress client);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Query from {Client} dropped: {Limit} queries are being answered")]
    public static partial void Overloaded(ILogger logger, IPAddress client, int limit);

    [LoggerMessage(Level = LogLevel.Error, Message = "The query handler failed; the query is not answered")]
    public static partial void HandlerFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "A DNS listener loop failed")]
    public static partial void LoopFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "DNS listener: queries still running {Bound} after shutdown began")]
    public static partial void ShutdownSlow(ILogger logger, TimeSpan bound);
}
