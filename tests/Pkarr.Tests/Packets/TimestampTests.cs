using Microsoft.Extensions.Time.Testing;
using Pkarr.Packets;

namespace Pkarr.Tests.Packets;

public sealed class TimestampTests
{
    public static TheoryData<ulong, string?, string?, string> Cases()
    {
        var data = new TheoryData<ulong, string?, string?, string>();
        foreach (var item in Vectors.Load().RootElement.GetProperty("timestamps").GetProperty("cases").EnumerateArray())
        {
            data.Add(
                item.GetProperty("micros").GetUInt64(),
                item.TryGetProperty("be_bytes_hex", out var be) ? be.GetString() : null,
                item.TryGetProperty("crockford_display", out var display) ? display.GetString() : null,
                item.GetProperty("http_date").GetString()!);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Vectors_format_as_expected(ulong micros, string? beHex, string? display, string httpDate)
    {
        var timestamp = new Timestamp(micros);
        if (beHex is not null)
        {
            var bytes = new byte[8];
            timestamp.WriteBigEndian(bytes);
            Assert.Equal(beHex, Convert.ToHexStringLower(bytes));
            Assert.Equal(timestamp, Timestamp.FromBigEndian(bytes));
        }

        if (display is not null)
        {
            Assert.Equal(display, timestamp.ToString());
        }

        Assert.Equal(httpDate, timestamp.ToHttpDate());
        Assert.True(Timestamp.TryParseHttpDate(httpDate, out var parsed));
        Assert.Equal(timestamp.Seconds * 1_000_000, parsed.Microseconds);
    }

    [Fact]
    public void Relay_lower_bounds_match_the_vector()
    {
        var vector = Vectors.Load().RootElement.GetProperty("timestamps").GetProperty("cases")[2];
        var timestamp = new Timestamp(vector.GetProperty("micros").GetUInt64());
        Assert.Equal(vector.GetProperty("dht_seq_lower_bound").GetUInt64(), timestamp.SubtractMicroseconds(1).Microseconds);
        Assert.Equal(
            vector.GetProperty("relay_if_modified_since_lower_bound").GetString(),
            timestamp.SubtractMicroseconds(1_000_000).ToHttpDate());
    }

    [Theory]
    [InlineData("Sun, 06 Nov 1994 08:49:37 GMT")]
    [InlineData("Sunday, 06-Nov-94 08:49:37 GMT")]
    [InlineData("Sun Nov  6 08:49:37 1994")]
    public void All_three_http_date_formats_parse(string text)
    {
        Assert.True(Timestamp.TryParseHttpDate(text, out var parsed));
        Assert.Equal(784111777000000UL, parsed.Microseconds);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("yesterday")]
    [InlineData("Sun, 32 Nov 1994 08:49:37 GMT")]
    public void Bad_http_dates_are_rejected(string? text) => Assert.False(Timestamp.TryParseHttpDate(text, out _));

    // 2023-11-14T22:13:20Z: its microseconds end in the byte 00, so the clock id shows whole in the low byte.
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
    private const ulong StartMicros = 1_700_000_000_000_000;

    [Fact]
    public void Clock_returns_the_wall_clock_ored_with_its_id()
    {
        var time = new FakeTimeProvider(Start);
        var clock = new TimestampClock(time, clockId: 0x5A);
        Assert.Equal(0x5A, clock.ClockId);
        Assert.Equal(StartMicros | 0x5A, clock.Now().Microseconds);

        time.Advance(TimeSpan.FromTicks(10_000_010)); // 1 s and 1 µs: the wall clock's low byte shows through
        Assert.Equal((StartMicros + 1_000_001) | 0x5A, clock.Now().Microseconds);
    }

    [Fact]
    public void Clock_steps_256_us_when_the_wall_clock_does_not_move_or_steps_back()
    {
        var time = new SettableTime { UtcNow = Start };
        var clock = new TimestampClock(time, clockId: 7);
        Assert.Equal(StartMicros | 7, clock.Now().Microseconds);
        for (ulong i = 1; i <= 1_000; i++)
        {
            Assert.Equal((StartMicros + (256 * i)) | 7, clock.Now().Microseconds);
        }

        // The wall clock steps back an hour: values keep increasing by 256 µs.
        time.UtcNow = Start.AddHours(-1);
        Assert.Equal((StartMicros + (256 * 1_001)) | 7, clock.Now().Microseconds);

        // Once the wall clock passes the last value again, it is followed exactly.
        time.UtcNow = Start.AddSeconds(10);
        Assert.Equal((StartMicros + 10_000_000) | 7, clock.Now().Microseconds);
    }

    [Fact]
    public void Clock_clears_the_top_byte_of_the_wall_clock()
    {
        // 2^56 + 5 µs (the year 4253) loses its top byte, as in the reference, and reads as 5 µs; a new clock's
        // previous value is 0, so its first value is 256 µs.
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddTicks((long)((1UL << 56) + 5) * 10));
        var clock = new TimestampClock(time, clockId: 3);
        Assert.Equal(256UL | 3, clock.Now().Microseconds);
        Assert.Equal(512UL | 3, clock.Now().Microseconds);
    }

    [Fact]
    public void Now_comes_from_the_system_clock()
    {
        var now = Timestamp.Now();
        Assert.Equal(TimestampClock.System.ClockId, (byte)now.Microseconds & TimestampClock.System.ClockId);
        Assert.True(Timestamp.Now() > now);
    }

    [Fact]
    public void Wall_clock_reads_the_time_provider_to_the_microsecond()
    {
        Assert.Equal(StartMicros + 1_234_567, Timestamp.WallClock(new FakeTimeProvider(Start.AddTicks(12_345_678))).Microseconds);

        // Before 1970 there is no timestamp: 0.
        Assert.Equal(0UL, Timestamp.WallClock(new SettableTime { UtcNow = DateTimeOffset.UnixEpoch.AddSeconds(-5) }).Microseconds);
    }

    /// <summary>A clock the test sets to any time, backwards too (FakeTimeProvider only moves forward).</summary>
    private sealed class SettableTime : TimeProvider
    {
        public DateTimeOffset UtcNow { get; set; }

        public override DateTimeOffset GetUtcNow() => UtcNow;
    }

    [Fact]
    public void Arithmetic_saturates()
    {
        Assert.Equal(ulong.MaxValue, new Timestamp(ulong.MaxValue - 1).AddMicroseconds(10).Microseconds);
        Assert.Equal(0UL, new Timestamp(5).SubtractMicroseconds(10).Microseconds);
        Assert.Equal(long.MaxValue, Timestamp.MaxSeq.AsSeq);
    }

    [Fact]
    public void DateTimeOffset_round_trips_to_the_microsecond()
    {
        var time = new DateTimeOffset(2024, 11, 12, 14, 23, 4, TimeSpan.Zero).AddTicks(1234560);
        var timestamp = Timestamp.FromDateTimeOffset(time);
        Assert.Equal(time, timestamp.ToDateTimeOffset());
    }
}
