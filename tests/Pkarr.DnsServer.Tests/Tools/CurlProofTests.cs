// Proof of the issue's headline: `curl http://<key>/` reaches a web server named only by its Pkarr records, with our
// server as the resolver. Debian's curl is built without c-ares (no --dns-servers), so the resolver step is dig's
// against our server and curl gets the address through --resolve; with a c-ares curl, --dns-servers is used instead.

using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Pkarr.Dns;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.DnsServer.Tests.Tools;

[Collection(ToolsCollection.Name)]
public sealed class CurlProofTests(ToolsFixture fixture)
{
    [Fact]
    public async Task Curl_reaches_a_local_web_server_by_its_key_alone()
    {
        string curl = ExternalTool.Require(ExternalTool.Curl, "curl");
        string dig = ExternalTool.Require(ExternalTool.Dig, "bind9-dnsutils");
        using var site = Keypair.Random();
        string key = site.PublicKey.ToZ32();
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        await ToolsFixture.PublishAsync(fixture.Server, [SignedPacket.Builder().A("@", IPAddress.Loopback, ProofZones.Ttl).A("www", IPAddress.Loopback, ProofZones.Ttl).Sign(site)]);
        await RawDns.UntilAnsweredAsync(fixture.Dns, key, RecordType.A);

        using var serving = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var hosts = new List<string>();
        var web = ServeAsync(listener, hosts, serving.Token);
        bool cAres = (await ExternalTool.RunAsync(curl, ["-V"], TimeSpan.FromSeconds(10))).Output.Contains("c-ares", StringComparison.OrdinalIgnoreCase);

        foreach (string host in new[] { key, $"www.{key}.key" })
        {
            string url = $"http://{host}:{port.ToString(CultureInfo.InvariantCulture)}/";
            string[] resolving;
            if (cAres)
            {
                resolving = ["--dns-servers", $"127.0.0.1:{fixture.Port}"];
            }
            else
            {
                var answer = await ExternalTool.RunAsync(dig, ["@127.0.0.1", "-p", fixture.Port, "+short", "+time=5", "+tries=1", host, "A"], TimeSpan.FromSeconds(30));
                string address = answer.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";
                Assert.True(address == "127.0.0.1", $"our server did not resolve {host} to 127.0.0.1:\n{answer}");
                resolving = ["--resolve", $"{host}:{port.ToString(CultureInfo.InvariantCulture)}:{address}"];
            }

            var result = await ExternalTool.RunAsync(curl, ["-sS", "--max-time", "10", .. resolving, url], TimeSpan.FromSeconds(30));
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Equal($"hello from {host}", result.Output);
        }

        await serving.CancelAsync();
        await web;
        Assert.Equal([key, $"www.{key}.key"], hosts);
    }

    // A minimal HTTP/1.1 server: answers each request with "hello from <Host without port>" and closes.
    private static async Task ServeAsync(TcpListener listener, List<string> hosts, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                using var client = await listener.AcceptTcpClientAsync(cancellationToken);
                var stream = client.GetStream();
                var request = new StringBuilder();
                var buffer = new byte[4096];
                while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal) && request.Length < 16384)
                {
                    int read = await stream.ReadAsync(buffer, cancellationToken);
                    if (read == 0)
                    {
                        break;
                    }

                    request.Append(Encoding.ASCII.GetString(buffer, 0, read));
                }

                string host = request.ToString().Split("\r\n").FirstOrDefault(l => l.StartsWith("Host:", StringComparison.OrdinalIgnoreCase))?[5..].Trim() ?? "";
                host = host.Split(':')[0];
                hosts.Add(host);
                byte[] body = Encoding.ASCII.GetBytes($"hello from {host}");
                byte[] head = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
                await stream.WriteAsync(head, cancellationToken);
                await stream.WriteAsync(body, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // The test is done.
        }
    }
}
