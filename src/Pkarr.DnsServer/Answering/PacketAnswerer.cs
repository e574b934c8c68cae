// Answers one question from one key's packet, as an authoritative server for the zone <key> (spec §9.1, with the
// shortfalls of §9.5 fixed). For the name N below the key, step by step:
//
//   1. a delegation: NS records at N or at an ancestor of N below the apex (the topmost one, RFC 1034 §4.3.2)
//      → referral: those NS in authority, glue A/AAAA from inside the delegated zone in additional, AA off;
//   2. records at N (owner names compared ignoring case): of the type asked → answer; else a CNAME → answer it and
//      go on at its target (inside this packet: loop; elsewhere: report the target); else NODATA;
//   3. no records at N but names below it (an empty non-terminal) → NODATA;
//   4. else the wildcard *.<closest encloser> (RFC 4592 §3.3.1) → as 2, with the owner rewritten to N;
//   5. else NXDOMAIN.
//
// Negative answers carry a synthesized SOA of the key's zone (RFC 2308), so resolvers cache them for NegativeTtl.
// Work is bounded: at most MaxCnameChain names and MaxRecordsScanned records looked at, then SERVFAIL. Nothing in a
// packet can make this throw: names are opaque bytes, and a reply name that would exceed 255 bytes once the suffix is
// re-added makes the answer SERVFAIL (in the answer or NS sections) or is left out (glue).

using Pkarr.Dns;
using Pkarr.Packets;

namespace Pkarr.DnsServer.Answering;

/// <summary>Answers questions about Pkarr names from signed packets. Thread-safe, sans-IO.</summary>
internal sealed class PacketAnswerer
{
    private const RecordType Hinfo = (RecordType)13;
    private const RecordType Ds = (RecordType)43;
    private const RecordType Ixfr = (RecordType)251;
    private const RecordType Axfr = (RecordType)252;
    private const RecordType Any = (RecordType)255;

    // RFC 8482 §4.2's HINFO: CPU "RFC8482", OS "".
    private static readonly byte[] HinfoRdata = [7, (byte)'R', (byte)'F', (byte)'C', (byte)'8', (byte)'4', (byte)'8', (byte)'2', 0];

    private readonly AnsweringOptions _options;

    /// <summary>Creates an answerer.</summary>
    /// <exception cref="ArgumentException">The options are inconsistent.</exception>
    public PacketAnswerer(AnsweringOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
    }

    /// <summary>Answers from a packet (indexing it first; keep a <see cref="PacketZone"/> to answer many questions).</summary>
    public AnswerResult Answer(SignedPacket packet, PkarrNameMatch name, RecordType type, DnsClass @class, uint ageSeconds = 0)
        => Answer(PacketZone.Create(packet), name, type, @class, ageSeconds);

    /// <summary>Answers the question (<paramref name="name"/>, <paramref name="type"/>, <paramref name="class"/>).</summary>
    /// <param name="zone">The packet of the name's key.</param>
    /// <param name="name">The matched query name; its key must be the zone's.</param>
    /// <param name="type">QTYPE.</param>
    /// <param name="class">QCLASS.</param>
    /// <param name="ageSeconds">Seconds since the packet was received: taken off answer TTLs before they are clamped.</param>
    /// <returns>The answer.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not a Pkarr name under the zone's key.</exception>
    public AnswerResult Answer(PacketZone zone, PkarrNameMatch name, RecordType type, DnsClass @class, uint ageSeconds = 0)
    {
        ArgumentNullException.ThrowIfNull(zone);
        ArgumentNullException.ThrowIfNull(name);
        if (name.Kind != PkarrNameKind.Pkarr || name.Key != zone.Key)
        {
            throw Error.NameNotInZone();
        }

        if (@class is not (DnsClass.IN or DnsClass.ANY) || type is Axfr or Ixfr)
        {
            return Bare(ResponseCode.Refused);
        }

        if (type != Any && PacketZone.IsMetaType(type))
        {
            return Bare(ResponseCode.NotImplemented);
        }

        return new Walk(this, zone, name, type, ageSeconds).Run();
    }

