using System.Collections;
using System.Reflection;
using Pkarr.Relay.Configuration;

namespace Pkarr.Relay.Tests.Configuration;

/// <summary>A temporary directory for configuration files and the directories they name, and the assertions the
/// configuration tests share.</summary>
public sealed class ConfigFiles : IDisposable
{
    public static readonly IReadOnlyDictionary<string, string?> NoEnvironment = new Dictionary<string, string?>();

    public string Root { get; } = System.IO.Directory.CreateTempSubdirectory("pkarr-config-").FullName;

    public string Write(string toml, string name = "relay.toml")
    {
        var path = Path.Combine(Root, name);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, toml);
        return path;
    }

    public string Directory(string name) => System.IO.Directory.CreateDirectory(Path.Combine(Root, name)).FullName;

    public RelayOptions Load(string toml, IReadOnlyDictionary<string, string?>? environment = null, string name = "relay.toml") =>
        RelayConfiguration.Load(Write(toml, name), environment ?? NoEnvironment);

    /// <summary>Loads <paramref name="toml"/>, expects it refused, and checks that the error names the file (and
    /// the line, when given) and the key.</summary>
    public RelayConfigurationException Refused(string toml, string? key, int? line = null)
    {
        var path = Write(toml);
        var e = Assert.Throws<RelayConfigurationException>(() => RelayConfiguration.Load(path, NoEnvironment));
        Assert.Equal(path, e.Source);
        Assert.Equal(key, e.Key);
        Assert.StartsWith(path + ":", e.Message, StringComparison.Ordinal);
        if (line is not null)
        {
            Assert.Equal(line, e.Line);
            Assert.StartsWith($"{path}:{line}: ", e.Message, StringComparison.Ordinal);
        }

        if (key is not null)
        {
            Assert.Contains($": {key}: ", e.Message, StringComparison.Ordinal);
        }

        return e;
    }

    /// <summary>Loads with <paramref name="environment"/>, expects it refused by <paramref name="variable"/>, and
    /// checks that the error names the variable and the key.</summary>
    public static RelayConfigurationException RefusedBy(string? path, IReadOnlyDictionary<string, string?> environment, string variable, string key)
    {
        var e = Assert.Throws<RelayConfigurationException>(() => RelayConfiguration.Load(path, environment));
        Assert.Equal(variable, e.Source);
        Assert.Equal(key, e.Key);
        Assert.Null(e.Line);
        Assert.StartsWith($"{variable}: {key}: ", e.Message, StringComparison.Ordinal);
        return e;
    }

    /// <summary>Every setting of every section as "Section.Property=value" lines, so two options compare whole and a
    /// difference shows which setting differs.</summary>
    public static string[] Snapshot(RelayOptions options)
    {
        string[] sections = ["Http", "Mainline", "Cache", "RateLimiter", "Republisher", "Web"];
        return [.. sections.SelectMany(name =>
        {
            var section = typeof(RelayOptions).GetProperty(name)!.GetValue(options);
            return section is null
                ? [$"{name}=null"]
                : section.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance)
                    .Select(p => $"{name}.{p.Name}={Show(p.GetValue(section))}");
        })];
    }

    private static string Show(object? value) => value switch
    {
        null => "null",
        string s => s,
        IEnumerable items => "[" + string.Join(", ", items.Cast<object>()) + "]",
        _ => value.ToString()!,
    };

    public void Dispose() => System.IO.Directory.Delete(Root, recursive: true);
}
