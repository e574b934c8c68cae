// Owner-name normalisation (spec §3.4.1): names are relative to the signer's key. Only the last label is
// inspected, comparisons are byte-exact and case-sensitive, and `@` or no label at all means the apex. The rule
// runs on wire labels, where empty labels have already collapsed as they do in the reference's name type
// ("a..b" is "a.b", a trailing dot is dropped), so the builder and record lookups share it.

using Pkarr.Dns;

namespace Pkarr.Packets;

/// <summary>Where a normalised owner name ends up relative to the key.</summary>
internal enum OwnerName
{
    /// <summary>The key itself (no labels, or a last label <c>@</c>).</summary>
    Apex,

    /// <summary>The name already ends in the key: kept as it is.</summary>
    AsGiven,

    /// <summary>Any other name: the key is appended.</summary>
    UnderOrigin,
}

internal static class Names
{
    /// <summary>
    /// Classifies owner-name labels in wire form (<paramref name="wire"/>, no terminating zero, the last label's
    /// length byte at <paramref name="lastLabel"/>) against the key's one label <paramref name="origin"/>.
    /// </summary>
    internal static OwnerName Classify(ReadOnlySpan<byte> wire, int lastLabel, ReadOnlySpan<byte> origin)
    {
        if (wire.IsEmpty)
        {
            return OwnerName.Apex;
        }

        var label = wire.Slice(lastLabel + 1, wire[lastLabel]);
        if (label.SequenceEqual("@"u8))
        {
            return OwnerName.Apex;
        }

        return label.SequenceEqual(origin) ? OwnerName.AsGiven : OwnerName.UnderOrigin;
    }

    /// <summary>
    /// The text of a queried <paramref name="name"/> normalised under <paramref name="origin"/> (the key's z-base32),
    /// without a trailing dot. A query is text, not a name: the spec's rule looks at its last piece before empty
    /// labels collapse, so <c>x..</c> (last piece empty) is the apex, as in the reference's record lookup.
    /// </summary>
    internal static string Normalize(DnsName origin, string name)
    {
        var text = name.AsSpan();
        if (text.EndsWith('.'))
        {
            text = text[..^1];
        }

        if (text.IsEmpty || text[^1] == '.')
        {
            return origin.ToString();
        }

        Span<byte> wire = stackalloc byte[DnsName.MaxWireLength - 1];
        if (!DnsName.TryWriteWire(name, wire, out int length, out int lastLabel))
        {
            // Too long to be a DNS name: it cannot match any record, so only its form matters.
            return string.Concat(name, ".", origin.ToString());
        }

        var labels = wire[..length];
        return Classify(labels, lastLabel, origin.Label(0)) switch
        {
            OwnerName.Apex => origin.ToString(),
            OwnerName.AsGiven => DnsName.FromWire(labels).ToString(),
            _ => string.Concat(DnsName.FromWire(labels).ToString(), ".", origin.ToString()),
        };
    }
}
