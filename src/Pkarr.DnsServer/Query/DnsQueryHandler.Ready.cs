// Responses kept as wire bytes, so a query asked again is answered with a copy. Resolvers ask the same names over and
// over, byte for byte but for the id, where the pipeline parses each query, matches its name, answers from the packet
// or the upstream's answer and encodes the response: a kilobyte of short-lived objects per cached answer, whose
// collections pause every receive loop.
//
//   query ─▶ slot (hash of transport and the bytes after the id, name letters folded) ─▶ same bytes, or the same
//            but for the letter case of the name where the copy stays exact (below)? ─▶ ask the source as the
//            pipeline would ─▶ the same object as when the response was made? ─▶ the kept response with this query's
//            id and its question name
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
// Letter case ("0x20", draft-vixie-dnsext-dns0x20). A resolver that randomises the case of the letters A–Z in the
// name sends new bytes each time; its query finds the slot of every other spelling (only A–Z fold, every other byte
// must match exactly), and the copy gets the query's own name bytes in the question (same length and positions).
// The copy is then the pipeline's bytes only where the encoder, whose compression matches names byte for byte,
// makes the same choices for both spellings. An answer owner that is the query name itself (a Pkarr answer) is
// always a pointer to the whole question, so it follows the query's case in the copy as in the pipeline. Every other
// name (an upstream's records, which the forwarder asked for in lower case; names from the packet; the zone's key
// label in its SOA) is spelled as its source spells it, and may meet a suffix of the question name: where it equals
// the question's bytes the encoder writes a pointer, elsewhere the labels. So when a response is kept, each such
// name suffix that equals a suffix of the question name ignoring case (and has a letter) is noted with whether it
// equalled the kept spelling exactly, and another spelling takes the copy only when each noted suffix equals its
// bytes exactly or not, as the kept one did: every pointer and label then falls where the pipeline puts it, and the
// copy is byte for byte the pipeline's answer. A name the pipeline ends with the query's own suffix (a TLD or an
// origin after the key) meets that suffix exactly, so its note asks for the same spelling of the suffix, under which
// it is the same bytes too. Otherwise (an upstream's lower-case owner met by "com" in one spelling and "COM" in the
// other, say) the pipeline answers and its response takes the slot; a response with record data whose names are not
// known here, or with more than MaxCaseChecks notes, is reused for its own spelling only. Comparing a query with the
// notes reads a few suffixes of its name and allocates nothing.

// Bounds. The table is two-way set-associative (a query has two slots; a newcomer takes the first, and what was
// there moves to the second unless it is the same question in another spelling), so it needs no eviction
// bookkeeping and is read without a lock: an entry is immutable and published whole. Only responses of at most
// KeptResponseLimit bytes are kept, and the source's object is held weakly, so the table never keeps a packet or an
// upstream answer alive after its cache let it go: at most ReadySlots × (KeptResponseLimit + the query) bytes, about
// 11 MB, and a few noted suffixes per entry.

using System.Buffers.Binary;
using Pkarr.Dns;
using Pkarr.DnsServer.Answering;
using Pkarr.DnsServer.Forwarding;
using Pkarr.DnsServer.Metrics;
using Pkarr.DnsServer.Packets;

namespace Pkarr.DnsServer.Query;

internal sealed partial class DnsQueryHandler
{
    /// <summary>Slots of the table (a power of two, two per set): room for a few thousand hot questions.</summary>
    internal const int ReadySlots = 8192;

    /// <summary>The largest response kept: the UDP size most resolvers advertise (DNS flag day 2020), so nearly every
    /// cached answer over UDP fits.</summary>
    internal const int KeptResponseLimit = 1232;

    /// <summary>The most name suffixes noted for one kept response; a response with more is reused only for its own
    /// spelling.</summary>
    private const int MaxCaseChecks = 8;

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

    /// <summary>Forgets every kept response (tests compare a copy with what the pipeline answers).</summary>
    internal void ForgetKeptResponses() => Array.Clear(_ready);

