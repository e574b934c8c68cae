// SRV record (RFC 2782). The target is NOT compressed (RFC 2782 "name compression is not to be used for
// this field"; shared spec §3.4.3).
//
//   | PRIORITY (2) | WEIGHT (2) | PORT (2) | TARGET (name) |

using System.Globalization;

namespace Pkarr.Dns;

/// <summary>The data of an SRV record: where a service runs.</summary>
/// <param name="priority">Lower values are tried first.</param>
/// <param name="weight">Relative weight among records of equal priority.</param>
/// <param name="port">The service's port.</param>
/// <param name="target">The host providing the service; the root means "not available".</param>
public sealed class SrvData(ushort priority, ushort weight, ushort port, DnsName target) : RecordData
{
    /// <summary>Lower values are tried first.</summary>
    public ushort Priority { get; } = priority;

    /// <summary>Relative weight among records of equal priority.</summary>
    public ushort Weight { get; } = weight;

    /// <summary>The service's port.</summary>
    public ushort Port { get; } = port;

    /// <summary>The host providing the service.</summary>
    public DnsName Target { get; } = target ?? throw Error.ArgumentNull(nameof(target));

    /// <inheritdoc/>
    public override RecordType Type => RecordType.SRV;

    /// <inheritdoc/>
    public override string ToString()
        => string.Create(CultureInfo.InvariantCulture, $"{Priority} {Weight} {Port} {Presentation.FormatName(Target)}");

    internal override void WriteTo(ref DnsWriter writer)
    {
        writer.WriteUInt16(Priority);
        writer.WriteUInt16(Weight);
        writer.WriteUInt16(Port);
        writer.WriteName(Target, compressible: false);
    }
}
