using System.Diagnostics.CodeAnalysis;
using Pkarr.Packets;

namespace Pkarr.Client;

/// <summary>What a resolve found: a packet with the time it was last seen, or the reason there is none.</summary>
public sealed class ResolveResult
{
    private ResolveResult(CachedPacket? entry, ResolveError? error)
    {
        Entry = entry;
        Error = error;
    }

    /// <summary>The packet and when it was last seen (by this client, or by the relay that served it); null on error.</summary>
    public CachedPacket? Entry { get; }

    /// <summary>The packet; null on error.</summary>
    public SignedPacket? Packet => Entry?.Packet;

    /// <summary>Why there is no packet; null when one was found.</summary>
    public ResolveError? Error { get; }

    /// <summary>True when a packet was found.</summary>
    [MemberNotNullWhen(true, nameof(Entry), nameof(Packet))]
    [MemberNotNullWhen(false, nameof(Error))]
    public bool Found => Entry is not null;

    /// <summary>A result holding <paramref name="entry"/>.</summary>
    public static ResolveResult Of(CachedPacket entry) => new(entry ?? throw Client.Error.ArgumentNull(nameof(entry)), null);

    /// <summary>A result holding <paramref name="error"/>.</summary>
    public static ResolveResult Of(ResolveError error) => new(null, error ?? throw Client.Error.ArgumentNull(nameof(error)));

    /// <summary>Nobody has a packet for the key.</summary>
    public static ResolveResult NotFound { get; } = new(null, ResolveError.NotFound);

    /// <inheritdoc />
    public override string ToString() => Found ? Packet.ToString() : Error.ToString();
}
