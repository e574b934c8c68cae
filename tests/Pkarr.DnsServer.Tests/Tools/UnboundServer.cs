// A real unbound (Debian's) as the local upstream of the proof tests: started on 127.0.0.1 with a generated config
// in a temporary directory (no chroot, no user switch, no daemon, no remote control, no DNSSEC validation), serving
// only local data. Every other name is REFUSED by unbound itself (local-zone "." refuse), so it never recurses to
// the Internet.

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Pkarr.Dns;

namespace Pkarr.DnsServer.Tests.Tools;

internal sealed class UnboundServer : IDisposable
{
    /// <summary>The ICANN-looking names the upstream serves, with the records the tests expect back.</summary>
    public const string Zone = "example.test";

    public const string WwwA = "192.0.2.80";
    public const string WwwAaaa = "2001:db8::80";

    /// <summary>A zone with an SOA and nothing else: every name under it is NXDOMAIN, negative TTL 300 (RFC 2308).</summary>
    public const string NxZone = "nx.test";

    private readonly Process _process;
    private readonly string _directory;

    private UnboundServer(Process process, string directory, IPEndPoint endPoint)
    {
        _process = process;
        _directory = directory;
        EndPoint = endPoint;
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>A TXT of 300 bytes in two character-strings, longer than one string allows.</summary>
    public static string LongText { get; } = new string('t', 200) + new string('u', 100);

    /// <summary>The local data every unbound of the tests serves, plus <paramref name="extra"/> lines.</summary>
    public static IEnumerable<string> StandardData(IEnumerable<string>? extra = null)
    {
        yield return $"{Zone}. 3600 IN SOA ns.{Zone}. hostmaster.{Zone}. 1 3600 600 86400 300";
        yield return $"www.{Zone}. 300 IN A {WwwA}";
        yield return $"www.{Zone}. 300 IN AAAA {WwwAaaa}";
        yield return $"mail.{Zone}. 300 IN A 192.0.2.25";
        yield return $"{Zone}. 300 IN MX 10 mail.{Zone}.";
        yield return $"long.{Zone}. 300 IN TXT \"{LongText[..200]}\" \"{LongText[200..]}\"";
        foreach (string line in extra ?? [])
        {
            yield return line;
        }
    }

    /// <summary>Starts unbound serving <see cref="StandardData"/> (or <paramref name="localData"/>) on a free port.</summary>
    public static async Task<UnboundServer> StartAsync(IEnumerable<string>? localData = null, int threads = 1)
    {
        string unbound = ExternalTool.Require(ExternalTool.Unbound, "unbound");
        string[] data = [.. localData ?? StandardData()];
        string directory = Directory.CreateTempSubdirectory("pkarr-unbound-").FullName;
        string? lastOutput = null;

        // A port found free may be taken before unbound binds it: a few tries, each with a new port.
        for (int attempt = 0; attempt < 3; attempt++)
        {
            int port = RawDns.FreePort();
            string config = Path.Combine(directory, "unbound.conf");
            await File.WriteAllTextAsync(config, Config(directory, port, threads, data));
            var start = new ProcessStartInfo(unbound) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string argument in new[] { "-d", "-c", config })
            {
                start.ArgumentList.Add(argument);
            }

            var process = Process.Start(start) ?? throw new InvalidOperationException("unbound did not start");
            var output = ExternalTool.Capture(process);
            var endPoint = new IPEndPoint(IPAddress.Loopback, port);
            if (await AnswersAsync(endPoint, process))
            {
                return new UnboundServer(process, directory, endPoint);
            }

            ExternalTool.Kill(process);
            process.Dispose();
            lock (output)
            {
                lastOutput = output.ToString();
            }
        }

        Directory.Delete(directory, recursive: true);
        throw new InvalidOperationException("unbound did not answer on 127.0.0.1 after 3 tries:\n" + lastOutput);
    }

    /// <summary>Stops unbound now (the cache tests go on without their upstream).</summary>
    public void Stop() => ExternalTool.Kill(_process);

    public void Dispose()
    {
        Stop();
        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held: the temporary directory is cleaned by the system.
        }
    }

    internal static string Config(string directory, int port, int threads, IEnumerable<string> localData)
    {
        var text = new StringBuilder();
        text.AppendLine("server:");
        foreach (string line in new[]
        {
            $"interface: 127.0.0.1@{port.ToString(CultureInfo.InvariantCulture)}",
            $"port: {port.ToString(CultureInfo.InvariantCulture)}",
            "do-ip4: yes", "do-ip6: no", "do-udp: yes", "do-tcp: yes",
            "do-daemonize: no", "chroot: \"\"", "username: \"\"",
            $"directory: \"{directory}\"", $"pidfile: \"{Path.Combine(directory, "unbound.pid")}\"",
            "logfile: \"\"", "use-syslog: no", "verbosity: 1",
            $"num-threads: {threads.ToString(CultureInfo.InvariantCulture)}", "so-reuseport: yes",
            "module-config: \"iterator\"", "do-not-query-localhost: no",
            "access-control: 127.0.0.0/8 allow",
            "local-zone: \".\" refuse",
            $"local-zone: \"{Zone}.\" static",
            $"local-zone: \"{NxZone}.\" static",
            $"local-data: \"{NxZone}. 3600 IN SOA ns.{NxZone}. hostmaster.{NxZone}. 1 3600 600 86400 300\"",
        })
        {
            text.Append("  ").AppendLine(line);
        }

        foreach (string record in localData)
        {
            // unbound's quoting: the record in single quotes when it holds double quotes (TXT).
            text.Append("  local-data: ").AppendLine(record.Contains('"', StringComparison.Ordinal) ? $"'{record}'" : $"\"{record}\"");
        }

        text.AppendLine("remote-control:");
        text.AppendLine("  control-enable: no");
        return text.ToString();
    }

    // Asks for www.example.test for up to 10 s; false as soon as the process exits (the port was taken).
    private static async Task<bool> AnswersAsync(IPEndPoint endPoint, Process process)
    {
        var deadline = Stopwatch.StartNew();
        for (ushort id = 1; deadline.Elapsed < TimeSpan.FromSeconds(10); id++)
        {
            if (process.HasExited)
            {
                return false;
            }

            var reply = await RawDns.UdpAsync(endPoint, RawDns.Query(id, $"www.{Zone}", RecordType.A), TimeSpan.FromMilliseconds(300));
            if (reply is not null && RawDns.Rcode(reply) == RawDns.NoError)
            {
                return true;
            }

            await Task.Delay(50);
        }

        return false;
    }
}
