// Responses kept as wire bytes, so a query asked again is answered with a copy. Resolvers ask the same names over and
// over, byte for byte but for the id, where the pipeline parses each query, matches its name, answers from the packet
// or the upstream's answer and encodes the response: a kilobyte of short-lived objects per cached answer, whose
// collections pause every receive loop.
//
//   query ─▶ slot (hash of transport and the bytes after the id) ─▶ same bytes? ─▶ ask the source as the pipeline
//            would ─▶ the same object as when the response was made? ─▶ the kept response with this query's id
//   anything else goes through the pipeline, and a one-step answer (below) is kept in the slot for the next query.
//
// Why a copy is the pipeline's response: the response depends on the query's bytes after the id (name with its
// letter case, type, class, flags, EDNS size and DO), the transport, the handler's fixed options, whether upstreams
// exist, and what the one source call of a one-step answer handed back: a PacketLookup from the packet source or a
// ForwardResult from the forwarder. Both hand out one object per packet (or cached upstream answer) and second of
// age, so the same object means the same records with the same TTLs. Asking the source again also keeps the
// pipeline's side effects: cache metrics, a background refresh of a stale packet. A one-step answer is one packet
// lookup of the query name or one forwarded answer to its question, with no CNAME followed past it and no delegation
// followed: chains and delegations depend on more than one source and are never kept.
//
// Bounds. The table is two-way set-associative (a query has two slots; a newcomer takes the first, and what was
// there moves to the second), so it needs no eviction bookkeeping and is read without a lock: an entry is immutable
// and published whole. Only responses of at most KeptResponseLimit bytes are
// kept, and the source's object is held weakly, so the table never keeps a packet or an upstream answer alive after
// its cache let it go: at most ReadySlots × (KeptResponseLimit + the query) bytes, about 11 MB. A resolver that
// randomises the letter case of names ("0x20") sends new bytes each time and is answered by the pipeline.

using System.Buffers.Binary;
using Pkarr.DnsServer.Answering;
using Pkarr.DnsServer.Forwarding;
using Pkarr.DnsServer.Packets;

namespace Pkarr.DnsServer.Query;

internal sealed partial class DnsQueryHandler
{
    /// <summary>Slots of the table (a power of two, two per set): room for a few thousand hot questions.</summary>
    internal const int ReadySlots = 8192;

    /// <summary>The largest response kept: the UDP size most resolvers advertise (DNS flag day 2020), so nearly every
    /// cached answer over UDP fits.</summary>
    internal const int KeptResponseLimit = 1232;

    private readonly ReadyAnswer?[] _ready = new ReadyAnswer?[ReadySlots];

    /// <summary>Responses kept now (tests look inside).</summary>
    internal int KeptResponses
    {
        get
        {
            int count = 0;
            foreach (var entry in _ready)
            {
                count += entry is null ? 0 : 1;
            }

            return count;
        }
    }

    /// <summary>The kept answer to a query with the same bytes after the id on the same transport, or null; none
    /// when upstreams came or went since (they decide RA, and whether a name is forwarded at all).</summary>
    private ReadyAnswer? FindReady(ReadOnlySpan<byte> query, DnsTransport transport)
    {
        int set = SetOf(query, transport);
        var entry = Volatile.Read(ref _ready[set]);
        if (entry is null || !entry.Answers(query, transport))
        {
            entry = Volatile.Read(ref _ready[set + 1]);
            if (entry is null || !entry.Answers(query, transport))
            {
                return null;
            }
        }

        return entry.HasUpstreams == _forwarder.HasUpstreams ? entry : null;
    }

