// Key delegation (spec §9.1 "NS referrals with glue", §9.5 Names, §9.6 "full recursion and key delegation"): a
// packet may hand a name below its key to other name servers (sub NS ns.sub.<key>, glue ns.sub A ...). The answerer
// then gives a referral; a stub resolver (the system resolver, curl) cannot use one, so when the client asks for
// recursion (RD = 1) the referral is followed here and the delegated server's answer is the response. With RD = 0,
// or MaxRecursionDepth 0, the referral itself is the answer, as an authoritative server gives it.
//
//   * Servers: the NS targets of the referral. Addresses come from the glue in the additional section, and only glue
//     whose owner is an NS target counts (the answerer already keeps glue to names inside the delegated zone; a
//     delegated server's referral is checked here). A records first, then AAAA, in the order given; NS targets
//     without glue are resolved after that, lazily, through the normal path (a Pkarr name from its packet, an ICANN
//     name through the upstreams), A then AAAA; NS targets are never CNAMEs (RFC 2181 §10.3), so none is followed.
//     Unspecified, broadcast, reserved and multicast addresses are never asked, nor internal ones (loopback, private,
//     link-local, …) unless the operator allows them (Askable).
//   * Each server is asked once (IDnsForwarder.AskServerAsync: RD = 0, the forwarder's timeout), on DelegationPort:
//     NS records carry no port, so real delegations use 53. NOERROR or NXDOMAIN is the answer; SERVFAIL, REFUSED,
//     other RCODEs, no reply and a lame referral (one that does not lead below the current cut towards the name)
//     move on to the next server. At most MaxServersPerStep servers per step and MaxAsksPerQuery in all.
//   * A referral from the delegated server is followed the same way (its glue only); one that names only servers
//     already asked in this delegation is a loop: SERVFAIL. No server answering is SERVFAIL.
//   * Every delegation step, and every NS target address lookup, counts against MaxRecursionDepth, with the CNAME
//     steps of DnsQueryHandler.Chain.cs: the whole query stays within MaxRecursionDepth steps, each ask within the
//     forwarder's timeout.
//   * Names: the delegated server serves the zone the packet names (sub.<key>), which knows nothing of our suffixes
//     (the .key TLD, origins, search suffixes). It is asked the name without the suffix, and the suffix is added back
//     to the owners, CNAME and NS targets in its answer that end with a key, as the answerer does for packet answers.
//   * The answer: its RCODE, answer (after the CNAMEs of the packet that led to the cut), authority and additional
//     sections; AA is the first step's (off for a plain referral), AD never. A CNAME in it that leaves its answer is
//     followed by the chain logic (Pkarr targets here, ICANN ones through the upstreams).

using System.Net;
using Pkarr.Dns;
using Pkarr.DnsServer.Answering;
using Pkarr.DnsServer.Forwarding;
using Pkarr.DnsServer.Metrics;
using Pkarr.DnsServer.Packets;

namespace Pkarr.DnsServer.Query;

internal sealed partial class DnsQueryHandler
{
    /// <summary>Servers asked per delegation step at most.</summary>
    internal const int MaxServersPerStep = 3;

    /// <summary>Servers asked per query at most, over every delegation step and chain step.</summary>
    internal const int MaxAsksPerQuery = 8;

    /// <summary>What the recursion of one query has spent: steps (against MaxRecursionDepth) and server asks.</summary>
    private sealed class Recursion
    {
        public int Steps { get; set; }

        public int Asks { get; set; }
    }

    /// <summary>A Pkarr name from its packet; a referral there is followed when the client asked for recursion.</summary>
    private ValueTask<Outcome> LookupOrDelegateAsync(PkarrNameMatch match, DnsQuestion question, Request request, QueryContext context,
        Recursion recursion, CancellationToken cancellationToken)
        => LookupOrDelegateAsync(match, question, request, context, recursion, AskPacket(match, context, cancellationToken), cancellationToken);

