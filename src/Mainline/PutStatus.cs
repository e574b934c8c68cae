namespace Mainline;

/// <summary>How a put ended (shared spec §9.3).</summary>
public enum PutStatus
{
    /// <summary>At least one node stored the item.</summary>
    Stored,

    /// <summary>The lookup found no node that gave us a write token.</summary>
    NoClosestNodes,

    /// <summary>Nodes answered with errors only; see <see cref="PutResult.ErrorCode"/>.</summary>
    ErrorResponse,

    /// <summary>No node answered.</summary>
    Timeout,

    /// <summary>Error 301: the stored seq differs from the given cas; re-read and retry.</summary>
    CasFailed,

    /// <summary>Error 302 (or a local put with a higher seq is running): the item is not the most recent.</summary>
    NotMostRecent,

    /// <summary>Another put of a different item for the same target is running and no cas was given.</summary>
    ConflictRisk,
}
