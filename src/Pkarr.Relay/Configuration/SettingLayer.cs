// The settings of one source (the TOML file, or the environment) before they are merged and checked: which
// sections it names and the value of each key, each with where it was written.

namespace Pkarr.Relay.Configuration;

internal sealed class SettingLayer
{
    /// <summary>Settings by <c>section.key</c>, in the order they were written.</summary>
    public Dictionary<string, Setting> Settings { get; } = new(StringComparer.Ordinal);

    /// <summary>The sections named, even empty ones (an empty <c>[rate_limiter]</c> turns rate limiting on), with
    /// where each is first named.</summary>
    public Dictionary<string, SettingOrigin> Sections { get; } = new(StringComparer.Ordinal);

    /// <summary>This layer with <paramref name="overrides"/> on top: a key set in both takes the override's value
    /// (a list whole, not entry by entry, so no entry of the file's list survives unseen).</summary>
    public SettingLayer Merge(SettingLayer overrides)
    {
        var merged = new SettingLayer();
        foreach (var (name, origin) in Sections.Concat(overrides.Sections))
        {
            merged.Sections.TryAdd(name, origin);
        }

        foreach (var (key, setting) in Settings.Concat(overrides.Settings))
        {
            merged.Settings[key] = setting;
        }

        return merged;
    }
}
