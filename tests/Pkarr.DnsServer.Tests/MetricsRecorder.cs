using System.Diagnostics.Metrics;
using Pkarr.DnsServer.Metrics;

namespace Pkarr.DnsServer.Tests;

/// <summary>Records what one <see cref="DnsMetrics"/> instance measures (instances in parallel tests share the meter's
/// name, so the listener picks the instance's own meter).</summary>
internal sealed class MetricsRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly List<(string Instrument, double Value, Dictionary<string, string?> Tags)> _measurements = [];

    // What the observable instruments (counters whose totals the metrics keep themselves) reported when last asked.
    private readonly List<(string Instrument, double Value, Dictionary<string, string?> Tags)> _observed = [];

    public MetricsRecorder(DnsMetrics metrics)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, metrics.Meter))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>The sum of the measurements of <paramref name="instrument"/> whose tags include all of <paramref name="tags"/>
    /// ("key=value"); for an observable counter, of its totals now.</summary>
    public double Sum(string instrument, params string[] tags) => Matching(instrument, tags).Sum(m => m.Value);

    /// <summary>How many measurements of <paramref name="instrument"/> carry all of <paramref name="tags"/>; for an
    /// observable counter, how many of its tag sets.</summary>
    public int Count(string instrument, params string[] tags) => Matching(instrument, tags).Count();

    public void Dispose() => _listener.Dispose();

    private IEnumerable<(string Instrument, double Value, Dictionary<string, string?> Tags)> Matching(string instrument, string[] tags)
    {
        lock (_measurements)
        {
            _observed.Clear();
            _listener.RecordObservableInstruments();
            return _measurements.Concat(_observed)
                .Where(m => m.Instrument == instrument && tags.All(t => m.Tags.GetValueOrDefault(t[..t.IndexOf('=')]) == t[(t.IndexOf('=') + 1)..]))
                .ToList();
        }
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var byKey = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            byKey[tag.Key] = tag.Value?.ToString();
        }

        lock (_measurements)
        {
            (instrument.IsObservable ? _observed : _measurements).Add((instrument.Name, value, byKey));
        }
    }
}
