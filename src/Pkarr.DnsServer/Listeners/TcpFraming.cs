// DNS over TCP framing (RFC 1035 §4.2.2, RFC 7766 §8): every message is preceded by its length, two bytes, big-endian.
//
//   +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//   |          LENGTH (16 bits)                      |
//   +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//   /          MESSAGE (LENGTH bytes)                /
//
// The bytes of a frame may arrive in any number of pieces, the length prefix split included.

using System.Buffers;
using System.Buffers.Binary;

namespace Pkarr.DnsServer.Listeners;

internal enum FrameStatus
{
    /// <summary>A whole message was read.</summary>
    Message,

    /// <summary>More bytes are needed.</summary>
    Incomplete,

    /// <summary>The length is shorter than a DNS header (zero included): not a DNS message, the stream is garbage.</summary>
    Invalid,
}

internal static class TcpFraming
{
    /// <summary>Takes the first frame off <paramref name="buffer"/>: on <see cref="FrameStatus.Message"/>,
    /// <paramref name="message"/> is its message and <paramref name="buffer"/> what follows it; otherwise
    /// <paramref name="buffer"/> is unchanged.</summary>
    public static FrameStatus TryReadMessage(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> message)
    {
        message = default;
        if (buffer.Length < 2)
        {
            return FrameStatus.Incomplete;
        }

        Span<byte> prefix = stackalloc byte[2];
        buffer.Slice(0, 2).CopyTo(prefix);
        int length = BinaryPrimitives.ReadUInt16BigEndian(prefix);
        if (length < DnsListener.HeaderLength)
        {
            return FrameStatus.Invalid;
        }

        if (buffer.Length < 2 + length)
        {
            return FrameStatus.Incomplete;
        }

        message = buffer.Slice(2, length);
        buffer = buffer.Slice(message.End);
        return FrameStatus.Message;
    }

    /// <summary>The frame of <paramref name="response"/> (at most 65535 bytes) in a pooled buffer of at least
    /// <c>2 + response.Length</c> bytes.</summary>
    public static byte[] Frame(ReadOnlySpan<byte> response)
    {
        byte[] frame = ArrayPool<byte>.Shared.Rent(2 + response.Length);
        BinaryPrimitives.WriteUInt16BigEndian(frame, checked((ushort)response.Length));
        response.CopyTo(frame.AsSpan(2));
        return frame;
    }
}
