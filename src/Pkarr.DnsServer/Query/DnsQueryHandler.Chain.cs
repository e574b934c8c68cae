// Following a CNAME that leaves its packet (spec §9.1 "Recursion", §9.6 "CNAMEs to ICANN names"): the answerer
// follows CNAMEs inside one packet itself and reports where the chain leaves it. From there the chain goes on at the
// target: another Pkarr name through the matcher and the packet source again, or an ICANN name through the forwarder.
//
//   * Every step appends its answers; the RCODE, authority and additional sections are the last step's (so an
//     NXDOMAIN at the end of a chain is NXDOMAIN with the chain's CNAMEs and the negative SOA). AA is the first
//     step's (RFC 1035 §4.1.1: it speaks for the query name); AD is never set on a chain.
//   * At most MaxRecursionDepth steps leave a packet (delegation steps count too: DnsQueryHandler.Delegation.cs);
//     one more, or a target seen before in this query (compared ignoring case, so a loop across keys ends at once),
//     is SERVFAIL. With MaxRecursionDepth 0 nothing is followed:
//     the CNAME is the answer and the client follows it (pkdns answers every query SERVFAIL then, §9.5 Limits).
//   * An ICANN target is forwarded only when the client asked for recursion (RD = 1) and an upstream exists;
//     otherwise the CNAME is the answer, as an authoritative server gives it.
//   * A CNAME to the root leads nowhere and is not followed (the answerer already reports no target for it).
//   * An ICANN name whose upstream answer ends in a CNAME to a Pkarr name (www.example.com CNAME <key>) goes on at
//     that name here: the upstream cannot resolve it, we can.

using Pkarr.Dns;
using Pkarr.DnsServer.Answering;
using Pkarr.DnsServer.Packets;

namespace Pkarr.DnsServer.Query;

internal sealed partial class DnsQueryHandler
{
    private const ushort RdFlag = 0x0100;

    /// <summary>A Pkarr query name: its packet's answer (<paramref name="asked"/>), and the chain from there when it
    /// leaves the packet.</summary>
    private async ValueTask<Outcome> AnswerPkarrAsync(PkarrNameMatch match, Request request, QueryContext context, ValueTask<PacketLookup> asked,
        CancellationToken cancellationToken)
    {
        var recursion = new Recursion();
        var first = await LookupOrDelegateAsync(match, request.Question!, request, context, recursion, asked, cancellationToken).ConfigureAwait(false);
        return first.Next is null || _options.MaxRecursionDepth <= 0
            ? first
            : await FollowAsync(first, request, context, recursion, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<Outcome> FollowAsync(Outcome first, Request request, QueryContext context, Recursion recursion, CancellationToken cancellationToken)
    {
        var question = request.Question!;
        var answers = new List<ResourceRecord>(first.Answers);
        var visited = new List<DnsName> { Labels.ToLower(question.Name) };
        bool mayForward = (request.Flags & RdFlag) != 0 && _forwarder.HasUpstreams;
        var step = first;
        while (step.Next is { IsRoot: false } target)
        {
            var lower = Labels.ToLower(target);
            if (++recursion.Steps > _options.MaxRecursionDepth || visited.Contains(lower))
            {
                return Outcome.Bare(Rcode.ServerFailure, first.Kind);
            }

            visited.Add(lower);
            var next = _matcher.Match(target);
            if (next.Kind == PkarrNameKind.NotPkarr && !mayForward)
            {
                break;
            }

            var targetQuestion = new DnsQuestion(target, question.Type, question.Class);
            step = next.Kind switch
            {
                PkarrNameKind.Pkarr => await LookupOrDelegateAsync(next, targetQuestion, request, context, recursion, cancellationToken).ConfigureAwait(false),
                PkarrNameKind.InvalidKey => Outcome.Bare(Rcode.NameError, first.Kind),
                _ => await ForwardAsync(targetQuestion, request, cancellationToken).ConfigureAwait(false),
            };
            answers.AddRange(step.Answers);
        }

        return new Outcome(step.Rcode, first.Kind)
        {
            Authoritative = first.Authoritative,
            Answers = answers,
            Authorities = step.Authorities,
            Additionals = step.Additionals,
        };
    }

    /// <summary>
    /// Where an upstream answer's CNAME chain for <paramref name="question"/> ends, when that is a Pkarr name (valid or
    /// not) the answer holds nothing for; null otherwise (no CNAME, an ICANN end, or records already there).
    /// </summary>
    private DnsName? PkarrTarget(DnsQuestion question, IReadOnlyList<ResourceRecord> answers)
        => ChainEnd(question, answers) is { } end && _matcher.Match(end).Kind != PkarrNameKind.NotPkarr ? end : null;

    /// <summary>
    /// Where an answer's CNAME chain for <paramref name="question"/> ends, when the answer holds nothing of the type
    /// there; null otherwise (no CNAME, a CNAME to the root, or records already there).
    /// </summary>
    private static DnsName? ChainEnd(DnsQuestion question, IReadOnlyList<ResourceRecord> answers)
    {
        var name = question.Name;
        bool moved = false;

        // Each CNAME is used at most once, so the walk ends even when the upstream sent a loop.
        for (int hops = 0; hops < answers.Count; hops++)
        {
            DnsName? target = null;
            foreach (var record in answers)
            {
                if (record.Data is CnameData cname && SameName(record.Name, name))
                {
                    target = cname.Target;
                    break;
                }
            }

            if (target is null)
            {
                break;
            }

            name = target;
            moved = true;
        }

        if (!moved || name.IsRoot)
        {
            return null;
        }

        foreach (var record in answers)
        {
            if (record.Type == question.Type && SameName(record.Name, name))
            {
                return null;
            }
        }

        return name;
    }

    private static bool SameName(DnsName a, DnsName b) => a.LabelCount == b.LabelCount && Labels.EndsWithIgnoreCase(a, b);
}