    /// <summary>A Pkarr name from its packet (<paramref name="asked"/>); a referral there is followed when the client
    /// asked for recursion.</summary>
    private async ValueTask<Outcome> LookupOrDelegateAsync(PkarrNameMatch match, DnsQuestion question, Request request, QueryContext context,
        Recursion recursion, ValueTask<PacketLookup> asked, CancellationToken cancellationToken)
    {
        var step = await LookupAsync(match, question, asked).ConfigureAwait(false);
        if (!step.Referral || (request.Flags & RdFlag) == 0 || _options.MaxRecursionDepth <= 0)
        {
            return step;
        }

        return await DelegateAsync(step, question, request, context, recursion, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Follows the referral <paramref name="referral"/> (for <paramref name="question"/>) to an answer.</summary>
    private async ValueTask<Outcome> DelegateAsync(Outcome referral, DnsQuestion question, Request request, QueryContext context,
        Recursion recursion, CancellationToken cancellationToken)
    {
        // The name at the cut: the query name, or where the packet's CNAMEs before the cut lead.
        var atCut = new DnsQuestion(ChainEnd(question, referral.Answers) ?? question.Name, question.Type, question.Class);
        var match = _matcher.Match(atCut.Name);
        if (match.Kind != PkarrNameKind.Pkarr || NsOwner(referral.Authorities) is not { } cut)
        {
            return Outcome.Bare(Rcode.ServerFailure, QueryKind.Pkarr);
        }

        var suffix = match.Suffix;
        var asked = new DnsQuestion(Labels.Slice(atCut.Name, 0, atCut.Name.LabelCount - suffix.LabelCount), atCut.Type, atCut.Class);
        int cutLabels = cut.LabelCount - suffix.LabelCount;
        var authorities = referral.Authorities;
        var glue = referral.Additionals;
        var seen = new List<IPEndPoint>();
        while (true)
        {
            if (++recursion.Steps > _options.MaxRecursionDepth)
            {
                return Outcome.Bare(Rcode.ServerFailure, QueryKind.Pkarr);
            }

            var servers = new Servers(this, authorities, glue, request, context, recursion, seen, cancellationToken);
            var response = await AskAnyAsync(servers, asked, cutLabels, request, recursion, cancellationToken).ConfigureAwait(false);
            if (response is null)
            {
                return Outcome.Bare(Rcode.ServerFailure, QueryKind.Pkarr);
            }

            if (IsReferral(response) && NsOwner(response.Authorities) is { } deeper)
            {
                // A usable referral (AskAnyAsync checked it leads further down): ask its servers next.
                cutLabels = deeper.LabelCount;
                authorities = response.Authorities;
                glue = response.Additionals;
                continue;
            }

            var answers = WithSuffix(response.Answers, suffix);
            return new Outcome(response.Flags & 0xF, QueryKind.Pkarr)
            {
                Authoritative = referral.Authoritative,
                Answers = referral.Answers.Count == 0 ? answers : [.. referral.Answers, .. answers],
                Authorities = WithSuffix(response.Authorities, suffix),
                Additionals = WithSuffix(WithoutOpt(response.Additionals), suffix),
                Next = ChainEnd(atCut, answers),
            };
        }
    }

    /// <summary>
    /// The first usable response of the servers (NOERROR, NXDOMAIN, or a referral further down towards the name), or
    /// null when none gives one within the bounds.
    /// </summary>
    private async ValueTask<DnsMessage?> AskAnyAsync(Servers servers, DnsQuestion question, int cutLabels, Request request,
        Recursion recursion, CancellationToken cancellationToken)
    {
        var flags = FlagsToForward(request);
        for (int count = 0; count < MaxServersPerStep && recursion.Asks < MaxAsksPerQuery; count++)
        {
            if (await servers.NextAsync().ConfigureAwait(false) is not { } server)
            {
                break;
            }

            recursion.Asks++;
            var result = await _forwarder.AskServerAsync(server, question, flags, cancellationToken).ConfigureAwait(false);
            if (result.Status == ForwardStatus.Answered && result.Response is { } response && Usable(response, question.Name, cutLabels))
            {
                return response;
            }
        }

        return null;
    }

    /// <summary>An answer, a negative answer, or a referral that leads below <paramref name="cutLabels"/> towards the name.</summary>
    private static bool Usable(DnsMessage response, DnsName name, int cutLabels)
    {
        int rcode = response.Flags & 0xF;
        if (rcode is not (Rcode.NoError or Rcode.NameError))
        {
            return false;
        }

        if (!IsReferral(response))
        {
            return true;
        }

        return NsOwner(response.Authorities) is { } owner && owner.LabelCount > cutLabels && owner.LabelCount <= name.LabelCount
            && Labels.EndsWithIgnoreCase(name, owner);
    }

    /// <summary>A referral: NOERROR, AA clear (an authoritative NODATA may list its own NS), no answers, NS and no SOA
    /// in authority.</summary>
    private static bool IsReferral(DnsMessage response)
    {
        if ((response.Flags & 0xF) != Rcode.NoError || (response.Flags & AaFlag) != 0 || response.Answers.Count > 0)
        {
            return false;
        }

        bool ns = false;
        foreach (var record in response.Authorities)
        {
            if (record.Type == RecordType.SOA)
            {
                return false;
            }

            ns |= record.Type == RecordType.NS;
        }

        return ns;
    }

    /// <summary>The owner of the first NS record in <paramref name="authorities"/> (the cut), if any.</summary>
    private static DnsName? NsOwner(IReadOnlyList<ResourceRecord> authorities)
    {
        foreach (var record in authorities)
        {
            if (record.Data is NsData)
            {
                return record.Name;
            }
        }

        return null;
    }

    /// <summary>The records with <paramref name="suffix"/> added to owners, CNAME and NS targets that end with a key;
    /// a record whose name would grow past 255 bytes is left out.</summary>
    private static IReadOnlyList<ResourceRecord> WithSuffix(IReadOnlyList<ResourceRecord> records, DnsName suffix)
    {
        if (suffix.IsRoot || records.Count == 0)
        {
            return records;
        }

        var result = new List<ResourceRecord>(records.Count);
        foreach (var record in records)
        {
            if (!Suffixed(record.Name, suffix, out var owner))
            {
                continue;
            }

            RecordData data = record.Data;
            switch (data)
            {
                case CnameData cname when Suffixed(cname.Target, suffix, out var target):
                    data = new CnameData(target);
                    break;
                case NsData ns when Suffixed(ns.NameServer, suffix, out var server):
                    data = new NsData(server);
                    break;
                case CnameData or NsData:
                    continue;
            }

            result.Add(new ResourceRecord(owner, record.Class, record.Ttl, data));
        }

        return result;
    }

    private static bool Suffixed(DnsName name, DnsName suffix, out DnsName result)
    {
        result = name;
        return !Labels.EndsWithKey(name) || name.TryAppend(suffix, out result);
    }

    /// <summary>An address worth asking: never unspecified, broadcast, reserved or multicast; and, unless
    /// <paramref name="privateAllowed"/>, never one of this host or its internal networks.</summary>
    /// <remarks>
    /// Anyone can publish a packet, and its glue decides where this server sends a query and whose answer it hands
    /// back. Glue pointing at loopback, RFC 1918, shared (100.64/10), link-local, network-testing (198.18/15, RFC
    /// 2544), unique-local or site-local addresses would let any client read the DNS of the networks behind this
    /// server, so those are asked only where the operator allows it (<c>delegate_to_private_addresses</c>: a LAN
    /// that delegates on purpose, or tests). IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
    /// </remarks>
    internal static bool Askable(IPAddress address, bool privateAllowed)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        Span<byte> b = stackalloc byte[16];
        if (!address.TryWriteBytes(b, out var length))
        {
            return false;
        }

        if (length == 4)
        {
            if (b[0] == 0 || b[0] >= 224)
            {
                return false; // "this network", multicast, reserved and broadcast
            }

            var internalNetwork = b[0] == 10 || b[0] == 127
                || (b[0] == 100 && (b[1] & 0xC0) == 64)
                || (b[0] == 169 && b[1] == 254)
                || (b[0] == 172 && (b[1] & 0xF0) == 16)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 198 && (b[1] & 0xFE) == 18);
            return privateAllowed || !internalNetwork;
        }

        if (address.Equals(IPAddress.IPv6Any) || address.IsIPv6Multicast)
        {
            return false;
        }

        var internalV6 = address.Equals(IPAddress.IPv6Loopback) || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal
            || address.IsIPv6UniqueLocal;
        return privateAllowed || !internalV6;
    }

