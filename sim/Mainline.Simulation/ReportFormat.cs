// The report as one JSON line (the issue's CLI contract) or as readable text.
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mainline.Simulation;

internal static class ReportFormat
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new NaNAsNull() },
    };

    /// <summary>One line of JSON with snake_case names; a percentile of nothing (NaN) is null.</summary>
    public static string ToJson(SimulationReport report) => JsonSerializer.Serialize(report, Json);

    /// <summary>One "name: value" line per figure.</summary>
    public static string ToText(SimulationReport report)
    {
        var s = new StringBuilder();
        foreach (var p in typeof(SimulationReport).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var value = p.GetValue(report);
            var text = value switch
            {
                double d when double.IsNaN(d) => "-",
                double d => d.ToString("0.###", CultureInfo.InvariantCulture),
                IDictionary<string, long> counts => string.Join(", ", counts.Select(c => $"{c.Key} {c.Value.ToString(CultureInfo.InvariantCulture)}")),
                _ => Convert.ToString(value, CultureInfo.InvariantCulture),
            };
            s.Append(JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name).PadRight(28)).Append(' ').AppendLine(text);
        }

        return s.ToString();
    }

    private sealed class NaNAsNull : JsonConverter<double>
    {
        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.Null ? double.NaN : reader.GetDouble();

        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
        {
            if (double.IsFinite(value))
            {
                writer.WriteNumberValue(value);
            }
            else
            {
                writer.WriteNullValue();
            }
        }
    }
}
