// CNAME record (RFC 1035 §3.3.1): one domain name, compressible (shared spec §3.4.3).

namespace Pkarr.Dns;

/// <summary>The data of a CNAME record: the canonical name of an alias.</summary>
/// <param name="target">The canonical name.</param>
public sealed class CnameData(DnsName target) : RecordData
{
    /// <summary>The canonical name.</summary>
    public DnsName Target { get; } = target ?? throw Error.ArgumentNull(nameof(target));

    /// <inheritdoc/>
    public override RecordType Type => RecordType.CNAME;

    /// <inheritdoc/>
    public override string ToString() => Presentation.FormatName(Target);

    internal override void WriteTo(ref DnsWriter writer) => writer.WriteName(Target, compressible: true);
}
