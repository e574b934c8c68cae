using Pkarr.DnsServer.Configuration;

namespace Pkarr.DnsServer.Tests.Configuration;

/// <summary>A temporary directory for configuration files, and the assertions the configuration tests share.</summary>
public sealed class ConfigFiles : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("pkarr-dns-config-").FullName;

    public void Dispose() => Directory.Delete(Root, recursive: true);

    public string Write(string toml, string name = "pkarr-dns.toml")
    {
        var path = Path.Combine(Root, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, toml);
        return path;
    }

    public DnsServerOptions Load(string toml, string name = "pkarr-dns.toml") => DnsConfiguration.Load(Write(toml, name));

    /// <summary>Loads <paramref name="toml"/>, expects it refused, and checks that the error names the file, the line
    /// (when given) and the key, and that the message contains each of <paramref name="says"/>.</summary>
    public DnsConfigurationException Refused(string toml, string? key, int? line, params string[] says)
    {
        var path = Write(toml);
        var e = Assert.Throws<DnsConfigurationException>(() => DnsConfiguration.Load(path));
        Assert.Equal(path, e.Source);
        Assert.Equal(key, e.Key);
        Assert.Equal(line, e.Line);
        Assert.StartsWith(line is null ? path + ": " : $"{path}:{line}: ", e.Message, StringComparison.Ordinal);
        if (key is not null)
        {
            Assert.Contains($": {key}: ", e.Message, StringComparison.Ordinal);
        }

        foreach (var text in says)
        {
            Assert.Contains(text, e.Message, StringComparison.Ordinal);
        }

        Assert.DoesNotContain('\n', e.Message);
        return e;
    }
}
