// The bytes of one upstream query and the checks a reply must pass before it is believed (RFC 5452 §9.1: id,
// source, question). The query (RFC 1035 §4.1, RFC 6891 §6.1.2):
//
//   ID (random) | flags RD (none to a delegated server) [+ CD] | QD=1 AN=0 NS=0 AR=1 | QNAME (lower-cased) QTYPE QCLASS |
//   OPT: root, type 41, class = 1232 (our UDP payload), TTL = ext-rcode 0, version 0, DO [0x8000], rdlength 0
//
// The name is sent lower-cased: replies then echo one spelling for every caller's spelling, which is what the cache
// stores under its case-insensitive key. (0x20 randomisation would add little: the reply is already bound to a
// 16-bit random id and a random source port on a socket connected to the upstream.)
// 1232 bytes is the DNS Flag Day 2020 payload: answers that do not fit come back truncated and are retried over TCP.

using System.Buffers.Binary;
using System.Security.Cryptography;
using Pkarr.Dns;

namespace Pkarr.DnsServer.Forwarding;

internal static class UpstreamWire
{
    /// <summary>The UDP payload size we advertise.</summary>
    public const ushort UdpPayload = 1232;

    /// <summary>Longest query: header, longest name, type and class, OPT.</summary>
    public const int MaxQueryLength = HeaderLength + DnsName.MaxWireLength + 4 + OptLength;

    /// <summary>Largest DNS message (TCP length prefix); the receive buffer size, so no reply is ever cut.</summary>
    public const int MaxMessageLength = ushort.MaxValue;

    private const int HeaderLength = 12;
    private const int OptLength = 11;
    private const ushort RecursionDesired = 0x0100;
    private const ushort CheckingDisabled = 0x0010;
    private const ushort Response = 0x8000;
    private const ushort Truncated = 0x0200;
    private const ushort Reserved = 0x0040;
    private const uint DnssecOk = 0x8000;

    /// <summary>A cryptographically random query id (RFC 5452 §4.3).</summary>
    public static ushort RandomId()
    {
        Span<byte> bytes = stackalloc byte[2];
        RandomNumberGenerator.Fill(bytes);
        return BinaryPrimitives.ReadUInt16BigEndian(bytes);
    }

    /// <summary>Writes the query; <paramref name="destination"/> holds at least <see cref="MaxQueryLength"/> bytes.
    /// RD is set when <paramref name="recursive"/> (upstream resolvers), clear for a delegated authoritative server.</summary>
    /// <returns>The query length; the question ends at <paramref name="questionEnd"/>.</returns>
    public static int WriteQuery(Span<byte> destination, ushort id, DnsQuestion question, ForwardFlags flags, out int questionEnd, bool recursive = true)
    {
        ushort headerFlags = recursive ? RecursionDesired : (ushort)0;
        if ((flags & ForwardFlags.CheckingDisabled) != 0)
        {
            headerFlags |= CheckingDisabled;
        }

        BinaryPrimitives.WriteUInt16BigEndian(destination, id);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], headerFlags);
        BinaryPrimitives.WriteUInt16BigEndian(destination[4..], 1);
        BinaryPrimitives.WriteUInt32BigEndian(destination[6..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(destination[10..], 1);
        int at = HeaderLength;
        var name = question.Name;
        for (int i = 0; i < name.LabelCount; i++)
        {
            var label = name.Label(i);
            destination[at++] = (byte)label.Length;
            foreach (byte b in label)
            {
                destination[at++] = DnsNames.Lower(b);
            }
        }

        destination[at++] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(destination[at..], (ushort)question.Type);
        BinaryPrimitives.WriteUInt16BigEndian(destination[(at + 2)..], (ushort)question.Class);
        at += 4;
        questionEnd = at;

        destination[at] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(destination[(at + 1)..], (ushort)RecordType.OPT);
        BinaryPrimitives.WriteUInt16BigEndian(destination[(at + 3)..], UdpPayload);
        BinaryPrimitives.WriteUInt32BigEndian(destination[(at + 5)..], (flags & ForwardFlags.DnssecOk) != 0 ? DnssecOk : 0);
        BinaryPrimitives.WriteUInt16BigEndian(destination[(at + 9)..], 0);
        return at + OptLength;
    }

    /// <summary>
    /// Whether <paramref name="reply"/> answers <paramref name="query"/>: a response (QR) with opcode QUERY, the same id,
    /// one question, and that question equal to ours (name ASCII case-insensitively, type and class exactly). Checked
    /// on the raw bytes, before any parsing: a question is first in the message, so it holds no compression pointer.
    /// </summary>
    public static bool IsReplyTo(ReadOnlySpan<byte> reply, ReadOnlySpan<byte> query, int questionEnd)
    {
        if (reply.Length < questionEnd
            || reply[0] != query[0] || reply[1] != query[1]
            || (reply[2] & 0x80) == 0 || (reply[2] & 0x78) != 0
            || reply[4] != 0 || reply[5] != 1)
        {
            return false;
        }

        int typeAt = questionEnd - 4;
        for (int i = HeaderLength; i < typeAt; i++)
        {
            // Length bytes are ≤ 63, below 'A', so folding every byte compares them exactly too.
            if (reply[i] != query[i] && DnsNames.Lower(reply[i]) != DnsNames.Lower(query[i]))
            {
                return false;
            }
        }

        return reply.Slice(typeAt, 4).SequenceEqual(query.Slice(typeAt, 4));
    }

    /// <summary>Whether the reply has TC set.</summary>
    public static bool IsTruncated(ReadOnlySpan<byte> reply) => (BinaryPrimitives.ReadUInt16BigEndian(reply[2..]) & Truncated) != 0;

    /// <summary>
    /// Parses a matched reply into the message handed to callers: the Z bit cleared first (RFC 1035 §4.1.1 says it
    /// must be zero, but a resolver that sets it still sent a usable answer; our parser refuses it, as pkarr packets
    /// must), and OPT records removed from the additional section (the upstream's EDNS is not the client's).
    /// Anything else the parser refuses (a record class outside IN/CS/CH/HS/NONE, malformed rdata) makes the reply
    /// unusable: the next upstream is asked.
    /// </summary>
    public static bool TryParseReply(Span<byte> reply, out DnsMessage? message)
    {
        reply[3] &= unchecked((byte)~Reserved);
        if (!DnsMessage.TryParse(reply, out var parsed, out _))
        {
            message = null;
            return false;
        }

        message = WithoutOpt(parsed);
        return true;
    }

    private static DnsMessage WithoutOpt(DnsMessage message)
    {
        var additionals = message.Additionals;
        int opt = 0;
        for (int i = 0; i < additionals.Count; i++)
        {
            if (additionals[i].Type == RecordType.OPT)
            {
                opt++;
            }
        }

        if (opt == 0)
        {
            return message;
        }

        var kept = new ResourceRecord[additionals.Count - opt];
        int at = 0;
        for (int i = 0; i < additionals.Count; i++)
        {
            if (additionals[i].Type != RecordType.OPT)
            {
                kept[at++] = additionals[i];
            }
        }

        return new DnsMessage
        {
            Id = message.Id,
            Flags = message.Flags,
            Questions = message.Questions,
            Answers = message.Answers,
            Authorities = message.Authorities,
            Additionals = kept,
        };
    }
}
