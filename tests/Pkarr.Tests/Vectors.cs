using System.Text.Json;

namespace Pkarr.Tests;

/// <summary>Locates and loads the shared conformance data (<c>&lt;repo&gt;/../shared/spec/pkarr-vectors.json</c>).</summary>
internal static class Vectors
{
    private static readonly Lazy<string> Directory = new(FindSpecDirectory);

    /// <summary>The folder holding pkarr.md and pkarr-vectors.json.</summary>
    public static string SpecDirectory => Directory.Value;

    /// <summary>Parses pkarr-vectors.json (caller disposes).</summary>
    public static JsonDocument Load()
        => JsonDocument.Parse(File.ReadAllText(Path.Combine(SpecDirectory, "pkarr-vectors.json")));

    private static string FindSpecDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "spec");
            if (File.Exists(Path.Combine(candidate, "pkarr-vectors.json")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException(
            $"shared/spec/pkarr-vectors.json not found in any parent of {AppContext.BaseDirectory}.");
    }
}
