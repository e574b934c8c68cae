// Pkarr timestamps (spec §2): unsigned microseconds since the Unix epoch, 8 bytes big-endian on the wire and
// the BEP 44 `seq` (signed 64-bit) on the DHT. Now() comes from TimestampClock, which keeps it strictly
// increasing; WallClock() is the plain time of a TimeProvider.

using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Pkarr.Packets;

/// <summary>Microseconds since the Unix epoch (UTC); the version number of a signed packet.</summary>
/// <param name="Microseconds">The count of microseconds since 1970-01-01T00:00:00Z.</param>
public readonly record struct Timestamp(ulong Microseconds) : IComparable<Timestamp>, ISpanFormattable
{
    private const string Crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    private static readonly string[] HttpDateFormats =
    [
        "r",                                  // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
        "dddd, dd-MMM-yy HH:mm:ss 'GMT'",     // RFC 850:     Sunday, 06-Nov-94 08:49:37 GMT
        "ddd MMM d HH:mm:ss yyyy",            // asctime:     Sun Nov  6 08:49:37 1994
        "ddd MMM dd HH:mm:ss yyyy",
    ];

    /// <summary>The largest timestamp that is also a valid BEP 44 <c>seq</c> (2^63 − 1).</summary>
    public static Timestamp MaxSeq => new(long.MaxValue);

    /// <summary>
    /// The current time in microseconds from <see cref="TimestampClock.System"/>: strictly greater than any value it
    /// returned before in this process, even when the wall clock steps back.
    /// </summary>
    public static Timestamp Now() => TimestampClock.System.Now();

    /// <summary>
    /// The wall-clock time of <paramref name="time"/> (the system's by default), not forced to increase. Cache ages
    /// use it (<see cref="CachedPacket.LastSeen"/>): every call of <see cref="Now"/> made faster than 256 µs apart
    /// moves it 256 µs ahead, so a process seeing thousands of packets a second would otherwise run its publishing
    /// clock far into the future.
    /// </summary>
    public static Timestamp WallClock(TimeProvider? time = null) => FromDateTimeOffset((time ?? TimeProvider.System).GetUtcNow());

    /// <summary>The timestamp of a point in time (truncated to microseconds; times before 1970 give 0).</summary>
    public static Timestamp FromDateTimeOffset(DateTimeOffset time)
    {
        long ticks = time.UtcTicks - DateTime.UnixEpoch.Ticks;
        return new Timestamp(ticks <= 0 ? 0UL : (ulong)(ticks / 10));
    }

    /// <summary>Reads an 8-byte big-endian timestamp.</summary>
    public static Timestamp FromBigEndian(ReadOnlySpan<byte> bytes) => new(BinaryPrimitives.ReadUInt64BigEndian(bytes));

    /// <summary>Writes the 8-byte big-endian form.</summary>
    public void WriteBigEndian(Span<byte> destination) => BinaryPrimitives.WriteUInt64BigEndian(destination, Microseconds);

    /// <summary>The value as a BEP 44 <c>seq</c> (values ≥ 2^63 wrap negative and cannot be published).</summary>
    public long AsSeq => unchecked((long)Microseconds);

    /// <summary>Whole seconds since the epoch (truncated).</summary>
    public ulong Seconds => Microseconds / 1_000_000;

    /// <summary>This time as a <see cref="DateTimeOffset"/> (clamped to its range).</summary>
    public DateTimeOffset ToDateTimeOffset()
    {
        ulong maxMicros = (ulong)(DateTimeOffset.MaxValue.UtcTicks - DateTime.UnixEpoch.Ticks) / 10;
        return DateTimeOffset.UnixEpoch.AddTicks((long)Math.Min(Microseconds, maxMicros) * 10);
    }

    /// <summary>Adds microseconds, saturating at <see cref="ulong.MaxValue"/>.</summary>
    public Timestamp AddMicroseconds(ulong micros) =>
        new(ulong.MaxValue - Microseconds < micros ? ulong.MaxValue : Microseconds + micros);

    /// <summary>Subtracts microseconds, saturating at 0.</summary>
    public Timestamp SubtractMicroseconds(ulong micros) => new(Microseconds < micros ? 0 : Microseconds - micros);

    /// <summary>The RFC 9110 IMF-fixdate of the whole second, e.g. <c>Sun, 06 Nov 1994 08:49:37 GMT</c>.</summary>
    public string ToHttpDate() =>
        DateTimeOffset.UnixEpoch.AddSeconds(Math.Min(Seconds, 253402300799UL)).ToString("r", CultureInfo.InvariantCulture);

    /// <summary>Parses an HTTP date (IMF-fixdate, RFC 850 or asctime) to whole seconds × 1 000 000. Never throws.</summary>
    public static bool TryParseHttpDate([NotNullWhen(true)] string? text, out Timestamp timestamp)
    {
        timestamp = default;
        if (text is null)
        {
            return false;
        }

        if (!DateTimeOffset.TryParseExact(
                text.Trim(),
                HttpDateFormats,
                CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowInnerWhite,
                out var parsed))
        {
            return false;
        }

        long seconds = parsed.ToUnixTimeSeconds();
        timestamp = new Timestamp(seconds <= 0 ? 0UL : (ulong)seconds * 1_000_000);
        return true;
    }

    /// <summary>The 13-character Crockford base32 form of the 8 big-endian bytes (sortable), e.g. <c>0030M90R3S000</c>.</summary>
    public override string ToString() => string.Create(13, Microseconds, static (chars, value) =>
    {
        // 64 bits read most significant first in 5-bit groups; the last group is padded with one zero bit.
        for (int i = 0; i < 13; i++)
        {
            int shift = 59 - (5 * i);
            ulong group = shift >= 0 ? (value >> shift) & 0x1F : (value << -shift) & 0x1F;
            chars[i] = Crockford[(int)group];
        }
    });

    /// <inheritdoc />
    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    /// <inheritdoc />
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
    {
        string text = ToString();
        charsWritten = text.AsSpan().TryCopyTo(destination) ? text.Length : 0;
        return charsWritten != 0;
    }

    /// <inheritdoc />
    public int CompareTo(Timestamp other) => Microseconds.CompareTo(other.Microseconds);

    /// <summary>Earlier than.</summary>
    public static bool operator <(Timestamp left, Timestamp right) => left.Microseconds < right.Microseconds;

    /// <summary>Later than.</summary>
    public static bool operator >(Timestamp left, Timestamp right) => left.Microseconds > right.Microseconds;

    /// <summary>Earlier or equal.</summary>
    public static bool operator <=(Timestamp left, Timestamp right) => left.Microseconds <= right.Microseconds;

    /// <summary>Later or equal.</summary>
    public static bool operator >=(Timestamp left, Timestamp right) => left.Microseconds >= right.Microseconds;
}
