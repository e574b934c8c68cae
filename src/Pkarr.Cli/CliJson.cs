using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Pkarr.Cli;

/// <summary>
/// The one JSON style of every command: compact, one object per line (so output pipes into <c>jq</c> or a line
/// reader), with relaxed escaping: quotes print as <c>\"</c> and non-ASCII text as itself, not <c>\u0022</c> or
/// <c>\u00e9</c>. The output goes to terminals and pipes, never into HTML, where the default escaping would matter.
/// </summary>
internal static class CliJson
{
    /// <summary>The options every command serializes with (read-only).</summary>
    internal static JsonSerializerOptions Options { get; } = CreateOptions();

    /// <summary>The writer settings of <see cref="Options"/>, for commands that write members one by one.</summary>
    internal static JsonWriterOptions WriterOptions => new() { Encoder = Options.Encoder, Indented = Options.WriteIndented };

    /// <summary>The JSON text that <paramref name="write"/> produces on a writer with <see cref="WriterOptions"/>.</summary>
    internal static string Write(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, WriterOptions))
        {
            write(writer);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, WriteIndented = false };
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
