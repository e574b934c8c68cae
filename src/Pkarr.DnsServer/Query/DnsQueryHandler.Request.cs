// Reading a query (RFC 1035 §4.1, RFC 6891 §6): what the rest of the pipeline needs from it, and the verdict on its
// shape. The codec refuses the reserved Z bit (a Pkarr packet must not set it), but a query is not a packet and
// RFC 1035 §4.1.1 only asks that Z be zero in what we send, so the bit is cleared on a copy before parsing.

using System.Buffers.Binary;
using Pkarr.Dns;
using Pkarr.DnsServer.Answering;
using Pkarr.DnsServer.Forwarding;
using Pkarr.DnsServer.Packets;

namespace Pkarr.DnsServer.Query;

internal sealed partial class DnsQueryHandler
{
    private const int MinUdpPayload = 512;

    /// <summary>What the query's shape calls for.</summary>
    private enum Verdict
    {
        /// <summary>A well-formed QUERY with one question: answer it.</summary>
        Query,

        /// <summary>FORMERR: the body does not parse, QDCOUNT ≠ 1, or more than one OPT.</summary>
        FormatError,

        /// <summary>NOTIMP: an opcode other than QUERY.</summary>
        NotImplemented,

        /// <summary>BADVERS: an EDNS version other than 0.</summary>
        BadVersion,
    }

    /// <summary>RCODE values (RFC 1035 §4.1.1, RFC 6891 §9 for the extended BADVERS).</summary>
    private static class Rcode
    {
        public const int NoError = 0;
        public const int FormatError = 1;
        public const int ServerFailure = 2;
        public const int NameError = 3;
        public const int NotImplemented = 4;
        public const int Refused = 5;
        public const int BadVersion = 16;
    }

    /// <summary>What the response needs from the query.</summary>
    /// <param name="Id">The query ID.</param>
    /// <param name="Flags">The query's header flags with Z cleared.</param>
    private record struct Request(ushort Id, ushort Flags)
    {
        /// <summary>The question, when the query has exactly one that parses; echoed in the response.</summary>
        public DnsQuestion? Question { get; set; }

        /// <summary>Whether the query carries an OPT record (then so does the response).</summary>
        public bool Edns { get; set; }

        /// <summary>The requester's UDP payload size (at least 512; 512 without EDNS).</summary>
        public int UdpSize { get; set; }

        /// <summary>The EDNS DO bit (RFC 3225), echoed in our OPT.</summary>
        public bool DnssecOk { get; set; }
    }

    /// <summary>Where the asynchronous part of the pipeline takes over from the synchronous front.</summary>
    private enum ResumedStep
    {
        /// <summary>From the parse (steps 3–8): no kept response answers the query.</summary>
        Pipeline,

        /// <summary>REFUSED by the query rate limit; the query is still parsed for the response's question.</summary>
        Refused,

        /// <summary>From the packet source's answer for a kept Pkarr response's key, which changed since.</summary>
        Packet,

        /// <summary>From the forwarder's answer to a kept forwarded response's question, which changed since.</summary>
        Forwarded,
    }

    /// <summary>What the synchronous front hands on: the step, and the source's answer it asked for already (a
    /// ValueTask is consumed once, and asking again would count the query twice in the source's metrics).</summary>
    private readonly record struct Resumed(ResumedStep Step, PkarrNameMatch? Match, ValueTask<PacketLookup> Lookup,
        ValueTask<ForwardResult> Forwarded);

    /// <summary>Parses <paramref name="bytes"/> (at least a header, QR = 0) into <paramref name="request"/>.</summary>
    private static Verdict Parse(ReadOnlySpan<byte> bytes, ref Request request)
    {
        request.UdpSize = MinUdpPayload;
        byte[]? copy = null;
        if ((bytes[3] & ZFlag) != 0)
        {
            copy = bytes.ToArray();
            copy[3] &= unchecked((byte)~ZFlag);
            bytes = copy;
        }

        int questionCount = BinaryPrimitives.ReadUInt16BigEndian(bytes[4..]);
        if (!DnsMessage.TryParse(bytes, out var message, out _))
        {
            request.Question = questionCount == 1 ? QuestionAlone(bytes, copy) : null;
            return Verdict.FormatError;
        }

        ResourceRecord? opt = null;
        int optCount = 0;
        var additionals = message.Additionals;
        for (int i = 0; i < additionals.Count; i++)
        {
            if (additionals[i].Type == RecordType.OPT)
            {
                opt = additionals[i];
                optCount++;
            }
        }

        if (opt is not null)
        {
            request.Edns = true;
            request.UdpSize = Math.Max(MinUdpPayload, (int)(ushort)opt.Class);
            request.DnssecOk = (opt.Ttl & DoBit) != 0;
        }

        if (questionCount != 1)
        {
            return (request.Flags & OpcodeMask) != 0 ? Verdict.NotImplemented : Verdict.FormatError;
        }

        request.Question = message.Questions[0];
        if ((request.Flags & OpcodeMask) != 0)
        {
            return Verdict.NotImplemented;
        }

        if (optCount > 1)
        {
            return Verdict.FormatError;
        }

        return opt is null || ((opt.Ttl >> 16) & 0xFF) == 0 ? Verdict.Query : Verdict.BadVersion;
    }

    /// <summary>The question of a message whose later sections do not parse, so even a FORMERR echoes it.</summary>
    private static DnsQuestion? QuestionAlone(ReadOnlySpan<byte> bytes, byte[]? copy)
    {
        copy ??= bytes.ToArray();
        copy.AsSpan(6, 6).Clear();
        return DnsMessage.TryParse(copy, out var message, out _) ? message.Questions[0] : null;
    }
}
