// A signed packet seen as a DNS zone: its key is the apex, every record under the key is indexed by its name
// relative to the key, with letters folded for comparison (owner names match ignoring case, RFC 4343). Built once
// per packet, so a server can keep it beside the cached packet and answer many questions from it.
//
// Left out of the zone, as if absent: records whose owner does not end in the key (a received packet may hold any
// name, spec §11.7), classes other than IN, and OPT and meta types (41, 128–255), which are never data.

using Pkarr.Dns;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.DnsServer.Answering;

/// <summary>A record of the zone with its owner relative to the key.</summary>
/// <param name="Record">The record as in the packet.</param>
/// <param name="Relative">The owner's labels below the key, as in the packet.</param>
/// <param name="Lower">The same labels with letters folded to lower case.</param>
internal sealed record ZoneEntry(ResourceRecord Record, DnsName Relative, DnsName Lower);

/// <summary>The records of one key's packet, indexed for answering.</summary>
internal sealed class PacketZone
{
    private PacketZone(SignedPacket packet, ZoneEntry[] entries)
    {
        Packet = packet;
        Key = packet.PublicKey;
        KeyLabel = Labels.Single(System.Text.Encoding.ASCII.GetBytes(Key.ToZ32()));
        Entries = entries;
    }

    /// <summary>The packet.</summary>
    public SignedPacket Packet { get; }

    /// <summary>The packet's key: the zone's apex.</summary>
    public PublicKey Key { get; }

    /// <summary>The key's canonical z-base32 spelling as a one-label name.</summary>
    public DnsName KeyLabel { get; }

    /// <summary>The zone's records in packet order.</summary>
    public IReadOnlyList<ZoneEntry> Entries { get; }

    /// <summary>Indexes a packet. Never throws on packet content.</summary>
    public static PacketZone Create(SignedPacket packet)
    {
        ArgumentNullException.ThrowIfNull(packet);
        var key = packet.PublicKey.ToZ32();
        var keyLabel = System.Text.Encoding.ASCII.GetBytes(key);
        var entries = new List<ZoneEntry>();
        foreach (var record in packet.AllResourceRecords)
        {
            int count = record.Name.LabelCount;
            if (record.Class != DnsClass.IN || IsMetaType(record.Type) || count == 0
                || !Labels.EqualsIgnoreCase(record.Name.Label(count - 1), keyLabel))
            {
                continue;
            }

            var relative = Labels.Slice(record.Name, 0, count - 1);
            entries.Add(new ZoneEntry(record, relative, Labels.ToLower(relative)));
        }

        return new PacketZone(packet, [.. entries]);
    }

    /// <summary>OPT and the meta/query-only range (RFC 6895 §3.1): never stored data.</summary>
    internal static bool IsMetaType(RecordType type) => type == RecordType.OPT || (ushort)type is >= 128 and <= 255;
}
