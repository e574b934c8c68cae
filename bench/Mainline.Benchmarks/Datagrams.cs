// Representative KRPC datagrams, byte for byte as libtorrent 2.0.8 sends them (top-level `v` = "LT\x02\x08",
// `ip` on replies, `r.p`, 2-byte `t`, 4-byte tokens, 8 nodes per reply). Built with a tiny canonical
// bencoder of our own so the benchmark does not depend on the encoder under test.
using System.Text;

namespace Mainline.Benchmarks;

internal static class Datagrams
{
    public static readonly string[] Names = ["ping_query", "get_peers_response_nodes", "get_response_mutable_1000", "put_query_mutable_1000"];

    public static byte[] Get(string name) => name switch
    {
        "ping_query" => PingQuery(),
        "get_peers_response_nodes" => GetPeersResponse(),
        "get_response_mutable_1000" => GetResponseMutable(),
        "put_query_mutable_1000" => PutQueryMutable(),
        _ => throw new ArgumentException(name, nameof(name)),
    };

    private static readonly byte[] Lt = [(byte)'L', (byte)'T', 2, 8];
    private static readonly byte[] Tid = [0x4a, 0x7f];

    private static byte[] Fill(int length, byte seed)
    {
        var b = new byte[length];
        for (var i = 0; i < b.Length; i++)
        {
            b[i] = (byte)((i * 31) + seed);
        }

        return b;
    }

    private static byte[] CompactAddress(int port) => [127, 0, 0, 1, (byte)(port >> 8), (byte)port];

    private static byte[] Nodes(int count)
    {
        var b = new List<byte>();
        for (var i = 0; i < count; i++)
        {
            b.AddRange(Fill(20, (byte)(i * 7)));
            b.AddRange(CompactAddress(7000 + i));
        }

        return [.. b];
    }

    public static byte[] PingQuery() => Enc(new SortedDictionary<string, object>(StringComparer.Ordinal)
    {
        ["a"] = D(("id", Fill(20, 1))),
        ["q"] = "ping",
        ["t"] = Tid,
        ["v"] = Lt,
        ["y"] = "q",
    });

    public static byte[] GetPeersResponse() => Enc(new SortedDictionary<string, object>(StringComparer.Ordinal)
    {
        ["ip"] = CompactAddress(40000),
        ["r"] = D(("id", Fill(20, 2)), ("nodes", Nodes(8)), ("p", 40000L), ("token", Fill(4, 9))),
        ["t"] = Tid,
        ["v"] = Lt,
        ["y"] = "r",
    });

    public static byte[] GetResponseMutable() => Enc(new SortedDictionary<string, object>(StringComparer.Ordinal)
    {
        ["ip"] = CompactAddress(40000),
        ["r"] = D(("id", Fill(20, 3)), ("k", Fill(32, 4)), ("nodes", Nodes(8)), ("p", 40000L), ("seq", 42L),
            ("sig", Fill(64, 5)), ("token", Fill(4, 9)), ("v", Fill(1000, 6))),
        ["t"] = Tid,
        ["v"] = Lt,
        ["y"] = "r",
    });

    public static byte[] PutQueryMutable() => Enc(new SortedDictionary<string, object>(StringComparer.Ordinal)
    {
        ["a"] = D(("id", Fill(20, 7)), ("k", Fill(32, 4)), ("seq", 42L), ("sig", Fill(64, 5)), ("token", Fill(4, 9)),
            ("v", Fill(1000, 6))),
        ["q"] = "put",
        ["t"] = Tid,
        ["v"] = Lt,
        ["y"] = "q",
    });

    private static SortedDictionary<string, object> D(params (string Key, object Value)[] entries)
    {
        var d = new SortedDictionary<string, object>(StringComparer.Ordinal);
        foreach (var (k, v) in entries)
        {
            d.Add(k, v);
        }

        return d;
    }

    private static byte[] Enc(object value)
    {
        using var ms = new MemoryStream();
        Write(ms, value);
        return ms.ToArray();
    }

    private static void Write(MemoryStream ms, object value)
    {
        switch (value)
        {
            case string s:
                Write(ms, Encoding.ASCII.GetBytes(s));
                break;
            case byte[] b:
                ms.Write(Encoding.ASCII.GetBytes($"{b.Length}:"));
                ms.Write(b);
                break;
            case long l:
                ms.Write(Encoding.ASCII.GetBytes($"i{l}e"));
                break;
            case SortedDictionary<string, object> d:
                ms.WriteByte((byte)'d');
                foreach (var (k, v) in d)
                {
                    Write(ms, k);
                    Write(ms, v);
                }

                ms.WriteByte((byte)'e');
                break;
            default:
                throw new ArgumentException(value.GetType().Name, nameof(value));
        }
    }
}
