using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client;

/// <summary>What one relay did with a published packet.</summary>
/// <param name="Relay">The relay's base URL.</param>
/// <param name="StatusCode">The HTTP status of its answer; null when it did not answer (timeout, connection failure).</param>
/// <param name="StoredOn">On success, the DHT nodes the relay reports (its <c>Pkarr-Dht-Stored-Nodes</c>, 1 when absent).</param>
/// <param name="Error">Why it failed; null on success.</param>
public sealed record RelayPublishOutcome(Uri Relay, int? StatusCode, int StoredOn, PublishError? Error)
{
    /// <summary>True when the relay accepted the packet.</summary>
    public bool Succeeded => Error is null;
}

/// <summary>What the DHT put did.</summary>
/// <param name="StoredOn">On success, the number of nodes that stored the packet.</param>
/// <param name="Error">Why it failed; null on success.</param>
public sealed record DhtPublishOutcome(int StoredOn, PublishError? Error)
{
    /// <summary>True when at least one node stored the packet.</summary>
    public bool Succeeded => Error is null;
}

/// <summary>
/// What a publish did, per backend, and the combined verdict of spec §5.6: success with the largest stored-on count
/// of any backend, or the error that wins the merge. A failed publish is a value, not an exception, so that callers
/// can show every backend's outcome; <see cref="EnsureSuccess"/> throws for callers that only need the verdict.
/// </summary>
public sealed record PublishResult
{
    /// <summary>The published packet's key.</summary>
    public required PublicKey PublicKey { get; init; }

    /// <summary>The packet that was published (or refused).</summary>
    public SignedPacket? Packet { get; init; }

    /// <summary>The combined error; null on success.</summary>
    public PublishError? Error { get; init; }

    /// <summary>On success, the largest stored-on count reported by any backend (not a sum).</summary>
    public int StoredOn { get; init; }

    /// <summary>The DHT put's outcome; null when the DHT is not used.</summary>
    public DhtPublishOutcome? Dht { get; init; }

    /// <summary>Every relay's outcome, in configuration order; empty when relays are not used.</summary>
    public IReadOnlyList<RelayPublishOutcome> Relays { get; init; } = [];

    /// <summary>True when the combined verdict is success.</summary>
    public bool Succeeded => Error is null;

    /// <summary>Throws <see cref="PublishException"/> unless the publish succeeded; returns this result otherwise.</summary>
    public PublishResult EnsureSuccess() => Error is null ? this : throw Client.Error.PublishFailed(this);
}
