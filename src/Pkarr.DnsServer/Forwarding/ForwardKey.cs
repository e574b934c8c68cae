// What makes two forwarded questions the same (shared spec pkarr.md §9.5 "Forwarded-answer cache": pkdns keys by
// qname:qclass:qtype case-sensitively and ignores DO/CD). Names compare ASCII case-insensitively (RFC 4343 §3):
// "Example.COM" and "example.com" share one cache entry and one flight. Other bytes of a label compare exactly.
// Comparing and hashing label by label allocates nothing, so a cache hit builds no lower-cased copy of the name.

using System.Buffers.Binary;
using System.Net;
using Pkarr.Dns;

namespace Pkarr.DnsServer.Forwarding;

/// <summary>The cache and single-flight key of a forwarded question: name (case-insensitive), type, class, flags, and
/// for a question asked of a delegated server (AskServerAsync) that server; null for the upstreams.</summary>
internal readonly struct ForwardKey(DnsName name, RecordType type, DnsClass dnsClass, ForwardFlags flags, IPEndPoint? server = null)
    : IEquatable<ForwardKey>
{
    public DnsName Name { get; } = name;

    public RecordType Type { get; } = type;

    public DnsClass Class { get; } = dnsClass;

    public ForwardFlags Flags { get; } = flags;

    public IPEndPoint? Server { get; } = server;

    public bool Equals(ForwardKey other)
        => Type == other.Type && Class == other.Class && Flags == other.Flags && Equals(Server, other.Server)
            && DnsNames.EqualsIgnoreCase(Name, other.Name);

    public override bool Equals(object? obj) => obj is ForwardKey other && Equals(other);

    public override int GetHashCode()
        => HashCode.Combine(DnsNames.HashIgnoreCase(Name), (ushort)Type, (ushort)Class, (int)Flags, Server);
}

/// <summary>ASCII case-insensitive comparisons of names (RFC 4343): only A–Z fold, every other byte is opaque.</summary>
internal static class DnsNames
{
    public static bool EqualsIgnoreCase(DnsName left, DnsName right)
    {
        if (ReferenceEquals(left, right))
        {
            return true;
        }

        int count = left.LabelCount;
        if (count != right.LabelCount)
        {
            return false;
        }

        for (int i = 0; i < count; i++)
        {
            var a = left.Label(i);
            var b = right.Label(i);
            if (a.Length != b.Length)
            {
                return false;
            }

            for (int j = 0; j < a.Length; j++)
            {
                if (a[j] != b[j] && Lower(a[j]) != Lower(b[j]))
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>
    /// A hash that names equal under <see cref="EqualsIgnoreCase"/> share: every byte ORed with 0x20 (which folds A–Z,
    /// and merely collides a few other pairs such as '@' and '`', which equality still tells apart), eight at a time.
    /// </summary>
    public static int HashIgnoreCase(DnsName name)
    {
        const ulong Fold = 0x2020202020202020;
        const ulong Prime = 0x100000001B3;
        ulong hash = 0xCBF29CE484222325;
        int count = name.LabelCount;
        for (int i = 0; i < count; i++)
        {
            var label = name.Label(i);
            hash = (hash ^ (uint)label.Length) * Prime;
            while (label.Length >= 8)
            {
                hash = (hash ^ (BinaryPrimitives.ReadUInt64LittleEndian(label) | Fold)) * Prime;
                label = label[8..];
            }

            foreach (byte b in label)
            {
                hash = (hash ^ (uint)(b | 0x20)) * Prime;
            }
        }

        return (int)(hash ^ (hash >> 32));
    }

    public static byte Lower(byte b) => b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b | 0x20) : b;
}
