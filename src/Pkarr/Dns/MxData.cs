// MX record (RFC 1035 §3.3.9). The exchange is compressible (shared spec §3.4.3).
//
//   +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//   |                  PREFERENCE                   |
//   +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//   /                   EXCHANGE                    /
//   +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+

using System.Globalization;

namespace Pkarr.Dns;

/// <summary>The data of an MX record: a mail exchange and its preference (lower is preferred).</summary>
/// <param name="preference">The preference; lower values are tried first.</param>
/// <param name="exchange">The mail exchange's host name.</param>
public sealed class MxData(ushort preference, DnsName exchange) : RecordData
{
    /// <summary>The preference; lower values are tried first.</summary>
    public ushort Preference { get; } = preference;

    /// <summary>The mail exchange's host name.</summary>
    public DnsName Exchange { get; } = exchange ?? throw Error.ArgumentNull(nameof(exchange));

    /// <inheritdoc/>
    public override RecordType Type => RecordType.MX;

    /// <inheritdoc/>
    public override string ToString()
        => string.Create(CultureInfo.InvariantCulture, $"{Preference} {Presentation.FormatName(Exchange)}");

    internal override void WriteTo(ref DnsWriter writer)
    {
        writer.WriteUInt16(Preference);
        writer.WriteName(Exchange, compressible: true);
    }
}
