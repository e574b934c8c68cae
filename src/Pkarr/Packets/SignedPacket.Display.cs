// Human-readable text of a packet for logs and the CLI (spec §3.10, non-normative). The whole text is a zone file:
// the header lines are comments and each record is one line in zone-file order (`owner TTL IN TYPE data`), owners
// relative to the key (`@` for the apex), so `pkarr sign --zone` reads the output back into the same records.
//
//   ; public_key: <z32 key>
//   ; last_seen: <µs> (<N> seconds ago)                   only when known (CachedPacket)
//   ; timestamp: <µs> (<HTTP date>)
//   ; signature: <128 hex digits>
//   ; size: <N> bytes (DNS <M> of at most 1000)
//   @ 300 IN A 1.1.1.1
//   _proto 30 IN TXT "foo=bar"

using System.Globalization;
using System.Text;
using Pkarr.Dns;

namespace Pkarr.Packets;

public sealed partial class SignedPacket
{
    /// <summary>The packet as zone-file text: comment lines with key, timestamp, signature and size, then one line per answer, owners relative to the key.</summary>
    public override string ToString() => Describe(lastSeen: null);

    /// <summary>The text of <see cref="ToString"/>, with a <c>last_seen</c> line when <paramref name="lastSeen"/> gives when the packet was last seen and how many seconds ago that is.</summary>
    internal string Describe((Timestamp At, uint SecondsAgo)? lastSeen)
    {
        var text = new StringBuilder();
        var invariant = CultureInfo.InvariantCulture;
        text.Append(invariant, $"; public_key: {PublicKey}\n");
        if (lastSeen is var (at, secondsAgo))
        {
            text.Append(invariant, $"; last_seen: {at.Microseconds} ({secondsAgo} seconds ago)\n");
        }

        text.Append(invariant, $"; timestamp: {Timestamp.Microseconds} ({Timestamp.ToHttpDate()})\n");
        text.Append(invariant, $"; signature: {Convert.ToHexStringLower(Signature)}\n");
        text.Append(invariant, $"; size: {Bytes.Length} bytes (DNS {EncodedPacket.Length} of at most {MaxDnsLength})\n");
        var origin = DnsName.Parse(PublicKey.ToZ32());
        foreach (var record in AllResourceRecords)
        {
            text.Append(record.ToString(origin)).Append('\n');
        }

        return text.ToString();
    }
}
