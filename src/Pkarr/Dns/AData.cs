// A record (RFC 1035 §3.4.1): one IPv4 address.
//
//   +--+--+--+--+
//   |  ADDRESS  |   4 bytes
//   +--+--+--+--+

using System.Net;
using System.Net.Sockets;

namespace Pkarr.Dns;

/// <summary>The data of an A record: an IPv4 address.</summary>
public sealed class AData : RecordData
{
    /// <summary>Creates A data.</summary>
    /// <param name="address">An IPv4 address.</param>
    /// <exception cref="ArgumentException">The address is not IPv4.</exception>
    public AData(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            throw Error.WrongAddressFamily(nameof(address), "IPv4");
        }

        Address = address;
    }

    /// <summary>The IPv4 address.</summary>
    public IPAddress Address { get; }

    /// <inheritdoc/>
    public override RecordType Type => RecordType.A;

    /// <inheritdoc/>
    public override string ToString() => Address.ToString();

    internal override void WriteTo(ref DnsWriter writer)
    {
        Span<byte> bytes = stackalloc byte[4];
        Address.TryWriteBytes(bytes, out _);
        writer.WriteBytes(bytes);
    }
}