    /// <summary>Keeps <paramref name="response"/> to <paramref name="query"/> when it is a one-step answer (one with a
    /// <see cref="Outcome.Source"/>) that is small enough: in the first slot of its set, where an entry for another
    /// query moves to the second slot, so two hot queries that share a set are both kept.</summary>
    private void KeepReady(ReadOnlySpan<byte> query, DnsTransport transport, in Request request, in Outcome outcome, byte[] response, int rcode)
    {
        if (outcome.Source is not { } source || response.Length > KeptResponseLimit)
        {
            return;
        }

        var entry = new ReadyAnswer(transport, query[2..].ToArray(), request, outcome.Kind, rcode, outcome.Match, source,
            _forwarder.HasUpstreams, response);
        int set = SetOf(query, transport);
        var first = Volatile.Read(ref _ready[set]);
        if (first is not null && !first.Answers(query, transport))
        {
            // Racing writers may lose an entry here: the next query for it is answered by the pipeline and kept again.
            Volatile.Write(ref _ready[set + 1], first);
        }

        Volatile.Write(ref _ready[set], entry);
    }

    /// <summary>Whether the source, asked again, handed back at once the object the kept response was made from.
    /// <paramref name="rest"/> is what the pipeline goes on from otherwise: the result itself when
    /// <paramref name="asked"/> completed (a ValueTask is consumed once), else <paramref name="asked"/>.</summary>
    private static bool StillAnswers<T>(ReadyAnswer kept, ValueTask<T> asked, out ValueTask<T> rest)
        where T : class
    {
        if (!asked.IsCompletedSuccessfully)
        {
            rest = asked;
            return false;
        }

        var result = asked.Result;
        rest = new ValueTask<T>(result);
        return kept.Source.TryGetTarget(out var source) && ReferenceEquals(source, result);
    }

    /// <summary>The kept response with <paramref name="id"/>, in <paramref name="buffer"/> when it fits there.</summary>
    private ReadOnlyMemory<byte> Reuse(ReadyAnswer kept, ushort id, Memory<byte> buffer, QueryContext context, long started)
    {
        byte[] bytes = kept.Response;
        var response = buffer.Length >= bytes.Length ? buffer[..bytes.Length] : new byte[bytes.Length];
        bytes.CopyTo(response);
        BinaryPrimitives.WriteUInt16BigEndian(response.Span, id);
        _metrics.Query(context.Transport, kept.Kind, kept.Rcode, _time.GetElapsedTime(started));
        LogQuery(_logger, kept.Request.Question?.Name, kept.Request.Question?.Type, context.Client, kept.Rcode);
        return response;
    }

    /// <summary>The first of the two slots where <paramref name="query"/> may be kept.</summary>
    private static int SetOf(ReadOnlySpan<byte> query, DnsTransport transport)
    {
        var hash = default(HashCode);
        hash.Add(transport);
        hash.AddBytes(query[2..]);
        return (hash.ToHashCode() & ((ReadySlots / 2) - 1)) * 2;
    }

    /// <summary>A kept response and what it was made from.</summary>
    private sealed class ReadyAnswer(DnsTransport transport, byte[] query, Request request, string kind, int rcode,
        PkarrNameMatch? match, object source, bool hasUpstreams, byte[] response)
    {
        /// <summary>The transport the query came on (it decides the size rules).</summary>
        public DnsTransport Transport { get; } = transport;

        /// <summary>The query's bytes after the id.</summary>
        public byte[] Query { get; } = query;

        /// <summary>What the pipeline read from the query (its id aside).</summary>
        public Request Request { get; } = request;

        /// <summary>The metrics kind of the answer.</summary>
        public string Kind { get; } = kind;

        /// <summary>The RCODE sent.</summary>
        public int Rcode { get; } = rcode;

        /// <summary>The query name split around its key, for a Pkarr answer; null for a forwarded one.</summary>
        public PkarrNameMatch? Match { get; } = match;

        /// <summary>The packet source's PacketLookup or the forwarder's ForwardResult the response was made from.</summary>
        public WeakReference<object> Source { get; } = new(source);

        /// <summary>Whether upstreams existed then.</summary>
        public bool HasUpstreams { get; } = hasUpstreams;

        /// <summary>The response, with the id of the query that made it.</summary>
        public byte[] Response { get; } = response;

        /// <summary>Whether this is the answer to <paramref name="query"/> (a whole query, id included) on
        /// <paramref name="transport"/>.</summary>
        public bool Answers(ReadOnlySpan<byte> query, DnsTransport transport)
            => Transport == transport && query[2..].SequenceEqual(Query);
    }
}
