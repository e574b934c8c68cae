namespace Pkarr.DnsServer.Answering;

/// <summary>How <see cref="PacketAnswerer"/> shapes answers.</summary>
internal sealed class AnsweringOptions
{
    /// <summary>Lower bound of answer TTLs in seconds (pkdns <c>dns.min_ttl</c>).</summary>
    public uint MinimumTtl { get; init; } = 60;

    /// <summary>Upper bound of answer TTLs in seconds (pkdns <c>dns.max_ttl</c>).</summary>
    public uint MaximumTtl { get; init; } = 86400;

    /// <summary>TTL of negative answers: the synthesized SOA's TTL and MINIMUM (RFC 2308 §5).</summary>
    public uint NegativeTtl { get; init; } = 60;

    /// <summary>Most CNAMEs followed inside one packet for one question.</summary>
    public int MaxCnameChain { get; init; } = 8;

    /// <summary>Most zone records looked at for one question: bounded work whatever the packet holds.</summary>
    public int MaxRecordsScanned { get; init; } = 10_000;

    /// <summary>Answer ANY with a synthesized <c>HINFO "RFC8482" ""</c> instead of one RRset (RFC 8482 §4.2).</summary>
    public bool AnyAsHinfo { get; init; }

    internal void Validate()
    {
        if (MinimumTtl > MaximumTtl)
        {
            throw Error.InvalidTtlBounds(MinimumTtl, MaximumTtl);
        }

        if (MaxCnameChain < 1)
        {
            throw Error.NotPositive(nameof(MaxCnameChain), MaxCnameChain);
        }

        if (MaxRecordsScanned < 1)
        {
            throw Error.NotPositive(nameof(MaxRecordsScanned), MaxRecordsScanned);
        }
    }
}
