// The physical floor the decoder competes with: one UDP datagram sent and received over 127.0.0.1 by two
// blocking sockets in this process (two syscalls + the kernel's loopback path). If decoding is much cheaper
// than this, the decoder is not what limits a node's datagram rate.
using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;

namespace Mainline.Benchmarks;

[MemoryDiagnoser]
[Config(typeof(Cfg))]
public class UdpLoopbackBenchmarks
{
    private sealed class Cfg : ManualConfig
    {
        public Cfg() => AddColumn(StatisticColumn.OperationsPerSecond);
    }

    private Socket _sender = null!;
    private Socket _receiver = null!;
    private EndPoint _to = null!;
    private byte[] _datagram = [];
    private readonly byte[] _buffer = new byte[2048];

    [ParamsSource(nameof(Messages))]
    public string Message { get; set; } = "";

    public static IEnumerable<string> Messages() => ["ping_query", "get_response_mutable_1000"];

    [GlobalSetup]
    public void Setup()
    {
        _datagram = Datagrams.Get(Message);
        _receiver = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _receiver.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _receiver.ReceiveTimeout = 1000; // a lost datagram fails the run instead of hanging it
        _sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _sender.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _to = _receiver.LocalEndPoint!;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _sender.Dispose();
        _receiver.Dispose();
    }

    [Benchmark(Description = "UDP loopback send+receive")]
    public int SendReceive()
    {
        _sender.SendTo(_datagram, _to);
        return _receiver.Receive(_buffer);
    }
}
