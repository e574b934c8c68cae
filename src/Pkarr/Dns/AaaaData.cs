// AAAA record (RFC 3596 §2.2): one IPv6 address, 16 bytes. The scope id of an IPAddress is not part of DNS
// and is dropped.

using System.Net;
using System.Net.Sockets;

namespace Pkarr.Dns;

/// <summary>The data of an AAAA record: an IPv6 address.</summary>
public sealed class AaaaData : RecordData
{
    /// <summary>Creates AAAA data.</summary>
    /// <param name="address">An IPv6 address (any scope id is dropped).</param>
    /// <exception cref="ArgumentException">The address is not IPv6.</exception>
    public AaaaData(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            throw Error.WrongAddressFamily(nameof(address), "IPv6");
        }

        Address = address.ScopeId == 0 ? address : new IPAddress(address.GetAddressBytes());
    }

    /// <summary>The IPv6 address.</summary>
    public IPAddress Address { get; }

    /// <inheritdoc/>
    public override RecordType Type => RecordType.AAAA;

    /// <inheritdoc/>
    public override string ToString() => Address.ToString();

    internal override void WriteTo(ref DnsWriter writer)
    {
        Span<byte> bytes = stackalloc byte[16];
        Address.TryWriteBytes(bytes, out _);
        writer.WriteBytes(bytes);
    }
}