    /// <summary>
    /// The SOA for the NXDOMAIN of a key nobody publishes (no packet, so serial 0): resolvers cache the miss for
    /// <see cref="AnsweringOptions.NegativeTtl"/> (RFC 2308). Null when the apex with the suffix exceeds 255 bytes.
    /// </summary>
    /// <param name="name">A Pkarr name (its key and suffix name the zone).</param>
    internal ResourceRecord? UnpublishedKeySoa(PkarrNameMatch name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var keyLabel = Labels.Single(System.Text.Encoding.ASCII.GetBytes(name.Key.ToZ32()));
        return keyLabel.TryAppend(name.Suffix, out var apex) ? SoaAt(apex, 0) : null;
    }

    /// <summary>A zone's SOA: mname ns.&lt;apex&gt;, rname hostmaster.&lt;apex&gt;, MINIMUM = the negative TTL (RFC 2308 §4).</summary>
    private ResourceRecord SoaAt(DnsName apex, uint serial)
    {
        var mname = Labels.Single("ns"u8).TryAppend(apex, out var ns) ? ns : apex;
        var rname = Labels.Single("hostmaster"u8).TryAppend(apex, out var host) ? host : apex;
        uint negative = _options.NegativeTtl;
        var data = new SoaData(mname, rname, serial, refresh: 3600, retry: 600, expire: 86400, minimum: negative);
        return new ResourceRecord(apex, DnsClass.IN, negative, data);
    }

    private static AnswerResult Bare(ResponseCode code) => new() { ResponseCode = code, Authoritative = false };

    private sealed class Walk(PacketAnswerer owner, PacketZone zone, PkarrNameMatch query, RecordType type, uint age)
    {
        private readonly AnsweringOptions _options = owner._options;
        private readonly List<ResourceRecord> _answers = [];
        private int _budget = owner._options.MaxRecordsScanned;

        public AnswerResult Run()
        {
            var relative = query.Relative;
            var ownerName = query.Name;
            var visited = new List<DnsName>();
            for (int step = 0; ; step++)
            {
                var lower = Labels.ToLower(relative);
                if (step >= _options.MaxCnameChain || visited.Contains(lower))
                {
                    return Bare(ResponseCode.ServerFailure);
                }

                visited.Add(lower);
                if (!Spend())
                {
                    return Bare(ResponseCode.ServerFailure);
                }

                if (FindCut(lower) is { } cut)
                {
                    return Referral(cut);
                }

                if (!Spend())
                {
                    return Bare(ResponseCode.ServerFailure);
                }

                var at = EntriesAt(lower);
                if (at.Count == 0)
                {
                    if (lower.IsRoot)
                    {
                        return type is RecordType.SOA or Any ? ApexSoa() : Negative(ResponseCode.NoError);
                    }

                    if (!Spend())
                    {
                        return Bare(ResponseCode.ServerFailure);
                    }

                    if (HasDescendant(lower))
                    {
                        return Negative(ResponseCode.NoError);
                    }

                    // RFC 4592 §3.3.1: the source of synthesis is the wildcard child of the closest encloser. It
                    // replaces at least one label of the name by "*", so it is never longer than the name.
                    if (!Spend() || !Spend() || !Spend())
                    {
                        return Bare(ResponseCode.ServerFailure);
                    }

                    int encloser = ClosestEncloser(lower);
                    var wildcard = Labels.Single("*"u8).Append(Labels.Slice(lower, lower.LabelCount - encloser, encloser));
                    at = EntriesAt(wildcard);
                    if (at.Count == 0)
                    {
                        return Negative(HasDescendant(wildcard) ? ResponseCode.NoError : ResponseCode.NameError);
                    }
                }

                if (type == Any)
                {
                    return AnswerAny(at, ownerName);
                }

                bool found = false;
                foreach (var entry in at)
                {
                    if (entry.Record.Type == type)
                    {
                        if (!Emit(entry.Record, ownerName, _answers))
                        {
                            return Bare(ResponseCode.ServerFailure);
                        }

                        found = true;
                    }
                }

                if (found)
                {
                    return Positive(null);
                }

                var cname = at.FirstOrDefault(e => e.Record.Data is CnameData);
                if (cname is null)
                {
                    return lower.IsRoot && type == RecordType.SOA ? ApexSoa() : Negative(ResponseCode.NoError);
                }

                if (!Emit(cname.Record, ownerName, _answers))
                {
                    return Bare(ResponseCode.ServerFailure);
                }

                var target = ((CnameData)cname.Record.Data).Target;
                int count = target.LabelCount;
                if (count == 0)
                {
                    // A CNAME to the root leads nowhere: the alias is the whole answer.
                    return Positive(null);
                }

                if (!Labels.EqualsIgnoreCase(target.Label(count - 1), zone.KeyLabel.Label(0)))
                {
                    return Positive(Rewrite(target, out var external) ? external : null);
                }

                relative = Labels.Slice(target, 0, count - 1);
                if (!Rewrite(target, out ownerName))
                {
                    return Bare(ResponseCode.ServerFailure);
                }
            }
        }

