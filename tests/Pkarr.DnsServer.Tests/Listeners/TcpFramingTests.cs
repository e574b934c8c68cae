using System.Buffers;
using Pkarr.DnsServer.Listeners;

namespace Pkarr.DnsServer.Tests.Listeners;

public sealed class TcpFramingTests
{
    [Fact]
    public void Frames_split_at_every_byte_are_read_whole_and_in_order()
    {
        byte[] first = FakeQueryHandler.Query(1);
        byte[] second = FakeQueryHandler.Query(2, "b.test");
        byte[] stream = [.. ListenerFixture.Frame(first), .. ListenerFixture.Frame(second)];

        var buffer = OneBytePerSegment(stream);
        Assert.Equal(FrameStatus.Message, TcpFraming.TryReadMessage(ref buffer, out var message));
        Assert.Equal(first, message.ToArray());
        Assert.Equal(FrameStatus.Message, TcpFraming.TryReadMessage(ref buffer, out message));
        Assert.Equal(second, message.ToArray());
        Assert.True(buffer.IsEmpty);
        Assert.Equal(FrameStatus.Incomplete, TcpFraming.TryReadMessage(ref buffer, out _));
    }

    [Fact]
    public void Every_prefix_of_a_frame_is_incomplete_and_leaves_the_buffer_alone()
    {
        byte[] frame = ListenerFixture.Frame(FakeQueryHandler.Query(3));
        for (int length = 0; length < frame.Length; length++)
        {
            var buffer = OneBytePerSegment(frame[..length]);
            Assert.Equal(FrameStatus.Incomplete, TcpFraming.TryReadMessage(ref buffer, out _));
            Assert.Equal(length, buffer.Length);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(11)]
    public void A_length_below_a_DNS_header_is_invalid(int length)
    {
        var buffer = new ReadOnlySequence<byte>([0, (byte)length, .. new byte[20]]);
        Assert.Equal(FrameStatus.Invalid, TcpFraming.TryReadMessage(ref buffer, out _));
    }

    [Fact]
    public void A_frame_carries_the_big_endian_length()
    {
        byte[] message = new byte[300];
        message[0] = 0xAB;
        byte[] frame = TcpFraming.Frame(message);
        Assert.Equal([0x01, 0x2C, 0xAB], frame[..3]);
        ArrayPool<byte>.Shared.Return(frame);
    }

    private static ReadOnlySequence<byte> OneBytePerSegment(byte[] bytes)
    {
        if (bytes.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new Segment(bytes.AsMemory(0, 1), 0);
        var last = first;
        for (int i = 1; i < bytes.Length; i++)
        {
            last = last.Append(bytes.AsMemory(i, 1));
        }

        return new ReadOnlySequence<byte>(first, 0, last, 1);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
