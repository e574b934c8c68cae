// One configured value and where it was written. The TOML file and the environment both become Settings, and
// every value is checked by the conversions below, so a value means the same and fails the same wherever it comes
// from. TOML values arrive typed (long, bool, string, arrays); environment values are text, read as the type the
// key expects, the way ASP.NET Core's configuration binder reads them.

using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Pkarr.Relay.RateLimiting;
using Tomlyn;
using Tomlyn.Model;

namespace Pkarr.Relay.Configuration;

/// <summary>Where a setting was written.</summary>
/// <param name="Source">The configuration file's path as given, or the environment variable's name.</param>
/// <param name="Line">The 1-based line in the file; null for the environment.</param>
/// <param name="BaseDirectory">What relative paths are relative to: the file's directory, or the current directory
/// for the environment (a path is relative to where it is written).</param>
/// <param name="FromEnvironment">Whether the value is an environment variable's text.</param>
internal readonly record struct SettingOrigin(string Source, int? Line, string BaseDirectory, bool FromEnvironment);

/// <summary>The value of <paramref name="Key"/> (<c>section.key</c>) as written at <paramref name="Origin"/>: a TOML
/// value, an environment variable's text, or for lists an <see cref="IReadOnlyList{T}"/> of entries.</summary>
internal sealed record Setting(string Key, object Value, SettingOrigin Origin)
{
    /// <summary>The section, the part of <see cref="Key"/> before its first dot.</summary>
    public string Section => Key[..Key.IndexOf('.', StringComparison.Ordinal)];

    public long Integer(long min, long max)
    {
        long? value = Value switch
        {
            long n => n,
            string text when Origin.FromEnvironment && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) => n,
            _ => null,
        };
        return value is { } v && v >= min && v <= max
            ? v
            : throw Error.ConfigValue(this, string.Create(CultureInfo.InvariantCulture, $"{Shown} is not an integer from {min} to {max}"));
    }

    public int Port() => (int)Integer(0, 65535);

    public int Count(int min) => (int)Integer(min, int.MaxValue);

    public bool Boolean() => Value switch
    {
        bool b => b,
        string text when Origin.FromEnvironment && bool.TryParse(text, out var b) => b,
        _ => throw Error.ConfigValue(this, $"{Shown} is not a boolean (true or false)"),
    };

    /// <summary>A non-empty string; <paramref name="accepted"/> describes what it should be.</summary>
    public string Text(string accepted) => Value is string { Length: > 0 } text
        ? text
        : throw Error.ConfigValue(this, $"{Shown} is not {accepted}");

    public Quota Quota()
    {
        const string Accepted = "a quota \"<N>r/<unit>\" with unit s, m, h or d (e.g. \"2r/s\")";
        return RateLimiting.Quota.TryParse(Text(Accepted), out var quota, out var problem)
            ? quota
            : throw Error.ConfigValue(this, problem);
    }

    /// <summary>A dotted-quad IPv4 address in its usual form (so "127.1" and other legacy forms are refused).</summary>
    public IPAddress Ipv4Address()
    {
        const string Accepted = "an IPv4 address such as \"0.0.0.0\" (every interface) or \"127.0.0.1\"";
        var text = Text(Accepted);
        return IPAddress.TryParse(text, out var address) && address.AddressFamily == AddressFamily.InterNetwork
            && address.ToString() == text
            ? address
            : throw Error.ConfigValue(this, $"{Shown} is not {Accepted}");
    }

    public string EndPoint()
    {
        const string Accepted = "a \"host:port\" (a DNS name, a.b.c.d or [IPv6], and a port 1..65535)";
        var text = Text(Accepted);
        return Mainline.DhtEndPoint.TryParse(text, out _) ? text : throw Error.ConfigValue(this, $"{Shown} is not {Accepted}");
    }

    /// <summary>One of <paramref name="choices"/>, by its exact name.</summary>
    public T Choice<T>(params (string Name, T Value)[] choices)
    {
        var accepted = string.Join(" or ", choices.Select(c => $"\"{c.Name}\""));
        var text = Text(accepted);
        foreach (var (name, value) in choices)
        {
            if (name == text)
            {
                return value;
            }
        }

        throw Error.ConfigValue(this, $"{Shown} is not {accepted}");
    }

    /// <summary>An existing directory, resolved against <see cref="SettingOrigin.BaseDirectory"/> and canonicalised:
    /// absolute, without <c>.</c> or <c>..</c>, and the directory itself, when it is a symbolic link, replaced by its
    /// target.</summary>
    public string Directory()
    {
        var text = Text("a directory path");
        var full = System.IO.Path.GetFullPath(text, Origin.BaseDirectory);
        if (!System.IO.Directory.Exists(full))
        {
            throw Error.ConfigValue(this, $"{Shown} is not an existing directory (resolved to {full}; create it first)");
        }

        var target = System.IO.Directory.ResolveLinkTarget(full, returnFinalTarget: true)?.FullName ?? full;
        return System.IO.Path.TrimEndingDirectorySeparator(target);
    }

    /// <summary>The entries of a list (a TOML array, or the variables <c>…__0</c>, <c>…__1</c> …).</summary>
    public IReadOnlyList<Setting> List(string accepted) => Value as IReadOnlyList<Setting>
        ?? throw Error.ConfigValue(this, $"{Shown} is not {accepted}" + (Origin.FromEnvironment
            ? $"; set one variable per entry: {Origin.Source}__0, {Origin.Source}__1, …"
            : ""));

    /// <summary>The value as an operator wrote it, with its type where that is what is wrong.</summary>
    private string Shown => Value switch
    {
        string text when Origin.FromEnvironment => Quoted(text),
        string text => "the string " + Quoted(text),
        bool b => b ? "true" : "false",
        long n => n.ToString(CultureInfo.InvariantCulture),
        double d => "the float " + d.ToString(CultureInfo.InvariantCulture),
        IReadOnlyList<Setting> => "a list",
        TomlTable => "a table",
        TomlTableArray => "an array of tables",
        TomlDateTime date => "the date-time " + date,
        _ => "a " + Value.GetType().Name,
    };

    private static string Quoted(string text) => "\"" + text.Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
