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

    [Fact]
    public void Now_is_strictly_increasing_never_behind_the_wall_clock_and_drifts_at_most_256_us_per_call()
    {
        var start = Timestamp.Now();
        ulong wallStart = Timestamp.WallClock().Microseconds;
        var previous = start;
        for (int i = 0; i < 10_000; i++)
        {
            var next = Timestamp.Now();
            Assert.True(next > previous);
            previous = next;
        }

        ulong wallEnd = Timestamp.WallClock().Microseconds;
        Assert.True(previous.Microseconds >= (wallEnd & 0x00FF_FFFF_FFFF_FFFF) - 1_000_000, "Now() fell behind the wall clock");
        // Other tests in this process call Now() too, so only the growth over this loop is bounded.
        Assert.True(previous.Microseconds - start.Microseconds <= (10_000UL * 256) + (wallEnd - wallStart) + 256);
        Assert.Equal(start.Microseconds & 0xFF, previous.Microseconds & 0xFF);
    }

    [Fact]
    public void Wall_clock_matches_the_system_clock()
    {
        ulong system = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
        Assert.InRange(Timestamp.WallClock().Microseconds, system - 2_000_000, system + 2_000_000);
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
