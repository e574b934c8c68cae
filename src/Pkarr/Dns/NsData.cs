// NS record (RFC 1035 §3.3.11): one domain name, compressible (shared spec §3.4.3).

namespace Pkarr.Dns;

/// <summary>The data of an NS record: the name of an authoritative name server.</summary>
/// <param name="nameServer">The name server's host name.</param>
public sealed class NsData(DnsName nameServer) : RecordData
{
    /// <summary>The name server's host name.</summary>
    public DnsName NameServer { get; } = nameServer ?? throw Error.ArgumentNull(nameof(nameServer));

    /// <inheritdoc/>
    public override RecordType Type => RecordType.NS;

    /// <inheritdoc/>
    public override string ToString() => Presentation.FormatName(NameServer);

    internal override void WriteTo(ref DnsWriter writer) => writer.WriteName(NameServer, compressible: true);
}