        private bool Spend()
        {
            _budget -= zone.Entries.Count;
            return _budget >= 0;
        }

        private List<ZoneEntry> EntriesAt(DnsName lower)
        {
            var found = new List<ZoneEntry>();
            foreach (var entry in zone.Entries)
            {
                if (entry.Lower == lower)
                {
                    found.Add(entry);
                }
            }

            return found;
        }

        private bool HasDescendant(DnsName lower)
        {
            foreach (var entry in zone.Entries)
            {
                if (entry.Lower.LabelCount > lower.LabelCount && entry.Lower.EndsWith(lower))
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>How many trailing labels of <paramref name="lower"/> name an existing node (the apex always exists).</summary>
        private int ClosestEncloser(DnsName lower)
        {
            int best = 0;
            foreach (var entry in zone.Entries)
            {
                var owner = entry.Lower;
                int common = 0;
                while (common < owner.LabelCount && common < lower.LabelCount
                    && owner.Label(owner.LabelCount - 1 - common).SequenceEqual(lower.Label(lower.LabelCount - 1 - common)))
                {
                    common++;
                }

                best = Math.Max(best, common);
            }

            return best;
        }

        /// <summary>The topmost zone cut at or above <paramref name="lower"/>, below the apex; a DS question at a cut belongs to the parent.</summary>
        private DnsName? FindCut(DnsName lower)
        {
            DnsName? cut = null;
            foreach (var entry in zone.Entries)
            {
                var owner = entry.Lower;
                if (entry.Record.Type == RecordType.NS && !owner.IsRoot && lower.EndsWith(owner)
                    && !(type == Ds && owner.LabelCount == lower.LabelCount)
                    && (cut is null || owner.LabelCount < cut.LabelCount))
                {
                    cut = owner;
                }
            }

            return cut;
        }

        private AnswerResult Referral(DnsName cut)
        {
            var authorities = new List<ResourceRecord>();
            var additionals = new List<ResourceRecord>();
            var glueNames = new List<DnsName>();
            foreach (var entry in EntriesAt(cut))
            {
                if (entry.Record.Data is not NsData ns)
                {
                    continue;
                }

                if (!Absolute(entry.Relative, out var cutName) || !Emit(entry.Record, cutName, authorities))
                {
                    return Bare(ResponseCode.ServerFailure);
                }

                // Glue only from inside the delegated zone: anything else is not this referral's to vouch for.
                var target = ns.NameServer;
                if (target.LabelCount == 0 || !Labels.EqualsIgnoreCase(target.Label(target.LabelCount - 1), zone.KeyLabel.Label(0)))
                {
                    continue;
                }

                var targetLower = Labels.ToLower(Labels.Slice(target, 0, target.LabelCount - 1));
                if (!targetLower.EndsWith(cut) || glueNames.Contains(targetLower) || !Spend())
                {
                    continue;
                }

                glueNames.Add(targetLower);
                foreach (var glue in EntriesAt(targetLower))
                {
                    if (glue.Record.Type is RecordType.A or RecordType.AAAA && Absolute(glue.Relative, out var glueName))
                    {
                        Emit(glue.Record, glueName, additionals);
                    }
                }
            }

            return new AnswerResult
            {
                ResponseCode = ResponseCode.NoError,
                Authoritative = _answers.Count > 0,
                Answers = _answers,
                Authorities = authorities,
                Additionals = additionals,
                IsReferral = true,
            };
        }

        private AnswerResult AnswerAny(List<ZoneEntry> at, DnsName ownerName)
        {
            if (_options.AnyAsHinfo)
            {
                uint ttl = Math.Clamp(3789u, _options.MinimumTtl, _options.MaximumTtl);
                _answers.Add(new ResourceRecord(ownerName, DnsClass.IN, ttl, new UnknownData(Hinfo, HinfoRdata)));
                return Positive(null);
            }

            // RFC 8482 §4.1: one RRset, the first in packet order.
            var chosen = at[0].Record.Type;
            foreach (var entry in at)
            {
                if (entry.Record.Type == chosen && !Emit(entry.Record, ownerName, _answers))
                {
                    return Bare(ResponseCode.ServerFailure);
                }
            }

            return Positive(null);
        }

        private AnswerResult Positive(DnsName? externalTarget) => new()
        {
            ResponseCode = ResponseCode.NoError,
            Authoritative = true,
            Answers = _answers,
            ExternalTarget = externalTarget,
        };

        private AnswerResult Negative(ResponseCode code) => new()
        {
            ResponseCode = code,
            Authoritative = true,
            Answers = _answers,
            Authorities = Soa() is { } soa ? [soa] : [],
        };

        private AnswerResult ApexSoa()
        {
            if (Soa() is { } soa)
            {
                _answers.Add(soa);
            }

            return Positive(null);
        }

        /// <summary>The zone's SOA: serial = packet timestamp in seconds.</summary>
        private ResourceRecord? Soa()
            => Absolute(DnsName.Root, out var apex) ? owner.SoaAt(apex, unchecked((uint)zone.Packet.Timestamp.Seconds)) : null;

        /// <summary>A name of this zone in the reply: relative labels, the key, the query's suffix.</summary>
        private bool Absolute(DnsName relative, out DnsName name)
        {
            name = DnsName.Root;
            return relative.TryAppend(zone.KeyLabel, out var underKey) && underKey.TryAppend(query.Suffix, out name);
        }

        /// <summary>A name from the packet as the reply carries it: the suffix added when it ends with a key.</summary>
        private bool Rewrite(DnsName name, out DnsName result)
        {
            result = name;
            return query.Suffix.IsRoot || !Labels.EndsWithKey(name) || name.TryAppend(query.Suffix, out result);
        }

        /// <summary>Adds the record with <paramref name="ownerName"/>, clamped TTL and rewritten target names.</summary>
        private bool Emit(ResourceRecord record, DnsName ownerName, List<ResourceRecord> section)
        {
            if (!TryRewriteData(record.Data, out var data))
            {
                return false;
            }

            uint remaining = record.Ttl > age ? record.Ttl - age : 0;
            uint ttl = Math.Clamp(remaining, _options.MinimumTtl, _options.MaximumTtl);
            section.Add(new ResourceRecord(ownerName, DnsClass.IN, ttl, data));
            return true;
        }

        private bool TryRewriteData(RecordData data, out RecordData result)
        {
            result = data;
            if (query.Suffix.IsRoot)
            {
                return true;
            }

            switch (data)
            {
                case CnameData cname:
                    return Map(cname.Target, t => new CnameData(t), out result);
                case NsData ns:
                    return Map(ns.NameServer, t => new NsData(t), out result);
                case PtrData ptr:
                    return Map(ptr.Target, t => new PtrData(t), out result);
                case MxData mx:
                    return Map(mx.Exchange, t => new MxData(mx.Preference, t), out result);
                case SrvData srv:
                    return Map(srv.Target, t => new SrvData(srv.Priority, srv.Weight, srv.Port, t), out result);
                case SoaData soa:
                    if (!Rewrite(soa.PrimaryNameServer, out var m) || !Rewrite(soa.ResponsibleMailbox, out var r))
                    {
                        return false;
                    }

                    result = new SoaData(m, r, soa.Serial, soa.Refresh, soa.Retry, soa.Expire, soa.Minimum);
                    return true;
                case SvcbData svcb:
                    return Map(svcb.Target, t => WithTarget(svcb, t), out result);
                default:
                    return true;
            }

            bool Map(DnsName target, Func<DnsName, RecordData> make, out RecordData mapped)
            {
                mapped = data;
                if (!Rewrite(target, out var rewritten))
                {
                    return false;
                }

                if (!ReferenceEquals(rewritten, target))
                {
                    mapped = make(rewritten);
                }

                return true;
            }
        }

        /// <summary>SVCB/HTTPS data with another target and the same parameters.</summary>
        /// <remarks>The parameters passed the same per-key checks when the packet was parsed (or built), so
        /// <see cref="SvcbData.WithParam"/> accepts them again.</remarks>
        private static SvcbData WithTarget(SvcbData svcb, DnsName target)
        {
            var copy = new SvcbData(svcb.Type, svcb.Priority, target);
            foreach (var parameter in svcb.Params)
            {
                copy = copy.WithParam(parameter.Key, parameter.Value.Span);
            }

            return copy;
        }
    }
}
