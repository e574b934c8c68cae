using Microsoft.Extensions.Time.Testing;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Tests.Packets;

public sealed class CachedPacketTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);

    private static SignedPacket Vector(string name) => SignedPacket.FromBytes(Convert.FromHexString(
        Vectors.Load().RootElement.GetProperty("signed_packets").GetProperty(name).GetProperty("signed_packet_hex").GetString()!));

    private static SignedPacket TwoTxt()
    {
        using var keypair = Keypair.FromSecretKey(new byte[32]);
        return SignedPacket.Builder().Txt("t", "x", 30).Txt("u", "y", 600).Timestamp(new Timestamp(5)).Sign(keypair);
    }

    [Fact]
    public void Seen_takes_the_wall_clock_of_the_time_provider()
    {
        var time = new FakeTimeProvider(Start.AddTicks(10));
        var entry = CachedPacket.Seen(TwoTxt(), time);
        Assert.Equal(1_700_000_000_000_001UL, entry.LastSeen.Microseconds);
    }

    [Fact]
    public void Age_and_expiry_follow_last_seen()
    {
        var time = new FakeTimeProvider(Start);
        var entry = CachedPacket.Seen(TwoTxt(), time);
        Assert.Equal(0u, entry.Elapsed(time));
        Assert.Equal(300u, entry.ExpiresIn(time: time)); // smallest TTL 30, clamped up to the default minimum 300
        Assert.False(entry.IsExpired(time: time));
        Assert.True(entry.IsExpired(0, 0, time));
        Assert.Single(entry.FreshResourceRecords("t", time));

        time.Advance(TimeSpan.FromMilliseconds(29_999));
        Assert.Equal(29u, entry.Elapsed(time));
        Assert.Single(entry.FreshResourceRecords("t", time));

        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(30u, entry.Elapsed(time));
        Assert.Empty(entry.FreshResourceRecords("t", time)); // TTL 30 is no longer strictly above 30 s
        Assert.Single(entry.FreshResourceRecords("u", time));

        time.Advance(TimeSpan.FromSeconds(70));
        Assert.Equal(100u, entry.Elapsed(time));
        Assert.Equal(200u, entry.ExpiresIn(time: time));
        Assert.Equal(500u, entry.ExpiresIn(600, 600, time));

        time.Advance(TimeSpan.FromSeconds(200));
        Assert.Equal(0u, entry.ExpiresIn(time: time));
        Assert.True(entry.IsExpired(time: time));
        Assert.Throws<ArgumentOutOfRangeException>(() => entry.ExpiresIn(10, 5, time));

        // Seeing the packet again makes a new entry; the old one keeps its age.
        var again = CachedPacket.Seen(entry.Packet, time);
        Assert.False(again.IsExpired(time: time));
        Assert.True(entry.IsExpired(time: time));
    }

    [Fact]
    public void A_last_seen_in_the_future_is_age_zero()
    {
        var time = new FakeTimeProvider(Start);
        var entry = new CachedPacket(TwoTxt(), Timestamp.WallClock(time).AddMicroseconds(5_000_000));
        Assert.Equal(0u, entry.Elapsed(time));
        Assert.Equal(300u, entry.ExpiresIn(time: time));
    }

    [Fact]
    public void Supersedes_never_downgrades()
    {
        var older = new CachedPacket(Vector("tie_first"), new Timestamp(100));
        var newer = new CachedPacket(Vector("tie_second"), new Timestamp(50));
        var rule = Vectors.Load().RootElement.GetProperty("more_recent_than");
        Assert.Equal("tie_first", rule.GetProperty("a").GetString());
        Assert.True(rule.GetProperty("b_more_recent_than_a").GetBoolean());

        Assert.True(older.Supersedes(null));
        Assert.True(newer.Supersedes(older));   // more recent packet, even though seen earlier
        Assert.False(older.Supersedes(newer));  // never downgrade, even though seen later

        var sameLater = older with { LastSeen = new Timestamp(101) };
        Assert.True(sameLater.Supersedes(older));
        Assert.False(older.Supersedes(sameLater));
        Assert.False(older.Supersedes(older));
    }

    [Fact]
    public void Equality_is_same_bytes_and_same_last_seen()
    {
        var packet = Vector("single_a_record");
        var a = new CachedPacket(packet, new Timestamp(7));
        var b = new CachedPacket(SignedPacket.FromBytes(packet.Bytes.Span), new Timestamp(7));
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, b with { LastSeen = new Timestamp(8) });
        Assert.NotEqual(a, new CachedPacket(Vector("two_cname_apex"), new Timestamp(7)));
        Assert.Throws<ArgumentNullException>(() => new CachedPacket(null!, default));
    }

    [Fact]
    public void Storage_form_round_trips()
    {
        var time = new FakeTimeProvider(Start);
        var entry = new CachedPacket(Vector("multi_record_compressed"), new Timestamp(1_700_000_000_000_000));
        byte[] stored = entry.Serialize();
        Assert.Equal(8 + entry.Packet.Bytes.Length, stored.Length);
        Assert.Equal("00060a24181e4000", Convert.ToHexStringLower(stored.AsSpan(0, 8)));
        Assert.Equal(entry.Packet.Bytes.ToArray(), stored[8..]);

        Assert.True(CachedPacket.TryDeserialize(stored, out var read, out var error, time), error.Message);
        Assert.Equal(entry, read);
    }

    [Fact]
    public void Storage_last_seen_more_than_60_s_ahead_is_reset_to_zero()
    {
        var time = new FakeTimeProvider(Start);
        var packet = Vector("multi_record_compressed");
        var now = Timestamp.WallClock(time);

        var atLimit = new CachedPacket(packet, now.AddMicroseconds(60_000_000)).Serialize();
        Assert.True(CachedPacket.TryDeserialize(atLimit, out var read, out _, time));
        Assert.Equal(now.AddMicroseconds(60_000_000), read.LastSeen);

        var beyond = new CachedPacket(packet, now.AddMicroseconds(60_000_001)).Serialize();
        Assert.True(CachedPacket.TryDeserialize(beyond, out read, out _, time));
        Assert.Equal(0UL, read.LastSeen.Microseconds);

        // An older little-endian last_seen reads as far in the future.
        byte[] littleEndian = new CachedPacket(packet, now).Serialize();
        BitConverter.GetBytes(now.Microseconds).CopyTo(littleEndian, 0);
        Assert.True(CachedPacket.TryDeserialize(littleEndian, out read, out _, time));
        Assert.Equal(0UL, read.LastSeen.Microseconds);
    }

    [Fact]
    public void Storage_checks_lengths_and_dns_but_not_the_signature()
    {
        byte[] stored = new CachedPacket(Vector("single_a_record"), new Timestamp(1)).Serialize();

        Assert.False(CachedPacket.TryDeserialize(stored.AsSpan(0, 7), out var entry, out var error));
        Assert.Null(entry);
        Assert.Equal(SignedPacketErrorKind.InvalidSignedPacketBytesLength, error.Kind);
        Assert.Equal(7, error.Length);

        Assert.False(CachedPacket.TryDeserialize(stored.AsSpan(0, 8 + 103), out _, out error));
        Assert.Equal(SignedPacketErrorKind.InvalidSignedPacketBytesLength, error.Kind);
        Assert.Equal(103, error.Length);

        Assert.False(CachedPacket.TryDeserialize(new byte[8 + 1105], out _, out error));
        Assert.Equal(SignedPacketErrorKind.PacketTooLarge, error.Kind);

        byte[] notDns = [.. stored[..(8 + 104)], 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x05];
        Assert.False(CachedPacket.TryDeserialize(notDns, out _, out error));
        Assert.Equal(SignedPacketErrorKind.InvalidDnsPacket, error.Kind);

        // Storage is trusted: a changed signature is read as it is.
        stored[8 + 40] ^= 0x01;
        Assert.True(CachedPacket.TryDeserialize(stored, out entry, out _));
        Assert.Equal(stored[8..], entry.Packet.Bytes.ToArray());
    }

    [Fact]
    public void Text_adds_the_last_seen_time_and_age_to_the_packet_text()
    {
        var packet = Vector("multi_record_compressed");
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddSeconds(1_731_421_400));
        var entry = new CachedPacket(packet, new Timestamp(1_731_421_390_500_000));
        string header = $"; public_key: {packet.PublicKey}\n";
        Assert.StartsWith(header, packet.ToString(), StringComparison.Ordinal);
        Assert.Equal(header + "; last_seen: 1731421390500000 (9 seconds ago)\n" + packet.ToString()[header.Length..], entry.ToString(time));

        // ToString() reads the system clock; a last_seen far ahead makes the age 0 whatever that clock says.
        Assert.Contains("(0 seconds ago)\n", new CachedPacket(packet, Timestamp.MaxSeq).ToString(), StringComparison.Ordinal);
    }
}
