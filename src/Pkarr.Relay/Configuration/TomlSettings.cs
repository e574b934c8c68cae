// Reads the relay's TOML file (shared spec pkarr.md §6.7) into settings: tables are sections, their keys settings,
// each with its line. Tomlyn's syntax parser checks the whole TOML grammar first (duplicate keys included, which its
// object model alone lets through), so a syntax error names its line before any value is looked at.

using Tomlyn;
using Tomlyn.Model;
using Tomlyn.Parsing;
using Tomlyn.Serialization;
using Tomlyn.Syntax;

namespace Pkarr.Relay.Configuration;

internal static class TomlSettings
{
    /// <summary>Reads the file at <paramref name="path"/>; <paramref name="sections"/> lists the sections a key
    /// outside any table is told it belongs under (the relay's by default; the DNS server passes its own).</summary>
    public static SettingLayer Read(string path, string sections = "[http], [mainline], [cache], [rate_limiter], [republisher] or [web]")
    {
        var fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw Error.ConfigFileMissing(path);
        }

        string text;
        try
        {
            text = File.ReadAllText(fullPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Error.ConfigFileUnreadable(path, e);
        }

        var document = SyntaxParser.Parse(text, path, validate: true);
        if (document.Diagnostics.FirstOrDefault(d => d.Kind == DiagnosticMessageKind.Error) is { } syntaxError)
        {
            throw Error.ConfigSyntax(path, syntaxError.Span.Start.Line + 1, syntaxError.Message);
        }

        var metadata = new TomlMetadataStore();
        TomlTable root;
        try
        {
            root = TomlSerializer.Deserialize<TomlTable>(text, new TomlSerializerOptions { SourceName = path, MetadataStore = metadata })
                ?? new TomlTable();
        }
        catch (TomlException e)
        {
            throw Error.ConfigSyntax(path, e.Line ?? 1, e.Message);
        }

        var directory = Path.GetDirectoryName(fullPath) ?? fullPath;
        SettingOrigin At(TomlTable table, string key) =>
            new(path, metadata.TryGetProperties(table, out var properties) && properties is not null
                && properties.TryGetProperty(key, out var property) && property is not null
                ? property.Span.Start.Line + 1
                : null, directory, FromEnvironment: false);

        var layer = new SettingLayer();
        foreach (var (name, value) in root)
        {
            if (value is not TomlTable section)
            {
                // A key outside any table, or an array of tables: neither is a section the reader's caller reads.
                throw Error.ConfigKey(At(root, name), name, $"is not a section; settings belong under {sections}");
            }

            layer.Sections.Add(name, At(root, name));
            foreach (var (key, item) in section)
            {
                var origin = At(section, key);
                var fullKey = name + "." + key;
                layer.Settings.Add(fullKey, new Setting(fullKey, item is TomlArray array ? Entries(fullKey, array, origin) : item, origin));
            }
        }

        return layer;
    }

    private static List<Setting> Entries(string key, TomlArray array, SettingOrigin origin) =>
        [.. array.Select((item, i) => new Setting($"{key}[{i}]", item ?? "", origin))];
}
