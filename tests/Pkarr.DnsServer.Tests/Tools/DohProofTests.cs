// Proof of DNS-over-HTTPS (RFC 8484) with real clients: curl POSTs and GETs application/dns-message to the plain-HTTP
// listener (as behind a TLS reverse proxy) and dnspython parses the bodies; kdig +https speaks DoH over TLS (HTTP/2)
// to a server given a certificate of its own (tls_certificate/tls_key), trusted through +tls-ca.

using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Pkarr.Dns;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.DnsServer.Tests.Tools;

[Collection(ToolsCollection.Name)]
public sealed partial class DohProofTests(ToolsFixture fixture)
{
    private ProofZones Zones => fixture.Zones;

    [Theory]
    [InlineData("POST", "application/dns-message")]
    [InlineData("GET", "application/dns-message")]
    [InlineData("POST", "application/dns-message, */*")]
    [InlineData("GET", "*/*;q=0.8, application/dns-message")]
    public async Task Curl_gets_pkarr_and_forwarded_answers_that_dnspython_parses(string method, string accept)
    {
        var (status, headers, body) = await CurlAsync(method, accept, RawDns.Query(0, $"alias.{Zones.K1}.key", RecordType.A));
        Assert.Equal(200, status);
        Assert.Matches(ContentType(), headers);
        var pkarr = Assert.Single(await Dnspython.ParseAsync(body));
        Assert.True(pkarr.Error is null && pkarr.Rcode == "NOERROR", pkarr.ToString());
        Assert.Equal([$"www.{Zones.K1}.key", "192.0.2.2"], pkarr.AnswerData);
        Assert.Equal(0, pkarr.Id);   // RFC 8484 §4.1: id 0 for HTTP caches, echoed
        Assert.True(MaxAge(headers) is int age && age <= ProofZones.Ttl, headers);

        (status, headers, body) = await CurlAsync(method, accept, RawDns.Query(0, $"www.{UnboundServer.Zone}", RecordType.AAAA));
        Assert.Equal(200, status);
        var forwarded = Assert.Single(await Dnspython.ParseAsync(body));
        Assert.True(forwarded.Error is null && forwarded.Rcode == "NOERROR", forwarded.ToString());
        Assert.Equal([UnboundServer.WwwAaaa], forwarded.AnswerData);
    }

    [Fact]
    public async Task Curl_gets_nxdomain_inside_a_200_and_no_long_cache_lifetime_for_it()
    {
        var (status, headers, body) = await CurlAsync("POST", "application/dns-message", RawDns.Query(0, $"missing.{Zones.K1}.key", RecordType.A));
        Assert.Equal(200, status);
        var reply = Assert.Single(await Dnspython.ParseAsync(body));
        Assert.True(reply.Error is null && reply.Rcode == "NXDOMAIN", reply.ToString());

        // RFC 8484 §5.1: a negative answer's freshness is the SOA's negative TTL (60 s by default), never pkdns's 300.
        Assert.True(MaxAge(headers) is null or <= 60, headers);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Kdig_speaks_doh_over_tls_to_a_server_with_a_certificate(bool get)
    {
        string kdig = ExternalTool.Require(ExternalTool.Kdig, "knot-dnsutils");
        string directory = Directory.CreateTempSubdirectory("pkarr-doh-tls-").FullName;
        try
        {
            var (certificate, key) = WriteSelfSignedCertificate(directory);
            await using var server = await ToolsFixture.StartServerAsync(fixture.Unbound.EndPoint, options =>
            {
                options.General.TlsCertificatePath = certificate;
                options.General.TlsKeyPath = key;
            });
            Assert.NotNull(server.DohUrl);
            Assert.Equal(Uri.UriSchemeHttps, server.DohUrl.Scheme);
            using var keypair = Keypair.Random();
            await ToolsFixture.PublishAsync(server, [SignedPacket.Builder().A("doh", IPAddress.Parse("192.0.2.43"), ProofZones.Ttl).Sign(keypair)]);
            await RawDns.UntilAnsweredAsync(server.UdpEndPoint, $"doh.{keypair.PublicKey.ToZ32()}", RecordType.A);

            foreach (var (name, expected) in new[] { ($"doh.{keypair.PublicKey.ToZ32()}.key", "192.0.2.43"), ($"www.{UnboundServer.Zone}", UnboundServer.WwwA) })
            {
                string[] arguments =
                [
                    "@127.0.0.1", "-p", server.DohUrl.Port.ToString(CultureInfo.InvariantCulture),
                    get ? "+https-get" : "+https", $"+tls-ca={certificate}", "+tls-hostname=localhost",
                    "+timeout=5", "+retry=0", name, "A",
                ];
                var result = await ExternalTool.RunAsync(kdig, arguments, TimeSpan.FromSeconds(30));
                var output = DigOutput.Parse(result.Output);
                Assert.True(result.ExitCode == 0 && output.Status == "NOERROR" && output.AnswerData.SequenceEqual([expected]), result.ToString());
                Assert.True(result.Output.Contains(";; HTTP session", StringComparison.Ordinal), result.ToString());
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>A self-signed ECDSA certificate for localhost and 127.0.0.1, as PEM files.</summary>
    internal static (string Certificate, string Key) WriteSelfSignedCertificate(string directory)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        string certificatePath = Path.Combine(directory, "cert.pem");
        string keyPath = Path.Combine(directory, "key.pem");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certificatePath, keyPath);
    }

    private async Task<(int Status, string Headers, byte[] Body)> CurlAsync(string method, string accept, byte[] query)
    {
        string curl = ExternalTool.Require(ExternalTool.Curl, "curl");
        var url = fixture.Server.DohUrl ?? throw new InvalidOperationException("the fixture's server has no DoH listener");
        string directory = Directory.CreateTempSubdirectory("pkarr-doh-").FullName;
        try
        {
            string body = Path.Combine(directory, "body.bin");
            string headers = Path.Combine(directory, "headers.txt");
            var arguments = new List<string> { "-sS", "--max-time", "10", "-o", body, "-D", headers, "-w", "%{http_code}", "-H", $"Accept: {accept}" };
            if (method == "POST")
            {
                string request = Path.Combine(directory, "query.bin");
                await File.WriteAllBytesAsync(request, query);
                arguments.AddRange(["-H", "Content-Type: application/dns-message", "--data-binary", "@" + request, url.ToString()]);
            }
            else
            {
                arguments.Add($"{url}?dns={Convert.ToBase64String(query).TrimEnd('=').Replace('+', '-').Replace('/', '_')}");
            }

            var result = await ExternalTool.RunAsync(curl, arguments, TimeSpan.FromSeconds(30));
            Assert.True(result.ExitCode == 0, result.ToString());
            return (int.Parse(result.Output.Trim(), CultureInfo.InvariantCulture), await File.ReadAllTextAsync(headers), await File.ReadAllBytesAsync(body));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static int? MaxAge(string headers)
        => MaxAgePattern().Match(headers) is { Success: true } match ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : null;

    [GeneratedRegex(@"(?im)^cache-control:.*max-age=(\d+)")]
    private static partial Regex MaxAgePattern();

    [GeneratedRegex(@"(?im)^content-type:\s*application/dns-message")]
    private static partial Regex ContentType();
}
