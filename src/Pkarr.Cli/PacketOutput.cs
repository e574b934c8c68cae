using System.Text.Json;
using Pkarr.Dns;
using Pkarr.Packets;

namespace Pkarr.Cli;

/// <summary>
/// How every command prints a packet. Text is the core's zone-file text (<see cref="SignedPacket.ToString"/>):
/// comment lines with key, last seen, timestamp, signature and size, then <c>owner TTL IN TYPE data</c> per record,
/// owners relative to the key (<c>@</c> for the apex), which <c>pkarr sign --zone</c> reads back. JSON is one
/// line in <see cref="CliJson"/> style with the same members:
/// <code>
/// {"public_key":"…","last_seen":…,"timestamp":…,"signature":"…","size":…,"dns_size":…,
///  "records":[{"name":"@","ttl":300,"class":"IN","type":"A","data":"1.1.1.1"}]}
/// </code>
/// <c>last_seen</c> (µs since the epoch) only when known; <c>name</c> and <c>data</c> as in the text.
/// </summary>
internal static class PacketOutput
{
    /// <summary>Writes the packet's text (it ends with a line break).</summary>
    internal static void WriteText(TextWriter output, SignedPacket packet) => output.Write(packet.ToString());

    /// <summary>Writes the packet's text with a <c>last_seen</c> line, its age by <paramref name="time"/> (the system clock when null).</summary>
    internal static void WriteText(TextWriter output, CachedPacket entry, TimeProvider? time = null) => output.Write(entry.ToString(time));

    /// <summary>Writes <see cref="ToJson"/> and a line break.</summary>
    internal static void WriteJson(TextWriter output, SignedPacket packet, Timestamp? lastSeen = null) => output.WriteLine(ToJson(packet, lastSeen));

    /// <summary>The packet as one line of JSON; <paramref name="lastSeen"/> adds the <c>last_seen</c> member.</summary>
    internal static string ToJson(SignedPacket packet, Timestamp? lastSeen = null) => CliJson.Write(writer => Write(writer, packet, lastSeen));

    private static void Write(Utf8JsonWriter writer, SignedPacket packet, Timestamp? lastSeen)
    {
        writer.WriteStartObject();
        writer.WriteString("public_key", packet.PublicKey.ToString());
        if (lastSeen is Timestamp seen)
        {
            writer.WriteNumber("last_seen", seen.Microseconds);
        }

        writer.WriteNumber("timestamp", packet.Timestamp.Microseconds);
        writer.WriteString("signature", Convert.ToHexStringLower(packet.Signature));
        writer.WriteNumber("size", packet.Bytes.Length);
        writer.WriteNumber("dns_size", packet.EncodedPacket.Length);
        writer.WriteStartArray("records");
        var origin = DnsName.Parse(packet.PublicKey.ToZ32());
        foreach (var record in packet.AllResourceRecords)
        {
            writer.WriteStartObject();
            writer.WriteString("name", record.Name.ToPresentation(origin));
            writer.WriteNumber("ttl", record.Ttl);
            writer.WriteString("class", record.Class.ToString());
            writer.WriteString("type", record.TypeName);
            writer.WriteString("data", record.Data.ToString());
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
