// The query handler's cost per cached answer, in process: what a UDP receive loop pays between receiving a datagram
// and sending the reply, without the sockets. The handler is the server's own (DnsQueryHandler over the production
// PkarrPacketSource and UpstreamForwarder, wired as DnsServer wires them); its caches are filled once in the setup:
//
//   Pkarr:     100 keys, each with a packet holding one `@ A` record (TTL one hour), looked up once through the
//              packet source (its resolve delegate hands back the packet, as the network would);
//   forwarded: 100 names n<i>.bench.test, each with an upstream answer (one A record, TTL one hour) put in the
//              forwarder's response cache (the upstream address is never contacted).
//
// Each call asks the next name in turn, as dnsperf does with its query file: the query as dnsperf sends it (RD set,
// no EDNS, a new id per query), from 127.0.0.1 over UDP, rate limits off (run.sh's settings). Pkarr and Forwarded
// take the response as a new array (what TCP and DoH get); PkarrIntoBuffer and ForwardedIntoBuffer pass a send
// buffer, as a UDP receive loop does. Exported = true adds the meter provider the server runs for /metrics (its
// exporter here does nothing: what it costs per query is the aggregation on each measurement).
//
//   dotnet run -c Release --project bench/Pkarr.DnsServer.Benchmarks -- --filter '*CachedQuery*'
using System.Net;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using Pkarr.Client;
using Pkarr.Dns;
using Pkarr.DnsServer.Answering;
using Pkarr.DnsServer.Forwarding;
using Pkarr.DnsServer.Metrics;
using Pkarr.DnsServer.Packets;
using Pkarr.DnsServer.Query;
using Pkarr.DnsServer.RateLimiting;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.DnsServer.Benchmarks;

[MemoryDiagnoser]
public class CachedQueryBenchmarks
{
    private const int Names = 100;
    private const ushort Rd = 0x0100;

    private static readonly QueryContext Context = new(IPAddress.Loopback, DnsTransport.Udp);

    private DnsMetrics _metrics = null!;
    private MeterProvider? _meters;
    private PkarrPacketSource _packets = null!;
    private UpstreamForwarder _forwarder = null!;
    private DnsQueryHandler _handler = null!;
    private byte[][] _pkarrQueries = [];
    private byte[][] _forwardedQueries = [];
    private readonly byte[] _sendBuffer = new byte[65535];
    private int _next;

    /// <summary>Whether an OpenTelemetry meter provider listens to the handler's instruments, as the server's /metrics
    /// does; without one a measurement costs next to nothing, which hides what the server pays per query.</summary>
    [Params(false, true)]
    public bool Exported { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var time = TimeProvider.System;
        _metrics = new DnsMetrics();
        if (Exported)
        {
            _meters = Sdk.CreateMeterProviderBuilder().AddMeter(DnsMetrics.MeterName)
                .AddReader(new PeriodicExportingMetricReader(new NoExporter(), 60_000)).Build();
        }
        var limits = DnsRateLimits.Unlimited;
        _forwarder = new UpstreamForwarder(
            new ForwarderOptions { Upstreams = [new IPEndPoint(IPAddress.Loopback, 9)] },
            _metrics, time, NullLogger<UpstreamForwarder>.Instance);
        var packets = new Dictionary<PublicKey, SignedPacket>();
        _packets = new PkarrPacketSource(
            (key, _) => Task.FromResult(ResolveResult.Of(CachedPacket.Seen(packets[key]))),
            new PacketSourceOptions(), limits, _metrics, time, NullLogger<PkarrPacketSource>.Instance);
        _handler = new DnsQueryHandler(
            new QueryHandlerOptions(),
            new PkarrNameMatcher(new PkarrNameOptions()),
            new PacketAnswerer(new AnsweringOptions()),
            _packets, _forwarder, limits, _metrics, time, NullLogger<DnsQueryHandler>.Instance);

        _pkarrQueries = new byte[Names][];
        _forwardedQueries = new byte[Names][];
        for (int i = 0; i < Names; i++)
        {
            using var keypair = Keypair.Random();
            var packet = SignedPacket.Builder().A("@", IPAddress.Parse("192.0.2.1"), ttl: 3600).Sign(keypair);
            packets[keypair.PublicKey] = packet;
            if (_packets.GetAsync(keypair.PublicKey, IPAddress.Loopback, CancellationToken.None).AsTask().GetAwaiter().GetResult().Status
                != PacketStatus.Found)
            {
                throw new InvalidOperationException("the packet source did not take the packet");
            }

            _pkarrQueries[i] = Query(keypair.PublicKey.ToZ32());

            string name = $"n{i}.bench.test";
            var question = new DnsQuestion(DnsName.Parse(name), RecordType.A, DnsClass.IN);
            var response = new DnsMessage
            {
                Flags = 0x8180,
                Questions = [question],
                Answers = [new ResourceRecord(question.Name, DnsClass.IN, 3600, new AData(IPAddress.Parse("192.0.2.2")))],
            };
            if (!_forwarder.Cache!.TryAdd(new ForwardKey(question.Name, question.Type, question.Class, ForwardFlags.None), response,
                response.Encode().Length))
            {
                throw new InvalidOperationException("the forward cache did not take the answer");
            }

            _forwardedQueries[i] = Query(name);
        }

        // Every name answers NOERROR from its cache before anything is measured.
        foreach (var query in _pkarrQueries.Concat(_forwardedQueries))
        {
            var reply = Ask(query);
            if (reply is null || (reply[3] & 0xF) != 0)
            {
                throw new InvalidOperationException("a warm-up query did not answer NOERROR");
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _packets.Dispose();
        _forwarder.Dispose();
        _metrics.Dispose();
        _meters?.Dispose();
    }

    private sealed class NoExporter : BaseExporter<Metric>
    {
        public override ExportResult Export(in Batch<Metric> batch) => ExportResult.Success;
    }

    [Benchmark]
    public byte[]? Pkarr() => Ask(NextOf(_pkarrQueries));

    [Benchmark]
    public byte[]? Forwarded() => Ask(NextOf(_forwardedQueries));

    [Benchmark]
    public int PkarrIntoBuffer() => AskIntoBuffer(NextOf(_pkarrQueries));

    [Benchmark]
    public int ForwardedIntoBuffer() => AskIntoBuffer(NextOf(_forwardedQueries));

    private int AskIntoBuffer(byte[] query)
    {
        var pending = _handler.HandleAsync(query, Context, _sendBuffer, CancellationToken.None);
        return pending.IsCompletedSuccessfully ? pending.Result.Length : throw new InvalidOperationException("a cached answer waited");
    }

    private byte[]? Ask(byte[] query)
    {
        var pending = _handler.HandleAsync(query, Context, CancellationToken.None);
        return pending.IsCompletedSuccessfully ? pending.Result : throw new InvalidOperationException("a cached answer waited");
    }

    /// <summary>The next query of <paramref name="queries"/>, with a new id (as a client numbers its queries).</summary>
    private byte[] NextOf(byte[][] queries)
    {
        int n = _next++;
        byte[] query = queries[n % queries.Length];
        query[0] = (byte)(n >> 8);
        query[1] = (byte)n;
        return query;
    }

    private static byte[] Query(string name) => new DnsMessage
    {
        Flags = Rd,
        Questions = [new DnsQuestion(DnsName.Parse(name), RecordType.A, DnsClass.IN)],
    }.Encode();
}
