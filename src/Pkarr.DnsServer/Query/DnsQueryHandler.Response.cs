// Building the response message (RFC 1035 §4.1.1, RFC 6891 §6.1.3 and §7, RFC 7766 §8, RFC 8482): our id, the
// query's opcode, RD and CD copied, AA for authoritative Pkarr answers, RA when an upstream exists, AD only as
// ForwardAsync allows, the question echoed as received (letter case kept, so "0x20" resolvers accept the reply), and
// our OPT (UDP size = MaxUdpPayload, DO echoed, no options, extended RCODE bits) in every response to an EDNS query.
//
// Sizes. A UDP source address is unverified, so a UDP response never exceeds what the requester can take and we
// allow: min(requester's EDNS size, MaxUdpPayload), or 512 without EDNS; that is also what keeps the server from being
// an amplifier (a spoofed query never draws more than the limit, and the limit is what the honest requester asked
// for). When the response does not fit, the additional section goes first (the OPT stays); when it still does not
// fit, the answer is truncated to nothing: TC = 1 with the question and the OPT only, never a partial RRset, and the
// client retries over TCP. TCP and HTTPS (verified peers) take up to 65535 bytes; a response larger than that cannot
// be framed and becomes SERVFAIL.

using System.Buffers;
using Pkarr.Dns;
using Pkarr.DnsServer.Answering;
using Pkarr.DnsServer.Metrics;

namespace Pkarr.DnsServer.Query;

internal sealed partial class DnsQueryHandler
{
    private const ushort AaFlag = 0x0400;
    private const ushort TcFlag = 0x0200;
    private const ushort RaFlag = 0x0080;
    private const int MaxStreamMessage = ushort.MaxValue;
    private const int StackBufferLength = 4096;

    /// <summary>What a query's answer is, before it becomes a message.</summary>
    /// <param name="rcode">The (possibly extended) RCODE.</param>
    /// <param name="kind">The metrics kind.</param>
    private readonly struct Outcome(int rcode, QueryKind kind)
    {
        public int Rcode { get; } = rcode;

        public QueryKind Kind { get; } = kind;

        public bool Authoritative { get; init; }

        public bool AuthenticData { get; init; }

        public IReadOnlyList<ResourceRecord> Answers { get; init; } = [];

        public IReadOnlyList<ResourceRecord> Authorities { get; init; } = [];

        public IReadOnlyList<ResourceRecord> Additionals { get; init; } = [];

        /// <summary>Where a CNAME chain leaves the packet (Pkarr steps only); followed by FollowAsync.</summary>
        public DnsName? Next { get; init; }

        /// <summary>Whether this Pkarr step is a referral (NS in authority, glue in additional); followed by
        /// DelegateAsync when the client asked for recursion.</summary>
        public bool Referral { get; init; }

        /// <summary>The object the one source call of a one-step answer handed back (the packet source's PacketLookup
        /// or the forwarder's ForwardResult); null for anything else, chains and delegations included, so only a
        /// one-step answer's response is kept (DnsQueryHandler.Ready.cs).</summary>
        public object? Source { get; init; }

        /// <summary>The query name split around its key, with <see cref="Source"/> for a Pkarr answer.</summary>
        public PkarrNameMatch? Match { get; init; }

        public static Outcome Bare(int rcode, QueryKind kind) => new(rcode, kind);
    }

