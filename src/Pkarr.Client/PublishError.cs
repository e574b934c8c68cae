// Why a publish failed (shared spec pkarr.md §5.6). The kinds are ordered by specificity, which breaks ties when
// several backends fail differently.

using System.Globalization;

namespace Pkarr.Client;

/// <summary>The kinds of <see cref="PublishError"/>.</summary>
public enum PublishErrorKind
{
    /// <summary>A reply no rule covers (a relay status other than 2xx, 409, 428 and 503; a malformed header).</summary>
    UnexpectedResponses,

    /// <summary>No node or relay answered in time, or a relay said its DHT is unavailable (503).</summary>
    NoResponses,

    /// <summary>The DHT had no node to store on (not bootstrapped).</summary>
    NoDhtNodesQueried,

    /// <summary>Nodes refused the packet with a DHT error; see <see cref="PublishError.Code"/>.</summary>
    Rejected,

    /// <summary>A more recent packet for the key is known (cached, on relays or on DHT nodes), or a compare-and-swap
    /// expectation did not hold. Resolve with <see cref="ResolvePolicy.NetworkOnly"/>, rebuild and retry.</summary>
    NotMostRecent,
}

/// <summary>Why a publish failed.</summary>
/// <param name="Kind">What went wrong.</param>
/// <param name="Code">For <see cref="PublishErrorKind.Rejected"/>: the DHT error code.</param>
/// <param name="Description">For <see cref="PublishErrorKind.Rejected"/>: the error message; otherwise a detail, if any.</param>
public sealed record PublishError(PublishErrorKind Kind, int Code = 0, string Description = "")
{
    /// <summary>A more recent packet exists.</summary>
    public static PublishError NotMostRecent { get; } = new(PublishErrorKind.NotMostRecent);

    /// <summary>True when this error is more specific than <paramref name="other"/> (spec §5.6's tie-break): not most
    /// recent, rejected (higher code, then description), no DHT nodes queried, no responses, unexpected responses.</summary>
    internal bool MoreSpecificThan(PublishError other)
    {
        if (Kind != other.Kind)
        {
            return Kind > other.Kind;
        }

        return Kind == PublishErrorKind.Rejected
            && (Code != other.Code ? Code > other.Code : string.CompareOrdinal(Description, other.Description) > 0);
    }

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        PublishErrorKind.NotMostRecent => "not most recent: a newer packet for this key is known; resolve it and sign a newer one",
        PublishErrorKind.Rejected => string.Create(CultureInfo.InvariantCulture, $"rejected by DHT nodes with error {Code}: {Description}"),
        PublishErrorKind.NoDhtNodesQueried => "no DHT nodes queried: the DHT node is not bootstrapped",
        PublishErrorKind.NoResponses => Description.Length > 0 ? "no responses: " + Description : "no responses: no DHT node or relay answered in time",
        _ => Description.Length > 0 ? "unexpected responses: " + Description : "unexpected responses from the network",
    };
}