    /// <summary>
    /// The servers of one delegation step, in asking order: glue A, glue AAAA, then NS targets without glue resolved
    /// as they are needed. Servers already asked in this delegation are skipped (and recorded in <c>seen</c>).
    /// </summary>
    private sealed class Servers(DnsQueryHandler owner, IReadOnlyList<ResourceRecord> authorities, IReadOnlyList<ResourceRecord> glue,
        Request request, QueryContext context, Recursion recursion, List<IPEndPoint> seen, CancellationToken cancellationToken)
    {
        private readonly Queue<IPAddress> _ready = new();
        private readonly Queue<(DnsName Target, RecordType Type)> _unresolved = new();
        private bool _started;

        public async ValueTask<IPEndPoint?> NextAsync()
        {
            if (!_started)
            {
                _started = true;
                Start();
            }

            while (true)
            {
                while (_ready.TryDequeue(out var address))
                {
                    var server = new IPEndPoint(address, owner._options.DelegationPort);
                    if (!seen.Contains(server))
                    {
                        seen.Add(server);
                        return server;
                    }
                }

                if (!_unresolved.TryDequeue(out var next))
                {
                    return null;
                }

                foreach (var address in await owner.AddressesAsync(next.Target, next.Type, request, context, recursion, cancellationToken).ConfigureAwait(false))
                {
                    _ready.Enqueue(address);
                }
            }
        }

        private void Start()
        {
            var targets = new List<DnsName>();
            foreach (var record in authorities)
            {
                if (record.Data is NsData ns && !targets.Exists(t => SameName(t, ns.NameServer)))
                {
                    targets.Add(ns.NameServer);
                }
            }

            var glued = new List<DnsName>();
            foreach (var type in (ReadOnlySpan<RecordType>)[RecordType.A, RecordType.AAAA])
            {
                foreach (var record in glue)
                {
                    if (record.Type == type && targets.Exists(t => SameName(t, record.Name)) && owner.Address(record) is { } address)
                    {
                        _ready.Enqueue(address);
                        glued.Add(record.Name);
                    }
                }
            }

            foreach (var target in targets)
            {
                if (!glued.Exists(g => SameName(g, target)))
                {
                    _unresolved.Enqueue((target, RecordType.A));
                    _unresolved.Enqueue((target, RecordType.AAAA));
                }
            }
        }
    }

