// One connection target found in a pkarr packet's SVCB or HTTPS records (RFC 9460 §2; shared spec §7).
// A record whose target is the root (".") makes the packet itself the endpoint: its apex A/AAAA records are the
// addresses. A record whose target is an ICANN name hands over to ordinary DNS. Records whose target is a pkarr
// key are aliases; the resolver follows them and never hands them out as endpoints.

using System.Globalization;
using System.Net;
using Pkarr.Dns;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Endpoints;

/// <summary>
/// A service endpoint: where to connect for a name, from one SVCB or HTTPS record of a pkarr packet.
/// </summary>
/// <remarks>
/// Either <see cref="Target"/> is <c>"."</c> and the endpoint is the packet's own host (<see cref="Addresses"/>),
/// or <see cref="Domain"/> names an ICANN host to look up with ordinary DNS.
/// </remarks>
public sealed class Endpoint
{
    private readonly SvcbData _data;

    private Endpoint(SvcbData data, PublicKey publicKey, IReadOnlyList<IPAddress> addresses)
    {
        _data = data;
        Target = data.Target.IsRoot ? "." : data.Target.ToString();
        Domain = data.Target.IsRoot || PublicKey.TryParse(Target, out _) ? null : Target;
        Port = data.Port is > 0 and ushort port ? port : null;
        PublicKey = publicKey;
        Addresses = addresses;
    }

    /// <summary>The record's target name without a trailing dot; <c>"."</c> when the target is the root, which
    /// means "the packet's own host".</summary>
    public string Target { get; }

    /// <summary>The ICANN host name to connect to; null when <see cref="Target"/> is <c>"."</c> or a pkarr key.</summary>
    public string? Domain { get; }

    /// <summary>The record's <c>port</c> parameter; null when absent or 0. A port is not inherited from the alias
    /// records that led here (as the reference, and as RFC 9460 where a target's own records decide).</summary>
    public int? Port { get; }

    /// <summary>The record's SvcPriority: lower is preferred; 0 is AliasMode.</summary>
    public ushort Priority => _data.Priority;

    /// <summary>All the record's SvcParams in ascending key order (<c>alpn</c>, <c>port</c>, <c>ech</c>…).</summary>
    public IReadOnlyList<SvcParam> Params => _data.Params;

    /// <summary>The key of the packet that holds the record: the identity a TLS server of this endpoint proves.</summary>
    public PublicKey PublicKey { get; }

    /// <summary>The distinct A and AAAA addresses at the packet's apex, in packet order, when <see cref="Target"/> is
    /// <c>"."</c>; empty otherwise.</summary>
    public IReadOnlyList<IPAddress> Addresses { get; }

    /// <summary>The socket addresses to connect to.</summary>
    /// <param name="defaultPort">The port used when the record has none: the scheme's or the request's port. The
    /// reference uses 0, the default here.</param>
    /// <returns>For <c>"."</c>, one <see cref="IPEndPoint"/> per address with <see cref="Port"/> or
    /// <paramref name="defaultPort"/>; for an ICANN target, one <see cref="DnsEndPoint"/> of <see cref="Domain"/>
    /// for the system resolver; nothing for a pkarr-key target.</returns>
    public IReadOnlyList<EndPoint> ToEndPoints(int defaultPort = 0)
    {
        int port = Port ?? defaultPort;
        if (Target == ".")
        {
            return [.. Addresses.Select(address => new IPEndPoint(address, port))];
        }

        return Domain is null ? [] : [new DnsEndPoint(Domain, port)];
    }

    /// <inheritdoc/>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{PublicKey}: {_data}");

    /// <summary>
    /// The endpoints of <paramref name="packet"/> at <paramref name="name"/> (a wildcard query allowed, spec §3.9):
    /// its HTTPS records when <paramref name="https"/>, else its SVCB records; ordered by priority ascending, the
    /// records of one priority in random order.
    /// </summary>
    internal static List<Endpoint> FromPacket(SignedPacket packet, string name, bool https, Random random)
    {
        var type = https ? RecordType.HTTPS : RecordType.SVCB;
        SvcbData[] records = [.. packet.ResourceRecords(name).Select(r => r.Data).OfType<SvcbData>().Where(d => d.Type == type)];

        // Shuffle first, then a stable sort: equal priorities stay in the shuffled order.
        random.Shuffle(records);
        IReadOnlyList<IPAddress>? apex = null;
        return [.. records
            .OrderBy(d => d.Priority)
            .Select(d => new Endpoint(d, packet.PublicKey, d.Target.IsRoot ? apex ??= ApexAddresses(packet) : []))];
    }

    private static IPAddress[] ApexAddresses(SignedPacket packet) =>
    [
        .. packet.ResourceRecords("@")
            .Select(r => r.Data switch
            {
                AData a => a.Address,
                AaaaData aaaa => aaaa.Address,
                _ => null,
            })
            .OfType<IPAddress>()
            .Distinct(),
    ];
}
