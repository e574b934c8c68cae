// A question (RFC 1035 §4.1.2): / QNAME / QTYPE (2) / QCLASS (2) /. The top bit of QCLASS is the mDNS
// "unicast response" bit (RFC 6762 §5.4), kept so the question re-encodes identically.

namespace Pkarr.Dns;

/// <summary>A DNS question.</summary>
/// <param name="Name">The name asked about.</param>
/// <param name="Type">The type asked for.</param>
/// <param name="Class">The class (without the unicast-response bit); may be <see cref="DnsClass.ANY"/>.</param>
public sealed record DnsQuestion(DnsName Name, RecordType Type, DnsClass Class)
{
    /// <summary>The name asked about.</summary>
    public DnsName Name { get; init => field = value ?? throw Error.ArgumentNull(nameof(value)); } =
        Name ?? throw Error.ArgumentNull(nameof(Name));

    /// <summary>The mDNS unicast-response bit (top bit of the class field).</summary>
    public bool UnicastResponse { get; init; }

    internal void WriteTo(ref DnsWriter writer)
    {
        writer.WriteName(Name, compressible: true);
        writer.WriteUInt16((ushort)Type);
        writer.WriteUInt16((ushort)((ushort)Class | (UnicastResponse ? 0x8000 : 0)));
    }
}
