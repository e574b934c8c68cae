// Record lookup, TTL and ordering (spec §3.7–3.9). Ages and expiry need a last-seen time: CachedPacket.

using Pkarr.Dns;

namespace Pkarr.Packets;

public sealed partial class SignedPacket
{
    /// <summary>The default lower bound of <see cref="Ttl"/>: 300 s (5 min), as the reference.</summary>
    public const uint DefaultMinimumTtl = 300;

    /// <summary>The default upper bound of <see cref="Ttl"/>: 86 400 s (24 h), as the reference.</summary>
    public const uint DefaultMaximumTtl = 86400;

    /// <summary>
    /// The answers at <paramref name="name"/>, relative to this packet's key (<c>@</c> or <c>.</c> is the apex).
    /// A name starting with <c>*</c> is a wildcard query: <c>*.foo</c> matches exactly one label under
    /// <c>foo</c> (spec §3.9); stored wildcards are not expanded.
    /// </summary>
    public IEnumerable<ResourceRecord> ResourceRecords(string name)
    {
        string query = Names.Normalize(DnsName.Parse(PublicKey.ToZ32()), name);
        return query.StartsWith('*') ? Wildcard(query[1..]) : Exact(query);

        IEnumerable<ResourceRecord> Exact(string owner)
        {
            foreach (var record in AllResourceRecords)
            {
                if (string.Equals(record.Name.ToString(), owner, StringComparison.Ordinal))
                {
                    yield return record;
                }
            }
        }

        IEnumerable<ResourceRecord> Wildcard(string suffix)
        {
            foreach (var record in AllResourceRecords)
            {
                string owner = record.Name.ToString();
                if (owner.EndsWith(suffix, StringComparison.Ordinal)
                    && !owner.AsSpan(0, owner.Length - suffix.Length).Contains('.'))
                {
                    yield return record;
                }
            }
        }
    }

    /// <summary>The smallest answer TTL clamped into [<paramref name="min"/>, <paramref name="max"/>]; <paramref name="min"/> when there are no answers.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="min"/> is above <paramref name="max"/>.</exception>
    public uint Ttl(uint min = DefaultMinimumTtl, uint max = DefaultMaximumTtl)
    {
        if (min > max)
        {
            throw Error.MinAboveMax(min, max);
        }

        var answers = AllResourceRecords;
        if (answers.Count == 0)
        {
            return min;
        }

        uint smallest = uint.MaxValue;
        foreach (var record in answers)
        {
            smallest = Math.Min(smallest, record.Ttl);
        }

        return Math.Clamp(smallest, min, max);
    }

    /// <summary>
    /// True when this packet supersedes <paramref name="other"/> (same key assumed): a larger timestamp wins; on
    /// equal timestamps the lexicographically larger DNS message wins; identical packets win neither way.
    /// </summary>
    public bool MoreRecentThan(SignedPacket other)
    {
        ArgumentNullException.ThrowIfNull(other);
        int byTime = Timestamp.CompareTo(other.Timestamp);
        return byTime != 0 ? byTime > 0 : EncodedPacket.Span.SequenceCompareTo(other.EncodedPacket.Span) > 0;
    }

    /// <summary>True when both packets have the same canonical bytes.</summary>
    public bool IsSameAs(SignedPacket other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return _bytes.AsSpan().SequenceEqual(other._bytes);
    }
}