    /// <summary>The kept answer to a query with the same bytes after the id on the same transport, or with the same but
    /// for the letter case of the name where the copy stays exact (<paramref name="exact"/> false), or null; none when
    /// upstreams came or went since (they decide RA, and whether a name is forwarded at all).</summary>
    private ReadyAnswer? FindReady(ReadOnlySpan<byte> query, DnsTransport transport, out bool exact)
    {
        exact = false;
        int nameLength = QuestionNameLength(query);
        int set = SetOf(query, transport, nameLength);
        var entry = Volatile.Read(ref _ready[set]);
        if (entry is null || !entry.Answers(query, transport, nameLength, out exact))
        {
            entry = Volatile.Read(ref _ready[set + 1]);
            if (entry is null || !entry.Answers(query, transport, nameLength, out exact))
            {
                return null;
            }
        }

        return entry.HasUpstreams == _forwarder.HasUpstreams ? entry : null;
    }

    /// <summary>Keeps <paramref name="response"/> to <paramref name="query"/> when it is a one-step answer (one with a
    /// <see cref="Outcome.Source"/>) that is small enough: in the first slot of its set, where an entry for another
    /// question moves to the second slot, so two hot questions that share a set are both kept.</summary>
    private void KeepReady(ReadOnlySpan<byte> query, DnsTransport transport, in Request request, in Outcome outcome, byte[] response, int rcode)
    {
        if (outcome.Source is not { } source || response.Length > KeptResponseLimit)
        {
            return;
        }

        int nameLength = QuestionNameLength(query);
        var checks = nameLength > 0 ? CaseChecksFor(query, nameLength, request, outcome, response) : null;
        var entry = new ReadyAnswer(transport, query[2..].ToArray(), nameLength, checks, request, outcome.Kind, rcode,
            outcome.Match, source, _forwarder.HasUpstreams, response);
        int set = SetOf(query, transport, nameLength);
        var first = Volatile.Read(ref _ready[set]);
        if (first is not null && !first.SameQuestion(query, transport, nameLength, out _))
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

    /// <summary>The kept response with <paramref name="id"/> and, when the query spells its name otherwise
    /// (<paramref name="exact"/> false), the query's name in the question; in <paramref name="buffer"/> when it fits
    /// there.</summary>
    private ReadOnlyMemory<byte> Reuse(ReadyAnswer kept, ushort id, ReadOnlySpan<byte> query, bool exact, Memory<byte> buffer,
        QueryContext context, long started)
    {
        byte[] bytes = kept.Response;
        var response = buffer.Length >= bytes.Length ? buffer[..bytes.Length] : new byte[bytes.Length];
        bytes.CopyTo(response);
        BinaryPrimitives.WriteUInt16BigEndian(response.Span, id);
        if (!exact)
        {
            query.Slice(HeaderLength, kept.NameLength).CopyTo(response.Span[HeaderLength..]);
        }

        _metrics.Query(context.Transport, kept.Kind, kept.Rcode, _time.GetElapsedTime(started));
        LogQuery(_logger, kept.Request.Question?.Name, kept.Request.Question?.Type, context.Client, kept.Rcode);
        return response;
    }

    /// <summary>What the pipeline reads from <paramref name="query"/>, in place of a kept request made from another
    /// spelling of its name; the verdict is the kept one's (Query), as nothing else differs.</summary>
    private static void Reread(ReadOnlySpan<byte> query, ref Request request)
    {
        request = new Request(request.Id, request.Flags);
        _ = Parse(query, ref request);
    }

    /// <summary>The wire length of the question name (labels and the closing zero) right after the header, or -1 when
    /// there it is not a run of plain labels inside the query (a pointer, or cut short): such a query is matched
    /// byte for byte only.</summary>
    private static int QuestionNameLength(ReadOnlySpan<byte> query)
    {
        int at = HeaderLength;
        while (at < query.Length && at - HeaderLength < DnsName.MaxWireLength)
        {
            byte length = query[at];
            if (length == 0)
            {
                return at + 1 - HeaderLength;
            }

            if (length > DnsName.MaxLabelLength)
            {
                return -1;
            }

            at += 1 + length;
        }

        return -1;
    }

    /// <summary>The first of the two slots where <paramref name="query"/> may be kept (tests make two queries share
    /// them).</summary>
    internal static int SetOf(ReadOnlySpan<byte> query, DnsTransport transport)
        => SetOf(query, transport, QuestionNameLength(query));

    /// <summary>The first of the two slots where <paramref name="query"/> may be kept: every spelling of its name
    /// (bytes ORed with 0x20, which folds A–Z; the few other pairs it merges are told apart by the comparison)
    /// shares it.</summary>
    private static int SetOf(ReadOnlySpan<byte> query, DnsTransport transport, int nameLength)
    {
        var hash = default(HashCode);
        hash.Add(transport);
        if (nameLength <= 0)
        {
            hash.AddBytes(query[2..]);
        }
        else
        {
            const ulong Fold = 0x2020202020202020;
            hash.AddBytes(query[2..HeaderLength]);
            var name = query.Slice(HeaderLength, nameLength);
            while (name.Length >= 8)
            {
                hash.Add(BinaryPrimitives.ReadUInt64LittleEndian(name) | Fold);
                name = name[8..];
            }

            ulong tail = 0;
            foreach (byte b in name)
            {
                tail = (tail << 8) | (byte)(b | 0x20);
            }

            hash.Add(tail);

            hash.AddBytes(query[(HeaderLength + nameLength)..]);
        }

        return (hash.ToHashCode() & ((ReadySlots / 2) - 1)) * 2;
    }

    /// <summary>
    /// The name suffixes of <paramref name="response"/> that another spelling of the query name could compress
    /// otherwise (see the top of the file), each with whether it equals the query's spelling exactly; null when the
    /// response is reused for this spelling only: its question is not the query's name, a record's names are not
    /// known here, or there are too many.
    /// </summary>
    private static CaseCheck[]? CaseChecksFor(ReadOnlySpan<byte> query, int nameLength, in Request request, in Outcome outcome,
        byte[] response)
    {
        if (response.Length < HeaderLength + nameLength || BinaryPrimitives.ReadUInt16BigEndian(response.AsSpan(4)) != 1
            || !response.AsSpan(HeaderLength, nameLength).SequenceEqual(query.Slice(HeaderLength, nameLength)))
        {
            return null;
        }

        // The query name itself, as a Pkarr answer's owner, is always a pointer to the whole question.
        var queryName = outcome.Match is not null ? request.Question?.Name : null;
        var checks = new List<CaseCheck>();
        var name = query.Slice(HeaderLength, nameLength);
        return Note(outcome.Answers, name, queryName, checks) && Note(outcome.Authorities, name, queryName, checks)
            && Note(outcome.Additionals, name, queryName, checks)
                ? [.. checks]
                : null;
    }

    /// <summary>Notes the names of <paramref name="records"/>; false when one has data whose names are not known.</summary>
    private static bool Note(IReadOnlyList<ResourceRecord> records, ReadOnlySpan<byte> question, DnsName? queryName,
        List<CaseCheck> checks)
    {
        foreach (var record in records)
        {
            if (!ReferenceEquals(record.Name, queryName) && !Note(record.Name, question, checks))
            {
                return false;
            }

            bool known = record.Data switch
            {
                CnameData cname => Note(cname.Target, question, checks),
                NsData ns => Note(ns.NameServer, question, checks),
                PtrData ptr => Note(ptr.Target, question, checks),
                MxData mx => Note(mx.Exchange, question, checks),
                SrvData srv => Note(srv.Target, question, checks),
                SvcbData svcb => Note(svcb.Target, question, checks),
                SoaData soa => Note(soa.PrimaryNameServer, question, checks) && Note(soa.ResponsibleMailbox, question, checks),
                AData or AaaaData or TxtData or CaaData or UnknownData => true,
                _ => false,
            };
            if (!known)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Notes each suffix of <paramref name="name"/> that equals a suffix of <paramref name="question"/> (the
    /// query name's wire bytes) ignoring case and has a letter; false when that makes too many.</summary>
    private static bool Note(DnsName name, ReadOnlySpan<byte> question, List<CaseCheck> checks)
    {
        // Shortest first: a suffix that meets none of the question's cannot be part of a longer one that does.
        int length = 1;
        for (int label = name.LabelCount - 1; label >= 0; label--)
        {
            length += 1 + name.Label(label).Length;
            int at = question.Length - length;
            if (at < 0 || !IsLabelStart(question, at) || !SuffixEqualsIgnoreCase(name, label, question[at..], out bool exact))
            {
                return true;
            }

            if (!HasLetter(question[at..]) || Noted(checks, HeaderLength + at, name, label))
            {
                continue;
            }

            if (checks.Count == MaxCaseChecks)
            {
                return false;
            }

            checks.Add(new CaseCheck(HeaderLength + at, SuffixBytes(name, label, length), exact));
        }

        return true;
    }

    /// <summary>Whether the labels of <paramref name="name"/> from <paramref name="label"/> on are noted at
    /// <paramref name="offset"/> already, in the same spelling (many records share an owner).</summary>
    private static bool Noted(List<CaseCheck> checks, int offset, DnsName name, int label)
    {
        foreach (var check in checks)
        {
            if (check.Offset == offset && SuffixEqualsIgnoreCase(name, label, check.Spelling, out bool exact) && exact)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether a label of the wire name <paramref name="question"/> starts at <paramref name="at"/>.</summary>
    private static bool IsLabelStart(ReadOnlySpan<byte> question, int at)
    {
        int position = 0;
        while (position < at)
        {
            position += 1 + question[position];
        }

        return position == at;
    }

    /// <summary>Whether the labels of <paramref name="name"/> from <paramref name="label"/> on spell
    /// <paramref name="wire"/> (labels and the closing zero) ignoring the case of A–Z; <paramref name="exact"/> when
    /// byte for byte.</summary>
    private static bool SuffixEqualsIgnoreCase(DnsName name, int label, ReadOnlySpan<byte> wire, out bool exact)
    {
        exact = true;
        int at = 0;
        for (int i = label; i < name.LabelCount; i++)
        {
            var bytes = name.Label(i);
            if (at + 1 + bytes.Length > wire.Length || wire[at] != bytes.Length)
            {
                return false;
            }

            var other = wire.Slice(at + 1, bytes.Length);
            if (!bytes.SequenceEqual(other))
            {
                exact = false;
                if (!Labels.EqualsIgnoreCase(bytes, other))
                {
                    return false;
                }
            }

            at += 1 + bytes.Length;
        }

        return at + 1 == wire.Length && wire[at] == 0;
    }

    /// <summary>The wire bytes of the labels of <paramref name="name"/> from <paramref name="label"/> on.</summary>
    private static byte[] SuffixBytes(DnsName name, int label, int length)
    {
        byte[] wire = new byte[length];
        int at = 0;
        for (int i = label; i < name.LabelCount; i++)
        {
            var bytes = name.Label(i);
            wire[at] = (byte)bytes.Length;
            bytes.CopyTo(wire.AsSpan(at + 1));
            at += 1 + bytes.Length;
        }

        return wire;
    }

    private static bool HasLetter(ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
        {
            if (DnsNames.Lower(b) is >= (byte)'a' and <= (byte)'z')
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A name suffix of a kept response that meets the question's suffix at <see cref="Offset"/> ignoring
    /// case: another spelling of the query gets the copy only when it equals <see cref="Spelling"/> exactly just when
    /// the kept query did (<see cref="Matched"/>).</summary>
    /// <param name="Offset">Where the question's suffix starts in the query (and the response).</param>
    /// <param name="Spelling">The response name's suffix, wire bytes.</param>
    /// <param name="Matched">Whether the kept query's suffix there was exactly <paramref name="Spelling"/>.</param>
    private sealed record CaseCheck(int Offset, byte[] Spelling, bool Matched)
    {
        /// <summary>Whether the question's suffix <paramref name="suffix"/> (from <see cref="Offset"/> on) is spelled
        /// exactly so.</summary>
        public bool Matches(ReadOnlySpan<byte> suffix) => suffix.SequenceEqual(Spelling);
    }

    /// <summary>A kept response and what it was made from.</summary>
    private sealed class ReadyAnswer(DnsTransport transport, byte[] query, int nameLength, CaseCheck[]? caseChecks,
        Request request, QueryKind kind, int rcode, PkarrNameMatch? match, object source, bool hasUpstreams, byte[] response)
    {
        /// <summary>The transport the query came on (it decides the size rules).</summary>
        public DnsTransport Transport { get; } = transport;

        /// <summary>The query's bytes after the id.</summary>
        public byte[] Query { get; } = query;

        /// <summary>The wire length of the query's name, right after the header (-1: not plain labels).</summary>
        public int NameLength { get; } = nameLength;

        /// <summary>What another spelling of the name must agree with to get this response; null: none gets it.</summary>
        public CaseCheck[]? CaseChecks { get; } = caseChecks;

        /// <summary>What the pipeline read from the query (its id aside).</summary>
        public Request Request { get; } = request;

        /// <summary>The metrics kind of the answer.</summary>
        public QueryKind Kind { get; } = kind;

        /// <summary>The RCODE sent.</summary>
        public int Rcode { get; } = rcode;

        /// <summary>The query name split around its key, for a Pkarr answer; null for a forwarded one.</summary>
        public PkarrNameMatch? Match { get; } = match;

        /// <summary>The packet source's PacketLookup or the forwarder's ForwardResult the response was made from.</summary>
        public WeakReference<object> Source { get; } = new(source);

        /// <summary>Whether upstreams existed then.</summary>
        public bool HasUpstreams { get; } = hasUpstreams;

        /// <summary>The response, with the id and the name spelling of the query that made it.</summary>
        public byte[] Response { get; } = response;

        /// <summary>Whether this is the answer to <paramref name="query"/> (a whole query, id included, whose name is
        /// <paramref name="nameLength"/> bytes) on <paramref name="transport"/>: the same bytes, or another spelling
        /// of the name (<paramref name="exact"/> false) that every case check agrees with.</summary>
        public bool Answers(ReadOnlySpan<byte> query, DnsTransport transport, int nameLength, out bool exact)
        {
            if (!SameQuestion(query, transport, nameLength, out exact))
            {
                return false;
            }

            if (exact)
            {
                return true;
            }

            if (CaseChecks is not { } checks)
            {
                return false;
            }

            foreach (var check in checks)
            {
                if (check.Matches(query.Slice(check.Offset, check.Spelling.Length)) != check.Matched)
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>Whether <paramref name="query"/> on <paramref name="transport"/> asks what the kept query asked:
        /// the same bytes after the id (<paramref name="exact"/>), or the same but for the case of A–Z in the name.</summary>
        public bool SameQuestion(ReadOnlySpan<byte> query, DnsTransport transport, int nameLength, out bool exact)
        {
            exact = false;
            if (Transport != transport || query.Length - 2 != Query.Length)
            {
                return false;
            }

            var rest = query[2..];
            if (rest.SequenceEqual(Query))
            {
                exact = true;
                return true;
            }

            // In the bytes after the id the name starts at 10.
            const int Name = HeaderLength - 2;
            int end = Name + nameLength;
            return nameLength > 0 && nameLength == NameLength
                && rest[..Name].SequenceEqual(Query.AsSpan(0, Name))
                && rest[end..].SequenceEqual(Query.AsSpan(end))
                && Labels.EqualsIgnoreCase(rest[Name..end], Query.AsSpan(Name, nameLength));
        }
    }
}
