// Decoder throughput: one datagram per operation. Datagrams/s = 1 / Mean (the Op/s column); allocations per
// datagram = the Allocated column. Baseline = copying the datagram into a fresh array, which is what the
// node's receive path does for every datagram anyway (so Ratio = decode cost in units of that copy).
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using Mainline.Bencode;
using Mainline.Krpc;

namespace Mainline.Benchmarks;

[MemoryDiagnoser]
[Config(typeof(Cfg))]
public class DecoderBenchmarks
{
    private sealed class Cfg : ManualConfig
    {
        public Cfg()
        {
            AddColumn(StatisticColumn.OperationsPerSecond);
            AddColumn(new DatagramSizeColumn());
        }
    }

    private byte[] _datagram = [];

    [ParamsSource(nameof(Messages))]
    public string Message { get; set; } = "";

    public static IEnumerable<string> Messages() => Datagrams.Names;

    [GlobalSetup]
    public void Setup()
    {
        _datagram = Datagrams.Get(Message);
        // Refuse to measure a datagram the decoder rejects: that would time the error path.
        var status = KrpcCodec.TryDecode(_datagram, out _);
        if (status != DecodeStatus.Ok || !BencodeReader.TryDecode(_datagram, out _))
        {
            throw new InvalidOperationException($"{Message}: decoder says {status}");
        }
    }

    [Benchmark(Baseline = true, Description = "copy datagram (receive-path floor)")]
    public byte[] Copy() => _datagram.AsSpan().ToArray();

    [Benchmark(Description = "bencode decode")]
    public object? BencodeDecode() => BencodeReader.TryDecode(_datagram, out var value) ? value : null;

    [Benchmark(Description = "KRPC parse (bencode + message)")]
    public object? KrpcParse() => KrpcCodec.TryDecode(_datagram, out var message) == DecodeStatus.Ok ? message : null;
}

/// <summary>Shows the datagram length of each case.</summary>
internal sealed class DatagramSizeColumn : IColumn
{
    public string Id => nameof(DatagramSizeColumn);
    public string ColumnName => "Bytes";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Params;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Datagram length in bytes";

    public string GetValue(BenchmarkDotNet.Reports.Summary summary, BenchmarkDotNet.Running.BenchmarkCase benchmarkCase) =>
        Datagrams.Get((string)benchmarkCase.Parameters["Message"]).Length.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public string GetValue(BenchmarkDotNet.Reports.Summary summary, BenchmarkDotNet.Running.BenchmarkCase benchmarkCase, BenchmarkDotNet.Reports.SummaryStyle style) =>
        GetValue(summary, benchmarkCase);

    public bool IsDefault(BenchmarkDotNet.Reports.Summary summary, BenchmarkDotNet.Running.BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(BenchmarkDotNet.Reports.Summary summary) => true;
}