    /// <summary>The askable address in an A or AAAA record, if any.</summary>
    private IPAddress? Address(ResourceRecord record) => record.Data switch
    {
        AData a when Askable(a.Address, _options.DelegateToPrivateAddresses) => a.Address,
        AaaaData aaaa when Askable(aaaa.Address, _options.DelegateToPrivateAddresses) => aaaa.Address,
        _ => null,
    };

    /// <summary>
    /// The <paramref name="type"/> addresses of an NS target without glue: a Pkarr name from its packet (following a
    /// delegation there too), an ICANN name through the upstreams; one step against MaxRecursionDepth.
    /// </summary>
    private async ValueTask<List<IPAddress>> AddressesAsync(DnsName target, RecordType type, Request request, QueryContext context,
        Recursion recursion, CancellationToken cancellationToken)
    {
        var found = new List<IPAddress>();
        if (++recursion.Steps > _options.MaxRecursionDepth)
        {
            return found;
        }

        var question = new DnsQuestion(target, type, DnsClass.IN);
        var match = _matcher.Match(target);
        var outcome = match.Kind switch
        {
            PkarrNameKind.Pkarr => await LookupOrDelegateAsync(match, question, request, context, recursion, cancellationToken).ConfigureAwait(false),
            PkarrNameKind.NotPkarr when _forwarder.HasUpstreams => await ForwardAsync(question, request, cancellationToken).ConfigureAwait(false),
            _ => Outcome.Bare(Rcode.NameError, QueryKind.Pkarr),
        };
        if (outcome.Rcode != Rcode.NoError)
        {
            return found;
        }

        foreach (var record in outcome.Answers)
        {
            if (record.Type == type && SameName(record.Name, target) && Address(record) is { } address)
            {
                found.Add(address);
            }
        }

        return found;
    }
}
