// SOA record (RFC 1035 §3.3.13). MNAME and RNAME are compressible (shared spec §3.4.3).
//
//   / MNAME / RNAME / SERIAL (4) / REFRESH (4) / RETRY (4) / EXPIRE (4) / MINIMUM (4) /

using System.Globalization;

namespace Pkarr.Dns;

/// <summary>The data of an SOA record: the start of a zone of authority.</summary>
/// <param name="primaryNameServer">MNAME: the zone's primary name server.</param>
/// <param name="responsibleMailbox">RNAME: the mailbox of the person responsible, as a name.</param>
/// <param name="serial">Version number of the zone.</param>
/// <param name="refresh">Seconds before secondaries refresh.</param>
/// <param name="retry">Seconds before a failed refresh is retried.</param>
/// <param name="expire">Seconds after which secondaries stop answering.</param>
/// <param name="minimum">Negative-caching TTL in seconds (RFC 2308).</param>
public sealed class SoaData(
    DnsName primaryNameServer,
    DnsName responsibleMailbox,
    uint serial,
    uint refresh,
    uint retry,
    uint expire,
    uint minimum) : RecordData
{
    /// <summary>MNAME: the zone's primary name server.</summary>
    public DnsName PrimaryNameServer { get; } = primaryNameServer ?? throw Error.ArgumentNull(nameof(primaryNameServer));

    /// <summary>RNAME: the mailbox of the person responsible, as a name.</summary>
    public DnsName ResponsibleMailbox { get; } = responsibleMailbox ?? throw Error.ArgumentNull(nameof(responsibleMailbox));

    /// <summary>Version number of the zone.</summary>
    public uint Serial { get; } = serial;

    /// <summary>Seconds before secondaries refresh.</summary>
    public uint Refresh { get; } = refresh;

    /// <summary>Seconds before a failed refresh is retried.</summary>
    public uint Retry { get; } = retry;

    /// <summary>Seconds after which secondaries stop answering.</summary>
    public uint Expire { get; } = expire;

    /// <summary>Negative-caching TTL in seconds.</summary>
    public uint Minimum { get; } = minimum;

    /// <inheritdoc/>
    public override RecordType Type => RecordType.SOA;

    /// <inheritdoc/>
    public override string ToString()
        => string.Create(
            CultureInfo.InvariantCulture,
            $"{Presentation.FormatName(PrimaryNameServer)} {Presentation.FormatName(ResponsibleMailbox)} {Serial} {Refresh} {Retry} {Expire} {Minimum}");

    internal override void WriteTo(ref DnsWriter writer)
    {
        writer.WriteName(PrimaryNameServer, compressible: true);
        writer.WriteName(ResponsibleMailbox, compressible: true);
        writer.WriteUInt32(Serial);
        writer.WriteUInt32(Refresh);
        writer.WriteUInt32(Retry);
        writer.WriteUInt32(Expire);
        writer.WriteUInt32(Minimum);
    }
}
