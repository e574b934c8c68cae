using Pkarr.Relay.RateLimiting;

namespace Pkarr.Relay.Tests.RateLimiting;

public sealed class QuotaTests
{
    [Theory]
    [InlineData("1r/s", 1, QuotaUnit.Second, 10_000_000)]
    [InlineData("2r/s", 2, QuotaUnit.Second, 5_000_000)]
    [InlineData("30r/m", 30, QuotaUnit.Minute, 20_000_000)]
    [InlineData("60r/h", 60, QuotaUnit.Hour, 600_000_000)]
    [InlineData("24r/d", 24, QuotaUnit.Day, 36_000_000_000)]
    [InlineData("10000000r/s", 10_000_000, QuotaUnit.Second, 1)]
    [InlineData("2147483647r/d", int.MaxValue, QuotaUnit.Day, 402)]
    public void Valid_quotas_parse_to_one_token_per_unit_over_count(string text, int count, QuotaUnit unit, long periodTicks)
    {
        Assert.True(Quota.TryParse(text, out var quota, out string? error), error);
        Assert.Null(error);
        Assert.Equal(new Quota(count, unit), quota);
        Assert.Equal(TimeSpan.FromTicks(periodTicks), quota.Period);
        Assert.Equal(text, quota.ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("2/s")]        // missing r
    [InlineData("2rs")]        // missing /
    [InlineData("r/s")]        // missing count
    [InlineData("0r/s")]       // zero
    [InlineData("-1r/s")]
    [InlineData("+2r/s")]
    [InlineData("2.5r/s")]
    [InlineData("0x10r/s")]
    [InlineData("5mb/s")]      // other units
    [InlineData("2r/ms")]
    [InlineData("2r/x")]
    [InlineData("2r/")]
    [InlineData("2r/s/")]
    [InlineData(" 2r/s")]
    [InlineData("2r/s ")]
    [InlineData("2147483648r/s")]  // above 2^31 - 1
    [InlineData("10000001r/s")]    // unit / N rounds to no time at all
    public void Invalid_quotas_are_refused_with_a_reason(string? text)
    {
        Assert.False(Quota.TryParse(text, out var quota, out string? error));
        Assert.False(string.IsNullOrWhiteSpace(error));
        Assert.Equal(default, quota);
    }
}
