// A rate quota as the reference writes it (shared spec pkarr.md §6.5): "<N>r/<unit>", N a positive 32-bit integer
// and unit s, m, h or d; one token comes back every unit / N.

using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Pkarr.Relay.RateLimiting;

/// <summary>The units of a <see cref="Quota"/>.</summary>
public enum QuotaUnit
{
    /// <summary><c>s</c></summary>
    Second,

    /// <summary><c>m</c></summary>
    Minute,

    /// <summary><c>h</c></summary>
    Hour,

    /// <summary><c>d</c></summary>
    Day,
}

/// <summary><paramref name="Count"/> requests per <paramref name="Unit"/>.</summary>
/// <param name="Count">Requests per unit, at least 1.</param>
/// <param name="Unit">The unit of time.</param>
public readonly record struct Quota(int Count, QuotaUnit Unit)
{
    /// <summary>The length of one unit.</summary>
    public TimeSpan UnitLength => Unit switch
    {
        QuotaUnit.Second => TimeSpan.FromSeconds(1),
        QuotaUnit.Minute => TimeSpan.FromMinutes(1),
        QuotaUnit.Hour => TimeSpan.FromHours(1),
        _ => TimeSpan.FromDays(1),
    };

    /// <summary>The time in which one token comes back: unit / count.</summary>
    public TimeSpan Period => Count > 0 ? TimeSpan.FromTicks(UnitLength.Ticks / Count) : TimeSpan.Zero;

    /// <summary>Parses <c>"&lt;N&gt;r/&lt;unit&gt;"</c>; <paramref name="error"/> says what is wrong otherwise.</summary>
    public static bool TryParse(string? text, out Quota quota, [NotNullWhen(false)] out string? error)
    {
        quota = default;
        if (string.IsNullOrEmpty(text))
        {
            error = "a quota is \"<N>r/<unit>\" with unit s, m, h or d, e.g. \"2r/s\"; it is empty";
            return false;
        }

        int slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 2 || text[slash - 1] != 'r')
        {
            error = $"\"{text}\" is not \"<N>r/<unit>\" (e.g. \"2r/s\")";
            return false;
        }

        var count = text.AsSpan(0, slash - 1);
        if (!int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n <= 0)
        {
            error = $"\"{text}\": the count must be a positive integer below 2^31";
            return false;
        }

        QuotaUnit? unit = text.AsSpan(slash + 1) switch
        {
            "s" => QuotaUnit.Second,
            "m" => QuotaUnit.Minute,
            "h" => QuotaUnit.Hour,
            "d" => QuotaUnit.Day,
            _ => null,
        };
        if (unit is null)
        {
            error = $"\"{text}\": the unit must be s, m, h or d";
            return false;
        }

        quota = new Quota(n, unit.Value);
        if (quota.Period <= TimeSpan.Zero)
        {
            quota = default;
            error = $"\"{text}\" is too high: one request per {quota.UnitLength} / {n} rounds to no time at all";
            return false;
        }

        error = null;
        return true;
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Count}r/{Unit switch
    {
        QuotaUnit.Second => "s",
        QuotaUnit.Minute => "m",
        QuotaUnit.Hour => "h",
        _ => "d",
    }}");
}
