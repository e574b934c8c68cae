// The packets the proof tests publish on the server's testnet, and what a DNS client must get back for each name.
// Three keys because a packet holds at most 1000 bytes: Main (every record type, CNAMEs in the packet, to another key
// and to an ICANN name, delegation with glue, wildcard), Other (the cross-key target, and 40 A records at one name
// to overflow a 512-byte UDP answer) and Long (a 900-byte TXT in four character-strings).

using System.Net;
using Pkarr.Dns;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.DnsServer.Tests.Tools;

internal sealed class ProofZones
{
    public const uint Ttl = 300;
    public const int ManyCount = 40;

    public Keypair Main { get; } = Keypair.Random();

    public Keypair Other { get; } = Keypair.Random();

    public Keypair Long { get; } = Keypair.Random();

    public string K1 => Main.PublicKey.ToZ32();

    public string K2 => Other.PublicKey.ToZ32();

    public string K3 => Long.PublicKey.ToZ32();

    /// <summary>900 bytes: the most one TXT can carry in a 1000-byte packet beside its owner name.</summary>
    public static string LongText { get; } = string.Concat(Enumerable.Range(0, 90).Select(i => $"pkarr{i % 10}txt-"))[..900];

    public static IEnumerable<string> ManyAddresses => Enumerable.Range(1, ManyCount).Select(i => $"10.0.0.{i}");

    public IEnumerable<SignedPacket> Packets()
    {
        yield return SignedPacket.Builder()
            .A("@", IPAddress.Parse("192.0.2.1"), Ttl)
            .Aaaa("@", IPAddress.Parse("2001:db8::1"), Ttl)
            .A("www", IPAddress.Parse("192.0.2.2"), Ttl)
            .Cname("alias", $"www.{K1}", Ttl)
            .Txt("txt", "hello=pkarr", Ttl)
            .Mx("@", 10, $"mail.{K1}", Ttl)
            .A("mail", IPAddress.Parse("192.0.2.25"), Ttl)
            .Ns("sub", $"ns.sub.{K1}", Ttl)
            .A("ns.sub", IPAddress.Parse("192.0.2.53"), Ttl)
            .Https("@", SvcbData.Https(1, DnsName.Root).WithAlpn("h2", "h3"), Ttl)
            .Svcb("svc", SvcbData.Svcb(1, DnsName.Parse($"www.{K1}")).WithPort(8443), Ttl)
            .A("*.wild", IPAddress.Parse("192.0.2.99"), Ttl)
            .Cname("other", K2, Ttl)
            .Cname("icann", $"www.{UnboundServer.Zone}", Ttl)
            .A("web", IPAddress.Loopback, Ttl)
            .Sign(Main);

        var many = SignedPacket.Builder().A("@", IPAddress.Parse("192.0.2.200"), Ttl);
        foreach (string address in ManyAddresses)
        {
            many.A("many", IPAddress.Parse(address), Ttl);
        }

        yield return many.Sign(Other);
        yield return SignedPacket.Builder().Txt("long", LongText, Ttl).Sign(Long);
    }

    /// <summary>(name relative to K1, type, the answer's data normalised) with {S} for the suffix after the key.</summary>
    public static IEnumerable<(string Name, string Type, string[] Data)> MainCases()
    {
        yield return ("@", "A", ["192.0.2.1"]);
        yield return ("@", "AAAA", ["2001:db8::1"]);
        yield return ("www", "A", ["192.0.2.2"]);
        yield return ("alias", "A", ["www.{K1}{S}", "192.0.2.2"]);
        yield return ("alias", "CNAME", ["www.{K1}{S}"]);
        yield return ("txt", "TXT", ["hello=pkarr"]);
        yield return ("@", "MX", ["10 mail.{K1}{S}"]);
        yield return ("@", "HTTPS", ["1 . alpn=h2,h3"]);
        yield return ("svc", "SVCB", ["1 www.{K1}{S} port=8443"]);
        yield return ("anything.wild", "A", ["192.0.2.99"]);
        yield return ("other", "A", ["{K2}{S}", "192.0.2.200"]);
        yield return ("icann", "A", [$"www.{UnboundServer.Zone}", UnboundServer.WwwA]);
    }

    /// <summary>The query name of <paramref name="relative"/> under K1 with <paramref name="suffix"/> ("" or ".key").</summary>
    public string NameOf(string relative, string suffix, bool upperKey = false)
    {
        string key = upperKey ? K1.ToUpperInvariant() : K1;
        return (relative == "@" ? key : $"{relative}.{key}") + suffix;
    }

    public string Expand(string data, string suffix) => data.Replace("{K1}", K1, StringComparison.Ordinal)
        .Replace("{K2}", K2, StringComparison.Ordinal).Replace("{S}", suffix.ToLowerInvariant(), StringComparison.Ordinal);
}
