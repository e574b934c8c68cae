using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Republishing;

/// <summary>How republishing one key ended.</summary>
public enum RepublishOutcome
{
    /// <summary>The packet was put and at least <see cref="RepublisherOptions.MinimumHolders"/> DHT nodes hold it
    /// (or the client has no DHT and a relay accepted it).</summary>
    Republished,

    /// <summary>Every put succeeded or some did, but fewer nodes than the minimum held the packet after the last attempt.</summary>
    TooFewHolders,

    /// <summary>No attempt's put succeeded; <see cref="KeyRepublishResult.Error"/> says why.</summary>
    PublishFailed,

    /// <summary>Neither the republisher nor the network knows a packet for the key: there is nothing to republish.</summary>
    NoPacket,

    /// <summary>The most recent value the key's secret signed is not a DNS packet. It is newer than the packet the
    /// republisher knows, so it is left alone rather than overwritten.</summary>
    NewerValueNotAPacket,
}

/// <summary>What one key's republish did.</summary>
public sealed record KeyRepublishResult
{
    /// <summary>The key.</summary>
    public required PublicKey PublicKey { get; init; }

    /// <summary>How it ended.</summary>
    public required RepublishOutcome Outcome { get; init; }

    /// <summary>The packet put last (the adopted or re-signed one when that happened); null when there was none.</summary>
    public SignedPacket? Packet { get; init; }

    /// <summary>The stored-on count of the last successful put (the largest of the DHT's and the relays').</summary>
    public int StoredOn { get; init; }

    /// <summary>DHT nodes found holding the packet after the last put; null when no holder check ran (no DHT, or no
    /// put succeeded).</summary>
    public int? Holders { get; init; }

    /// <summary>Puts made, the first included.</summary>
    public int Attempts { get; init; }

    /// <summary>True when the network (or the client's cache) had a newer packet than the republisher, which it now
    /// republishes instead of its own.</summary>
    public bool Adopted { get; init; }

    /// <summary>True when the packet was re-signed with a new timestamp (held secrets only).</summary>
    public bool Resigned { get; init; }

    /// <summary>For <see cref="RepublishOutcome.NewerValueNotAPacket"/>: the seq of that value.</summary>
    public long? InvalidSeq { get; init; }

    /// <summary>The last put's error, for <see cref="RepublishOutcome.PublishFailed"/>.</summary>
    public PublishError? Error { get; init; }

    /// <summary>True for <see cref="RepublishOutcome.Republished"/>.</summary>
    public bool Succeeded => Outcome == RepublishOutcome.Republished;
}

/// <summary>What one pass over the key set did.</summary>
public sealed record RepublishReport
{
    /// <summary>When the pass started, on the client's clock.</summary>
    public required DateTimeOffset Started { get; init; }

    /// <summary>When it ended.</summary>
    public required DateTimeOffset Finished { get; init; }

    /// <summary>One result per key, in the order the keys were added.</summary>
    public required IReadOnlyList<KeyRepublishResult> Keys { get; init; }

    /// <summary>Keys that ended <see cref="RepublishOutcome.Republished"/>.</summary>
    public int Succeeded => Keys.Count(k => k.Succeeded);

    /// <summary>Keys that ended otherwise.</summary>
    public int Failed => Keys.Count - Succeeded;

    /// <summary>The result for <paramref name="key"/>, or null when it was not in the pass.</summary>
    public KeyRepublishResult? For(PublicKey key) => Keys.FirstOrDefault(k => k.PublicKey == key);
}
