// The query pipeline every transport shares (spec pkarr.md §9.1, with the shortfalls of §9.5 fixed): one query
// message in, one response message out, already sized for the transport. In order:
//
//   1. silence for what is not a query: fewer than 12 bytes, or QR = 1 (answering responses would make us a
//      reflector);
//   2. the per-client query rate limit → REFUSED;
//      a query whose bytes after the id are those of one answered before (or differ only in the letter case of the
//      name, "0x20") skips 3–6: its packet or upstream answer is asked for again, and while that is unchanged the
//      reply is the kept response with the query's id and name (DnsQueryHandler.Ready.cs);
//   3. the header and body (RFC 1035 §4.1): the reserved Z bit is cleared and ignored; a body that does not parse →
//      FORMERR (the question echoed when it alone parses); an opcode other than QUERY → NOTIMP; QDCOUNT ≠ 1 → FORMERR;
//      records in the answer and authority sections of a query are ignored;
//   4. EDNS(0) (RFC 6891): more than one OPT → FORMERR; version ≠ 0 → BADVERS; the requester's UDP size (at least
//      512) and the DO bit are kept; every response to an EDNS query carries our OPT, none other does;
//   5. policy: QCLASS other than IN/ANY and AXFR/IXFR → REFUSED, other meta types → NOTIMP (never forwarded), ANY →
//      REFUSED when so configured (on every transport);
//   6. the name (PkarrNameMatcher): an invalid key → NXDOMAIN, never forwarded (the key must not leak upstream); a
//      Pkarr name → its packet (IPacketSource) and PacketAnswerer; anything else, the root included → the forwarder
//      (REFUSED when there is none);
//   7. a CNAME that leaves its packet is followed (DnsQueryHandler.Chain.cs), and a referral in a packet is followed
//      to the delegated servers (DnsQueryHandler.Delegation.cs), up to MaxRecursionDepth steps in all;
//   8. the response (DnsQueryHandler.Response.cs): flags, the question echoed as received (letter case kept), and
//      the size rules of the transport.
//
// A bug anywhere in 3–8 answers SERVFAIL and is logged; nothing a client, a publisher or an upstream sends can make
// this throw. The cached Pkarr path completes synchronously: every await there is on a ValueTask that the real packet
// source completes at once, so a hit never leaves the receiving thread.

using System.Buffers.Binary;
using System.Net;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Pkarr.Dns;
using Pkarr.DnsServer.Answering;
using Pkarr.DnsServer.Forwarding;
using Pkarr.DnsServer.Metrics;
using Pkarr.DnsServer.Packets;
using Pkarr.DnsServer.RateLimiting;

namespace Pkarr.DnsServer.Query;

/// <summary>Answers DNS queries: Pkarr names from their packets, everything else through the forwarder.</summary>
internal sealed partial class DnsQueryHandler : IDnsQueryHandler
{
    private const int HeaderLength = 12;
    private const ushort QrFlag = 0x8000;
    private const ushort OpcodeMask = 0x7800;
    private const ushort ZFlag = 0x0040;
    private const ushort AdFlag = 0x0020;
    private const ushort CdFlag = 0x0010;
    private const ushort DoBit = 0x8000;
    private const RecordType Ixfr = (RecordType)251;
    private const RecordType Axfr = (RecordType)252;
    private const RecordType Any = (RecordType)255;

    private readonly QueryHandlerOptions _options;
    private readonly PkarrNameMatcher _matcher;
    private readonly PacketAnswerer _answerer;
    private readonly IPacketSource _packets;
    private readonly IDnsForwarder _forwarder;
    private readonly DnsRateLimits _limits;
    private readonly DnsMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<DnsQueryHandler> _logger;
    private readonly int _maxUdpPayload;
    private readonly ResourceRecord _opt;
    private readonly ResourceRecord _optDnssecOk;

