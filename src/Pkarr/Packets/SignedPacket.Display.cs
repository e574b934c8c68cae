// Human-readable text of a packet for logs and the CLI (spec §3.10, non-normative).

using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using Pkarr.Dns;

namespace Pkarr.Packets;

public sealed partial class SignedPacket
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The packet as text: key, timestamp, signature and one line per answer.</summary>
    public override string ToString() => Describe(secondsSinceSeen: null);

    /// <summary>The text of <see cref="ToString"/>, with the reference's <c>last_seen</c> line when an age is known.</summary>
    internal string Describe(uint? secondsSinceSeen)
    {
        var text = new StringBuilder();
        var invariant = CultureInfo.InvariantCulture;
        text.Append(invariant, $"SignedPacket ({PublicKey}):\n");
        if (secondsSinceSeen is uint seconds)
        {
            text.Append(invariant, $"    last_seen: {seconds} seconds ago\n");
        }

        text.Append(invariant, $"    timestamp: {Timestamp} {Timestamp.ToHttpDate()},\n");
        text.Append(invariant, $"    signature: {Convert.ToHexStringLower(Signature)}\n");
        text.Append("    records:\n");
        foreach (var record in AllResourceRecords)
        {
            text.Append(invariant, $"        {record.Name}  IN  {record.Ttl}  {record.TypeName}  {DisplayData(record.Data)}\n");
        }

        text.Append('\n');
        return text.ToString();
    }

    /// <summary>TXT as its UTF-8 text in quotes (or the reference's marker for invalid UTF-8), others in presentation form.</summary>
    internal static string DisplayData(RecordData data) => data switch
    {
        TxtData txt => "\"" + (TryUtf8(txt, out string? value) ? value : "__INVALID_TXT_VALUE_") + "\"",
        CnameData cname => cname.Target.ToString(),
        _ => data.ToString() ?? string.Empty,
    };

    private static bool TryUtf8(TxtData txt, [NotNullWhen(true)] out string? text)
    {
        try
        {
            text = StrictUtf8.GetString(txt.Strings.SelectMany(s => s.ToArray()).ToArray());
            return true;
        }
        catch (DecoderFallbackException)
        {
            text = null;
            return false;
        }
    }
}
