// PTR record (RFC 1035 §3.3.12): one domain name, compressible (shared spec §3.4.3).

namespace Pkarr.Dns;

/// <summary>The data of a PTR record: a pointer to another name.</summary>
/// <param name="target">The name pointed to.</param>
public sealed class PtrData(DnsName target) : RecordData
{
    /// <summary>The name pointed to.</summary>
    public DnsName Target { get; } = target ?? throw Error.ArgumentNull(nameof(target));

    /// <inheritdoc/>
    public override RecordType Type => RecordType.PTR;

    /// <inheritdoc/>
    public override string ToString() => Presentation.FormatName(Target);

    internal override void WriteTo(ref DnsWriter writer) => writer.WriteName(Target, compressible: true);
}