    /// <summary>Creates the handler.</summary>
    public DnsQueryHandler(QueryHandlerOptions options, PkarrNameMatcher matcher, PacketAnswerer answerer,
        IPacketSource packets, IDnsForwarder forwarder, DnsRateLimits limits, DnsMetrics metrics,
        TimeProvider time, ILogger<DnsQueryHandler> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(matcher);
        ArgumentNullException.ThrowIfNull(answerer);
        ArgumentNullException.ThrowIfNull(packets);
        ArgumentNullException.ThrowIfNull(forwarder);
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.DelegationPort, IPEndPoint.MinPort + 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.DelegationPort, IPEndPoint.MaxPort);
        _options = options;
        _matcher = matcher;
        _answerer = answerer;
        _packets = packets;
        _forwarder = forwarder;
        _limits = limits;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _maxUdpPayload = Math.Clamp(options.MaxUdpPayload, MinUdpPayload, ushort.MaxValue);
        _opt = OptRecord(0, dnssecOk: false);
        _optDnssecOk = OptRecord(0, dnssecOk: true);
    }

    /// <inheritdoc/>
    public async ValueTask<byte[]?> HandleAsync(ReadOnlyMemory<byte> query, QueryContext context, CancellationToken cancellationToken)
    {
        var response = await HandleAsync(query, context, Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
        if (response.IsEmpty)
        {
            return null;
        }

        // Without a buffer every response is a whole array (the pipeline's, or a kept one copied into a new array), handed
        // on as it is.
        return MemoryMarshal.TryGetArray(response, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : response.ToArray();
    }

    /// <inheritdoc/>
    /// <remarks>Not an async method: a query answered with a kept response (DnsQueryHandler.Ready.cs), the common case,
    /// is answered here synchronously, without an async state machine, and <paramref name="buffer"/> is written only
    /// then. Everything else goes on in <see cref="ContinueAsync"/> with a copy of the query, so
    /// <paramref name="query"/> is read only during this call and a receive loop may hand over its receive buffer.</remarks>
    public ValueTask<ReadOnlyMemory<byte>> HandleAsync(ReadOnlyMemory<byte> query, QueryContext context, Memory<byte> buffer,
        CancellationToken cancellationToken)
    {
        long started = _time.GetTimestamp();
        if (query.Length < HeaderLength)
        {
            _metrics.Dropped("short");
            return default;
        }

        var bytes = query.Span;
        ushort rawFlags = BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]);
        if ((rawFlags & QrFlag) != 0)
        {
            _metrics.Dropped("response");
            return default;
        }

        var request = new Request(BinaryPrimitives.ReadUInt16BigEndian(bytes), (ushort)(rawFlags & ~ZFlag));
        var resumed = default(Resumed);
        try
        {
            bool allowed = _limits.TryAcquireQuery(context.Client);
            if (allowed && FindReady(bytes, context.Transport, out bool exact) is { } kept)
            {
                // The query is one answered before: the source is asked what the pipeline would ask it, and the kept
                // response is sent when nothing changed; otherwise the pipeline goes on from that answer, with the
                // query's own name when it spells it otherwise (the source keys ignore case).
                request = kept.Request with { Id = request.Id };
                if (kept.Match is { } match)
                {
                    if (StillAnswers(kept, AskPacket(match, context, cancellationToken), out var lookup))
                    {
                        return new ValueTask<ReadOnlyMemory<byte>>(Reuse(kept, request.Id, bytes, exact, buffer, context, started));
                    }

                    if (!exact)
                    {
                        Reread(bytes, ref request);
                        match = _matcher.Match(request.Question!.Name);
                    }

                    resumed = new Resumed(ResumedStep.Packet, match, lookup, default);
                }
                else
                {
                    if (StillAnswers(kept, AskUpstream(request.Question!, request, cancellationToken), out var forwarded))
                    {
                        return new ValueTask<ReadOnlyMemory<byte>>(Reuse(kept, request.Id, bytes, exact, buffer, context, started));
                    }

                    if (!exact)
                    {
                        Reread(bytes, ref request);
                    }

                    resumed = new Resumed(ResumedStep.Forwarded, null, default, forwarded);
                }
            }
            else
            {
                resumed = new Resumed(allowed ? ResumedStep.Pipeline : ResumedStep.Refused, null, default, default);
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogAnswerFailed(_logger, request.Question?.Name, request.Question?.Type, exception);
            return new ValueTask<ReadOnlyMemory<byte>>(Finish(bytes, context, request, Outcome.Bare(Rcode.ServerFailure, QueryKind.Error), started));
        }
        catch (OperationCanceledException)
        {
            return ValueTask.FromCanceled<ReadOnlyMemory<byte>>(cancellationToken);
        }

        return ContinueAsync(query.ToArray(), context, request, resumed, started, cancellationToken);
    }

    /// <summary>The rest of the pipeline for a query <see cref="HandleAsync(ReadOnlyMemory{byte}, QueryContext,
    /// Memory{byte}, CancellationToken)"/> could not answer with a kept response: from the answer it already asked
    /// for (<paramref name="resumed"/>), or from the parse.</summary>
    private async ValueTask<ReadOnlyMemory<byte>> ContinueAsync(byte[] query, QueryContext context, Request request, Resumed resumed,
        long started, CancellationToken cancellationToken)
    {
        Outcome outcome;
        try
        {
            switch (resumed.Step)
            {
                case ResumedStep.Packet:
                    outcome = await AnswerPkarrAsync(resumed.Match!, request, context, resumed.Lookup, cancellationToken)
                        .ConfigureAwait(false);
                    break;
                case ResumedStep.Forwarded:
                    outcome = await AnswerForwardedAsync(request, context, resumed.Forwarded, cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    var verdict = Parse(query, ref request);
                    if (resumed.Step == ResumedStep.Refused)
                    {
                        _metrics.RateLimited("query");
                        outcome = Outcome.Bare(Rcode.Refused, QueryKind.Refused);
                        break;
                    }

                    outcome = verdict switch
                    {
                        Verdict.Query => await AnswerAsync(request, context, cancellationToken).ConfigureAwait(false),
                        Verdict.NotImplemented => Outcome.Bare(Rcode.NotImplemented, QueryKind.Notimp),
                        Verdict.BadVersion => Outcome.Bare(Rcode.BadVersion, QueryKind.Formerr),
                        _ => Outcome.Bare(Rcode.FormatError, QueryKind.Formerr),
                    };
                    break;
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogAnswerFailed(_logger, request.Question?.Name, request.Question?.Type, exception);
            outcome = Outcome.Bare(Rcode.ServerFailure, QueryKind.Error);
        }

        return Finish(query, context, request, outcome, started);
    }

    /// <summary>The response to <paramref name="outcome"/> (step 8), kept for the next such query when it may be, and
    /// counted.</summary>
    private byte[] Finish(ReadOnlySpan<byte> query, QueryContext context, in Request request, in Outcome outcome, long started)
    {
        byte[] response;
        int rcode;
        try
        {
            response = Respond(request, outcome, context.Transport, out rcode);
            KeepReady(query, context.Transport, request, outcome, response, rcode);
        }
        catch (Exception exception)
        {
            // Records that cannot be written (a bug upstream of here): the bare header still tells the client.
            LogAnswerFailed(_logger, request.Question?.Name, request.Question?.Type, exception);
            rcode = Rcode.ServerFailure;
            response = HeaderOnly(request.Id, (ushort)(QrFlag | (request.Flags & (OpcodeMask | RdFlag | CdFlag)) | rcode));
        }

        _metrics.Query(context.Transport, outcome.Kind, rcode, _time.GetElapsedTime(started));
        LogQuery(_logger, request.Question?.Name, request.Question?.Type, context.Client, rcode);
        return response;
    }

    /// <summary>The policy and name steps (5 and 6) for a well-formed QUERY.</summary>
    private async ValueTask<Outcome> AnswerAsync(Request request, QueryContext context, CancellationToken cancellationToken)
    {
        var question = request.Question!;
        var type = question.Type;
        if (question.Class is not (DnsClass.IN or DnsClass.ANY) || type is Axfr or Ixfr
            || (type == Any && _options.AnyQueries == AnyQueryMode.Refused))
        {
            return Outcome.Bare(Rcode.Refused, QueryKind.Refused);
        }

        if (type != Any && PacketZone.IsMetaType(type))
        {
            return Outcome.Bare(Rcode.NotImplemented, QueryKind.Notimp);
        }

        var match = _matcher.Match(question.Name);
        switch (match.Kind)
        {
            case PkarrNameKind.Pkarr:
                return await AnswerPkarrAsync(match, request, context, AskPacket(match, context, cancellationToken), cancellationToken)
                    .ConfigureAwait(false);
            case PkarrNameKind.InvalidKey:
                // No SOA: there is no zone to vouch for, so resolvers keep this miss only briefly (RFC 2308 §5).
                return Outcome.Bare(Rcode.NameError, QueryKind.Invalid);
            default:
                if (!_forwarder.HasUpstreams)
                {
                    return Outcome.Bare(Rcode.Refused, QueryKind.Refused);
                }

                return await AnswerForwardedAsync(request, context, AskUpstream(question, request, cancellationToken), cancellationToken)
                    .ConfigureAwait(false);
        }
    }

    /// <summary>The query's question through the upstreams (<paramref name="asked"/>), and the chain from there when it
    /// leads to a Pkarr name.</summary>
    private async ValueTask<Outcome> AnswerForwardedAsync(Request request, QueryContext context, ValueTask<ForwardResult> asked,
        CancellationToken cancellationToken)
    {
        var forwarded = await ForwardAsync(request.Question!, request, asked).ConfigureAwait(false);
        return forwarded.Next is null || _options.MaxRecursionDepth <= 0
            ? forwarded
            : await FollowAsync(forwarded, request, context, new Recursion(), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The packet source's answer for the key of <paramref name="match"/>.</summary>
    private ValueTask<PacketLookup> AskPacket(PkarrNameMatch match, QueryContext context, CancellationToken cancellationToken)
        => _packets.GetAsync(match.Key, context.Client, cancellationToken);

    /// <summary>The forwarder's answer to <paramref name="question"/>, with the client's flags that change it.</summary>
    private ValueTask<ForwardResult> AskUpstream(DnsQuestion question, in Request request, CancellationToken cancellationToken)
        => _forwarder.ForwardAsync(question, FlagsToForward(request), cancellationToken);

    /// <summary>One Pkarr name from its key's packet (<paramref name="asked"/>); the caller follows
    /// <see cref="Outcome.Next"/>.</summary>
    private async ValueTask<Outcome> LookupAsync(PkarrNameMatch match, DnsQuestion question, ValueTask<PacketLookup> asked)
    {
        var lookup = await asked.ConfigureAwait(false);
        switch (lookup.Status)
        {
            case PacketStatus.Found when lookup.Zone is { } zone:
                var answer = _answerer.Answer(zone, match, question.Type, question.Class, lookup.AgeSeconds);
                return new Outcome((int)answer.ResponseCode, QueryKind.Pkarr)
                {
                    Authoritative = answer.Authoritative,
                    Answers = answer.Answers,
                    Authorities = answer.Authorities,
                    Additionals = answer.Additionals,
                    Next = answer.ExternalTarget,
                    Referral = answer.IsReferral,
                    Match = match,
                    Source = lookup,
                };
            case PacketStatus.NotFound:
                return new Outcome(Rcode.NameError, QueryKind.Pkarr)
                {
                    Authoritative = true,
                    Authorities = _answerer.UnpublishedKeySoa(match) is { } soa ? [soa] : [],
                    Match = match,
                    Source = lookup,
                };
            case PacketStatus.RateLimited:
                _metrics.RateLimited("lookup");
                return Outcome.Bare(Rcode.Refused, QueryKind.Pkarr);
            default:
                // A failed or timed-out lookup says nothing about the name: SERVFAIL, never NXDOMAIN (§9.5 Freshness).
                return Outcome.Bare(Rcode.ServerFailure, QueryKind.Pkarr);
        }
    }

    /// <summary>A question through the upstreams; the response is rebuilt as ours (our id, our OPT, our flags).</summary>
    private ValueTask<Outcome> ForwardAsync(DnsQuestion question, Request request, CancellationToken cancellationToken)
        => ForwardAsync(question, request, AskUpstream(question, request, cancellationToken));

    /// <summary>The forwarder's answer <paramref name="asked"/> to <paramref name="question"/>, rebuilt as ours.</summary>
    private async ValueTask<Outcome> ForwardAsync(DnsQuestion question, Request request, ValueTask<ForwardResult> asked)
    {
        var result = await asked.ConfigureAwait(false);
        if (result.Status != ForwardStatus.Answered || result.Response is not { } upstream)
        {
            return Outcome.Bare(Rcode.ServerFailure, QueryKind.Forwarded);
        }

        // AD only to a client that showed it understands it (RFC 6840 §5.7: AD or DO set in the query).
        bool authenticated = (upstream.Flags & AdFlag) != 0 && ((request.Flags & AdFlag) != 0 || request.DnssecOk);
        return new Outcome(upstream.Flags & 0xF, QueryKind.Forwarded)
        {
            AuthenticData = authenticated,
            Answers = upstream.Answers,
            Authorities = upstream.Authorities,
            Additionals = WithoutOpt(upstream.Additionals),
            Next = PkarrTarget(question, upstream.Answers),
            Source = result,
        };
    }

    /// <summary>The client's flags that change an upstream's answer (CD, DO), passed on.</summary>
    private static ForwardFlags FlagsToForward(in Request request)
    {
        var flags = ForwardFlags.None;
        if ((request.Flags & CdFlag) != 0)
        {
            flags |= ForwardFlags.CheckingDisabled;
        }

        if (request.DnssecOk)
        {
            flags |= ForwardFlags.DnssecOk;
        }

        return flags;
    }

    /// <summary>The records without any OPT (ours is added to the response; an upstream's never is).</summary>
    private static IReadOnlyList<ResourceRecord> WithoutOpt(IReadOnlyList<ResourceRecord> records)
    {
        for (int i = 0; i < records.Count; i++)
        {
            if (records[i].Type == RecordType.OPT)
            {
                var kept = new List<ResourceRecord>(records.Count - 1);
                foreach (var record in records)
                {
                    if (record.Type != RecordType.OPT)
                    {
                        kept.Add(record);
                    }
                }

                return kept;
            }
        }

        return records;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Query {Name} {Type} from {Client}: RCODE {Rcode}")]
    private static partial void LogQuery(ILogger logger, DnsName? name, RecordType? type, System.Net.IPAddress client, int rcode);

    [LoggerMessage(Level = LogLevel.Error, Message = "Answering {Name} {Type} failed; answered SERVFAIL")]
    private static partial void LogAnswerFailed(ILogger logger, DnsName? name, RecordType? type, Exception exception);
}
