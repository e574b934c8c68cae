// Why a resolve found no packet (shared spec pkarr.md §5.5). The kinds are ordered by specificity, which breaks
// ties when several backends fail differently.

using System.Globalization;

namespace Pkarr.Client;

/// <summary>The kinds of <see cref="ResolveError"/>.</summary>
public enum ResolveErrorKind
{
    /// <summary>Something answered in a way no rule covers (a malformed relay reply, or no answer at all to fold).</summary>
    UnexpectedResponses,

    /// <summary>No node or relay answered in time.</summary>
    NoResponses,

    /// <summary>The DHT had no node to ask (not bootstrapped).</summary>
    NoDhtNodesQueried,

    /// <summary>Nodes answered, but none with a usable reply.</summary>
    NoUsableResponses,

    /// <summary>Nobody has a packet for the key (newer than the one already known).</summary>
    NotFound,

    /// <summary>The most recent value for the key is correctly signed but is not a DNS packet; see <see cref="ResolveError.Seq"/>.</summary>
    InvalidSignedPacket,
}

/// <summary>Why a resolve returned no packet.</summary>
/// <param name="Kind">What went wrong.</param>
/// <param name="Seq">For <see cref="ResolveErrorKind.InvalidSignedPacket"/>: the seq (timestamp) of that value. An
/// update must be signed with a timestamp above it.</param>
public sealed record ResolveError(ResolveErrorKind Kind, long Seq = 0)
{
    /// <summary>Nobody has a packet for the key.</summary>
    public static ResolveError NotFound { get; } = new(ResolveErrorKind.NotFound);

    /// <summary>The most recent value is a correctly signed non-DNS value with <paramref name="seq"/>.</summary>
    public static ResolveError InvalidSignedPacket(long seq) => new(ResolveErrorKind.InvalidSignedPacket, seq);

    /// <summary>True when this error is more specific than <paramref name="other"/> (spec §5.5's tie-break):
    /// invalid signed packet (higher seq first), not found, no usable responses, no DHT nodes queried, no responses,
    /// unexpected responses.</summary>
    internal bool MoreSpecificThan(ResolveError other) =>
        Kind != other.Kind ? Kind > other.Kind : Kind == ResolveErrorKind.InvalidSignedPacket && Seq > other.Seq;

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        ResolveErrorKind.NotFound => "not found: nobody has a packet for this key",
        ResolveErrorKind.InvalidSignedPacket => string.Create(CultureInfo.InvariantCulture,
            $"invalid signed packet with seq {Seq}: the most recent value for this key is signed but is not a DNS packet"),
        ResolveErrorKind.NoResponses => "no responses: no DHT node or relay answered in time",
        ResolveErrorKind.NoDhtNodesQueried => "no DHT nodes queried: the DHT node is not bootstrapped",
        ResolveErrorKind.NoUsableResponses => "no usable responses from the DHT",
        _ => "unexpected responses from the network",
    };
}
