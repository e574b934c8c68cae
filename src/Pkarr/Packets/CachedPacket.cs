// A cache entry (spec §3.1, §3.8, §5.2): a signed packet and when this process last saw it. The packet is
// immutable and shared by every reader; the age belongs to the entry, which a cache replaces when it sees the
// packet again. Storage form: last_seen (u64 big-endian µs) || canonical bytes.

using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using Pkarr.Dns;

namespace Pkarr.Packets;

/// <summary>A signed packet with the time a cache last saw it, which decides its age and expiry.</summary>
/// <param name="Packet">The packet.</param>
/// <param name="LastSeen">When the packet was last seen (wall clock, not signed, never sent with the packet).</param>
public sealed record CachedPacket(SignedPacket Packet, Timestamp LastSeen)
{
    // A stored last_seen further ahead than this is not a time this process wrote (an older little-endian form
    // reads as far in the future), so it is reset to 0, as the reference does.
    private const ulong FutureToleranceMicros = 60_000_000;

    private const int LastSeenLength = 8;

    /// <summary>The packet.</summary>
    public SignedPacket Packet { get; init; } = Packet ?? throw Error.ArgumentNull(nameof(Packet));

    /// <summary>An entry for <paramref name="packet"/> seen now, by the wall clock of <paramref name="time"/> (the system's by default).</summary>
    public static CachedPacket Seen(SignedPacket packet, TimeProvider? time = null) => new(packet, Timestamp.WallClock(time));

    /// <summary>Whole seconds since <see cref="LastSeen"/> (0 if it lies in the future).</summary>
    public uint Elapsed(TimeProvider? time = null)
    {
        ulong now = Timestamp.WallClock(time).Microseconds;
        ulong seen = LastSeen.Microseconds;
        return now <= seen ? 0 : (uint)Math.Min((now - seen) / 1_000_000, uint.MaxValue);
    }

    /// <summary>Seconds until the entry is stale: the packet's <see cref="SignedPacket.Ttl"/> minus <see cref="Elapsed"/>, at least 0.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="min"/> is above <paramref name="max"/>.</exception>
    public uint ExpiresIn(uint min = SignedPacket.DefaultMinimumTtl, uint max = SignedPacket.DefaultMaximumTtl, TimeProvider? time = null)
    {
        uint ttl = Packet.Ttl(min, max);
        uint elapsed = Elapsed(time);
        return ttl > elapsed ? ttl - elapsed : 0;
    }

    /// <summary>True when <see cref="ExpiresIn"/> is 0 (so always, when <paramref name="max"/> is 0).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="min"/> is above <paramref name="max"/>.</exception>
    public bool IsExpired(uint min = SignedPacket.DefaultMinimumTtl, uint max = SignedPacket.DefaultMaximumTtl, TimeProvider? time = null) =>
        ExpiresIn(min, max, time) == 0;

    /// <summary>
    /// The records at <paramref name="name"/> (<see cref="SignedPacket.ResourceRecords"/>) whose own TTL has not run
    /// out since <see cref="LastSeen"/>: raw record TTL strictly greater than <see cref="Elapsed"/>.
    /// </summary>
    public IEnumerable<ResourceRecord> FreshResourceRecords(string name, TimeProvider? time = null)
    {
        uint elapsed = Elapsed(time);
        return Packet.ResourceRecords(name).Where(record => record.Ttl > elapsed);
    }

    /// <summary>
    /// Whether a cache holding <paramref name="current"/> should store this entry instead (spec §5.2): when it holds
    /// nothing, when this packet is <see cref="SignedPacket.MoreRecentThan">more recent</see>, or when both are the
    /// same packet and this one was seen later. An older packet never replaces a newer one.
    /// </summary>
    public bool Supersedes(CachedPacket? current) =>
        current is null
        || Packet.MoreRecentThan(current.Packet)
        || (Packet.IsSameAs(current.Packet) && LastSeen > current.LastSeen);

    /// <summary>The storage form: <see cref="LastSeen"/> (8 bytes big-endian) followed by the packet's canonical bytes.</summary>
    public byte[] Serialize()
    {
        var canonical = Packet.Bytes.Span;
        byte[] stored = new byte[LastSeenLength + canonical.Length];
        LastSeen.WriteBigEndian(stored);
        canonical.CopyTo(stored.AsSpan(LastSeenLength));
        return stored;
    }

    /// <summary>
    /// Reads the storage form written by <see cref="Serialize"/>. Storage is trusted, so the signature is not
    /// verified again (as the reference), but lengths and the DNS message are checked. A <c>last_seen</c> more
    /// than 60 s ahead of the wall clock of <paramref name="time"/> is reset to 0. Never throws.
    /// </summary>
    public static bool TryDeserialize(ReadOnlySpan<byte> stored, [NotNullWhen(true)] out CachedPacket? entry, out SignedPacketError error, TimeProvider? time = null)
    {
        entry = null;
        if (stored.Length < LastSeenLength)
        {
            error = new SignedPacketError(SignedPacketErrorKind.InvalidSignedPacketBytesLength, stored.Length);
            return false;
        }

        if (!SignedPacket.TryFromStorage(stored[LastSeenLength..], out var packet, out error))
        {
            return false;
        }

        var lastSeen = Timestamp.FromBigEndian(stored);
        if (lastSeen > Timestamp.WallClock(time).AddMicroseconds(FutureToleranceMicros))
        {
            lastSeen = default;
        }

        entry = new CachedPacket(packet, lastSeen);
        return true;
    }

    /// <summary>Equal when the packets have the same canonical bytes and were last seen at the same time.</summary>
    public bool Equals(CachedPacket? other) =>
        other is not null && LastSeen == other.LastSeen && Packet.IsSameAs(other.Packet);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = default(HashCode);
        hash.Add(LastSeen);
        hash.AddBytes(Packet.Signature);
        return hash.ToHashCode();
    }

    /// <summary>The packet's text (<see cref="SignedPacket.ToString"/>) with a <c>last_seen</c> line: the time and its age by the system clock.</summary>
    public override string ToString() => ToString(time: null);

    /// <summary>The packet's text (<see cref="SignedPacket.ToString"/>) with a <c>last_seen</c> line: the time and its age by <paramref name="time"/>.</summary>
    /// <param name="time">The clock that gives the age (the system's when null).</param>
    /// <returns>Zone-file text whose comment header includes <c>; last_seen: &lt;µs&gt; (&lt;N&gt; seconds ago)</c>.</returns>
    public string ToString(TimeProvider? time) => Packet.Describe((LastSeen, Elapsed(time)));
}
