// Sends one raw BEP 44 `get` (read-only, hand-encoded) to each node and records the reply's length in bytes.
// libtorrent receives into a 1500-byte buffer (include/libtorrent/aux_/udp_socket.hpp, receive_buffer), so a
// longer reply never reaches its DHT code; 1472 bytes is the largest unfragmented UDP payload on Ethernet.
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Mainline.Benchmarks;

internal static class ReplySizes
{
    public static async Task<List<int>> ProbeGetAsync(IEnumerable<IPEndPoint> nodes, NodeId target, CancellationToken ct)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var id = new byte[20];
        Random.Shared.NextBytes(id);
        var query = new List<byte>();
        query.AddRange(Encoding.ASCII.GetBytes("d1:ad2:id20:"));
        query.AddRange(id);
        query.AddRange(Encoding.ASCII.GetBytes("6:target20:"));
        query.AddRange(target.Bytes.ToArray());
        query.AddRange(Encoding.ASCII.GetBytes("e1:q3:get2:roi1e1:t2:zz1:y1:qe"));
        var datagram = query.ToArray();
        var buffer = new byte[65536];
        var sizes = new List<int>();
        foreach (var node in nodes)
        {
            if (!IPAddress.IsLoopback(node.Address))
            {
                continue;
            }

            await socket.SendToAsync(datagram, SocketFlags.None, node, ct);
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(TimeSpan.FromSeconds(1));
            try
            {
                var got = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), cts.Token);
                sizes.Add(got.ReceivedBytes);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                // no reply within 1 s: skip this node
            }
        }

        return sizes;
    }
}
