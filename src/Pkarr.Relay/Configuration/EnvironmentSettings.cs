// Reads the relay's settings from environment variables, named the ASP.NET Core way: PKARR_RELAY__<SECTION>__<KEY>,
// case-insensitive, "__" between levels, list entries as PKARR_RELAY__<SECTION>__<KEY>__<INDEX> (0, 1, 2 …), e.g.
//   PKARR_RELAY__HTTP__PORT=8080
//   PKARR_RELAY__RATE_LIMITER__QUOTA=10r/s
//   PKARR_RELAY__MAINLINE__BOOTSTRAP__0=127.0.0.1:6881
// Every value is text; the key's conversion (Setting.cs) reads it as the type the key expects. The names follow
// Microsoft.Extensions.Configuration's environment provider, but the variables are read here rather than through it
// because each value must keep the name of its variable for error messages, and a list set by variables replaces
// the file's list whole (the provider would merge them entry by entry, leaving the file's extra entries in place).

using System.Collections;
using System.Globalization;

namespace Pkarr.Relay.Configuration;

internal static class EnvironmentSettings
{
    /// <summary>The prefix of the relay's variables.</summary>
    public const string Prefix = "PKARR_RELAY__";

    public static IReadOnlyDictionary<string, string?> Process()
    {
        var variables = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            variables[(string)entry.Key] = entry.Value as string;
        }

        return variables;
    }

    public static SettingLayer Read(IReadOnlyDictionary<string, string?> environment)
    {
        var layer = new SettingLayer();
        var lists = new Dictionary<string, SortedList<int, Setting>>(StringComparer.Ordinal);
        var currentDirectory = Environment.CurrentDirectory;
        foreach (var (name, value) in environment.OrderBy(v => v.Key, StringComparer.Ordinal))
        {
            if (value is null || !name.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var origin = new SettingOrigin(name, null, currentDirectory, FromEnvironment: true);
            var parts = name[Prefix.Length..].ToLowerInvariant().Split("__");
            var key = parts.Length >= 2 ? parts[0] + "." + parts[1] : parts[0];
            if (parts.Length is < 2 or > 3 || parts.Any(p => p.Length == 0))
            {
                throw Error.ConfigKey(origin, key, $"is not {Prefix}<SECTION>__<KEY> (or {Prefix}<SECTION>__<KEY>__<INDEX> for a list entry)");
            }

            layer.Sections.TryAdd(parts[0], origin);
            if (layer.Settings.ContainsKey(key) || (parts.Length == 2 && lists.ContainsKey(key)))
            {
                throw Error.ConfigKey(origin, key, "is set by more than one variable (names differ only in case, or a list is set both whole and by entry)");
            }

            if (parts.Length == 2)
            {
                layer.Settings.Add(key, new Setting(key, value, origin));
                continue;
            }

            if (!int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            {
                throw Error.ConfigKey(origin, key, $"\"{parts[2]}\" is not a list index (0, 1, 2 …)");
            }

            var entries = lists.TryGetValue(key, out var list) ? list : lists[key] = [];
            if (!entries.TryAdd(index, new Setting($"{key}[{index}]", value, origin)))
            {
                throw Error.ConfigKey(origin, key, $"entry {index} is set by more than one variable");
            }
        }

        foreach (var (key, entries) in lists)
        {
            // Entries are numbered from 0 without gaps, so that a missing variable is noticed, not skipped.
            if (entries.Keys[^1] != entries.Count - 1)
            {
                var missing = Enumerable.Range(0, entries.Count).First(i => !entries.ContainsKey(i));
                throw Error.ConfigKey(entries.Values[missing].Origin, key, $"entry {missing} is missing: list entries are numbered 0, 1, 2 … without gaps");
            }

            layer.Settings.Add(key, new Setting(key, entries.Values.ToList(), entries.Values[0].Origin));
        }

        return layer;
    }
}
