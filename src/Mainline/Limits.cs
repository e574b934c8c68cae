// Protocol constants (shared spec §0).
namespace Mainline;

internal static class Limits
{
    /// <summary>Bucket size and "closest" count.</summary>
    public const int K = 20;

    /// <summary>
    /// Datagrams longer than 4096 bytes are dropped before decoding (shared spec §1.3). The largest honest KRPC
    /// message, a BEP 44 get reply with a 1000-byte value, 20 IPv4 nodes, a token, key and signature, is ~1.8 KB
    /// (~2.6 KB with 20 IPv6 nodes as well); libtorrent reads at most 1500 bytes and the reference 2048, so
    /// nothing honest comes near 4 KiB, while a bigger datagram only buys an attacker more decoding work.
    /// </summary>
    public const int MaxDatagramLength = 4096;
}
