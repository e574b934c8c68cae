// The one exception a bad relay configuration raises: it says where the bad value was written (a file and its line,
// or an environment variable), which key it is, what is wrong and what is accepted, so an operator can fix it
// without reading the source.

namespace Pkarr.Relay.Configuration;

/// <summary>
/// The relay's configuration (its TOML file or a <c>PKARR_RELAY__…</c> environment variable) is missing, malformed or
/// holds a value the relay does not accept. The message reads <c>&lt;source&gt;[:line]: &lt;key&gt;: &lt;problem&gt;</c>.
/// </summary>
public sealed class RelayConfigurationException : Exception
{
    internal RelayConfigurationException(string source, int? line, string? key, string problem, Exception? innerException = null)
        : base(Describe(source, line, key, problem), innerException)
    {
        Source = source;
        Line = line;
        Key = key;
    }

    /// <summary>Where the bad setting was written: the configuration file's path as given, or the name of the
    /// environment variable.</summary>
    public override string? Source { get; set; }

    /// <summary>The 1-based line in the file, when the problem is in a file and its line is known.</summary>
    public int? Line { get; }

    /// <summary>The setting as <c>section.key</c> (e.g. <c>rate_limiter.quota</c>; list entries as
    /// <c>mainline.bootstrap[1]</c>); null when the problem is the file itself (missing, unreadable, not TOML).</summary>
    public string? Key { get; }

    private static string Describe(string source, int? line, string? key, string problem) =>
        (line, key) switch
        {
            ({ } l, { } k) => $"{source}:{l}: {k}: {problem}",
            ({ } l, null) => $"{source}:{l}: {problem}",
            (null, { } k) => $"{source}: {k}: {problem}",
            _ => $"{source}: {problem}",
        };
}
