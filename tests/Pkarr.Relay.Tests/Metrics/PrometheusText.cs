// A reader for the Prometheus text exposition format, enough for assertions: one sample per line,
// name{label="value",...} value. Label values here never hold quotes or commas.

using System.Globalization;
using System.Text.RegularExpressions;

namespace Pkarr.Relay.Tests.Metrics;

internal sealed partial record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public static IReadOnlyList<PrometheusSample> Parse(string text)
    {
        var samples = new List<PrometheusSample>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var match = SampleLine().Match(line);
            Assert.True(match.Success, $"not a sample line: {line}");
            var labels = new Dictionary<string, string>();
            foreach (Match label in LabelPair().Matches(match.Groups["labels"].Value))
            {
                labels[label.Groups["k"].Value] = label.Groups["v"].Value;
            }

            string value = match.Groups["value"].Value;
            samples.Add(new PrometheusSample(match.Groups["name"].Value, labels, value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                _ => double.Parse(value, CultureInfo.InvariantCulture),
            }));
        }

        return samples;
    }

    public bool Has(string label, string value) => Labels.TryGetValue(label, out var v) && v == value;

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>\S+)( \d+)?$")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"(?<k>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<v>[^""]*)""")]
    private static partial Regex LabelPair();
}
