// dig's and kdig's default output, read into the status, the header flags and the records of each section. Both
// print records as "owner TTL class type rdata" on lines of their own and everything else behind ';'.

using System.Text.RegularExpressions;

namespace Pkarr.DnsServer.Tests.Tools;

internal sealed record DigRecord(string Owner, uint Ttl, string Type, string Data)
{
    /// <summary>Owner and data in lower case without the final dot and without quotes: what the tests compare.</summary>
    public string Normal => $"{Normalize(Owner)} {Type} {Normalize(Data)}";

    public static string Normalize(string text) => string.Join(' ', text.Replace("\"", string.Empty, StringComparison.Ordinal)
        .Split(' ', StringSplitOptions.RemoveEmptyEntries)
        .Select(token => token.Length > 1 ? token.TrimEnd('.') : token)).ToLowerInvariant();
}

internal sealed partial class DigOutput
{
    private DigOutput(string text) => Text = text;

    public string Text { get; }

    /// <summary>NOERROR, NXDOMAIN, BADVERS, …; null when no header was printed (no answer).</summary>
    public string? Status { get; private set; }

    public IReadOnlySet<string> Flags { get; private set; } = new HashSet<string>();

    public List<DigRecord> Answer { get; } = [];

    public List<DigRecord> Authority { get; } = [];

    public List<DigRecord> Additional { get; } = [];

    public bool Has(string flag) => Flags.Contains(flag);

    /// <summary>The answer's data, normalised, in order.</summary>
    public IEnumerable<string> AnswerData => Answer.Select(r => DigRecord.Normalize(r.Data));

    public static DigOutput Parse(string text)
    {
        var output = new DigOutput(text);
        List<DigRecord>? section = null;
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.Trim();
            if (StatusPattern().Match(line) is { Success: true } status)
            {
                // A retry (TC → TCP, BADVERS → version 0) prints a new header: the last one counts.
                output.Status = status.Groups[1].Value;
                output.Answer.Clear();
                output.Authority.Clear();
                output.Additional.Clear();
                continue;
            }

            if (FlagsPattern().Match(line) is { Success: true } flags)
            {
                output.Flags = flags.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.OrdinalIgnoreCase);
                continue;
            }

            if (line.StartsWith(';'))
            {
                section = line.Contains("ANSWER SECTION", StringComparison.Ordinal) ? output.Answer
                    : line.Contains("AUTHORITY SECTION", StringComparison.Ordinal) ? output.Authority
                    : line.Contains("ADDITIONAL SECTION", StringComparison.Ordinal) ? output.Additional
                    : line.Contains("SECTION", StringComparison.Ordinal) ? null
                    : section;
                continue;
            }

            if (line.Length == 0 || section is null)
            {
                continue;
            }

            string[] fields = line.Split((char[])[' ', '\t'], 5, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 5 && uint.TryParse(fields[1], out uint ttl))
            {
                section.Add(new DigRecord(fields[0], ttl, fields[3], fields[4].Trim()));
            }
        }

        return output;
    }

    public override string ToString() => Text;

    [GeneratedRegex(@"status: ([A-Z0-9]+)")]
    private static partial Regex StatusPattern();

    [GeneratedRegex(@"^;; [Ff]lags: ([a-z ]*);")]
    private static partial Regex FlagsPattern();
}