    /// <summary>The response bytes, sized for <paramref name="transport"/>; <paramref name="rcode"/> is what was sent.</summary>
    private byte[] Respond(in Request request, in Outcome outcome, DnsTransport transport, out int rcode)
    {
        rcode = outcome.Rcode;
        int limit = transport != DnsTransport.Udp ? MaxStreamMessage
            : request.Edns ? Math.Min(request.UdpSize, _maxUdpPayload) : MinUdpPayload;
        DnsQuestion[] questions = request.Question is { } question ? [question] : [];
        var opt = request.Edns ? OptFor(rcode, request.DnssecOk) : null;
        IReadOnlyList<ResourceRecord> optOnly = opt is null ? [] : [opt];
        ushort flags = FlagsFor(request, rcode, outcome.Authoritative, outcome.AuthenticData);

        var message = new DnsMessage
        {
            Id = request.Id,
            Flags = flags,
            Questions = questions,
            Answers = outcome.Answers,
            Authorities = outcome.Authorities,
            Additionals = opt is null ? outcome.Additionals : outcome.Additionals.Count == 0 ? optOnly : [.. outcome.Additionals, opt],
        };
        if (TryEncode(message, limit) is { } full)
        {
            return full;
        }

        if (outcome.Additionals.Count > 0)
        {
            message = new DnsMessage
            {
                Id = request.Id,
                Flags = flags,
                Questions = questions,
                Answers = outcome.Answers,
                Authorities = outcome.Authorities,
                Additionals = optOnly,
            };
            if (TryEncode(message, limit) is { } withoutAdditionals)
            {
                return withoutAdditionals;
            }
        }

        if (transport == DnsTransport.Udp)
        {
            flags |= TcFlag;
        }
        else
        {
            rcode = Rcode.ServerFailure;
            flags = FlagsFor(request, rcode, authoritative: false, authenticData: false);
        }

        message = new DnsMessage { Id = request.Id, Flags = flags, Questions = questions, Additionals = optOnly };
        return TryEncode(message, limit) ?? HeaderOnly(request.Id, flags);
    }

    private ushort FlagsFor(in Request request, int rcode, bool authoritative, bool authenticData)
    {
        int flags = QrFlag | (request.Flags & (OpcodeMask | RdFlag | CdFlag)) | (rcode & 0xF);
        if (authoritative)
        {
            flags |= AaFlag;
        }

        if (_forwarder.HasUpstreams)
        {
            flags |= RaFlag;
        }

        if (authenticData)
        {
            flags |= AdFlag;
        }

        return (ushort)flags;
    }

    /// <summary>Our OPT for a response with <paramref name="rcode"/>: the upper 8 bits of a 12-bit RCODE go in its TTL.</summary>
    private ResourceRecord OptFor(int rcode, bool dnssecOk)
        => rcode <= 0xF ? (dnssecOk ? _optDnssecOk : _opt) : OptRecord(rcode, dnssecOk);

    /// <summary>An OPT record (RFC 6891 §6.1.2): CLASS = our UDP size; TTL = extended RCODE, version 0, DO; no options.</summary>
    private ResourceRecord OptRecord(int rcode, bool dnssecOk)
    {
        uint ttl = ((uint)(rcode >> 4) & 0xFF) << 24;
        if (dnssecOk)
        {
            ttl |= DoBit;
        }

        return new ResourceRecord(DnsName.Root, (DnsClass)_maxUdpPayload, ttl, new UnknownData(RecordType.OPT, []));
    }

    /// <summary>The message's bytes if they fit in <paramref name="limit"/>; null otherwise.</summary>
    private static byte[]? TryEncode(DnsMessage message, int limit)
    {
        byte[]? rented = null;
        Span<byte> buffer = limit <= StackBufferLength
            ? stackalloc byte[StackBufferLength]
            : (rented = ArrayPool<byte>.Shared.Rent(limit));
        try
        {
            return message.TryEncode(buffer[..limit], compress: true, out int written) ? buffer[..written].ToArray() : null;
        }
        catch (Exception exception) when (exception is InvalidOperationException or ArgumentException)
        {
            // More than 65535 records in a section, or an rdata over 65535 bytes: cannot be sent, so it does not fit.
            return null;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>A bare header (no sections): the last resort, which always fits.</summary>
    private static byte[] HeaderOnly(ushort id, ushort flags)
    {
        byte[] header = new byte[HeaderLength];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(header, id);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(2), flags);
        return header;
    }
}
