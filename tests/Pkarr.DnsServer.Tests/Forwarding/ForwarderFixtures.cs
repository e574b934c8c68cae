using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Pkarr.Dns;
using Pkarr.DnsServer.Forwarding;
using Pkarr.DnsServer.Metrics;

namespace Pkarr.DnsServer.Tests.Forwarding;

internal static class ForwarderFixtures
{
    /// <summary>The per-attempt timeout of forwarders on a fake clock: it only passes when a test advances the clock.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    public static UpstreamForwarder Create(TimeProvider time, long cacheBytes, params IPEndPoint[] upstreams)
        => new(
            new ForwarderOptions { Upstreams = upstreams, Timeout = Timeout, CacheBytes = cacheBytes },
            new DnsMetrics(),
            time,
            NullLogger<UpstreamForwarder>.Instance);

    public static UpstreamForwarder Create(FakeTimeProvider time, params FakeUpstream[] upstreams)
        => Create(time, 1L << 20, [.. upstreams.Select(u => u.EndPoint)]);

    public static DnsQuestion Question(string name, RecordType type = RecordType.A) => new(DnsName.Parse(name), type, DnsClass.IN);

    public static Task<ForwardResult> Ask(this UpstreamForwarder forwarder, string name, ForwardFlags flags = ForwardFlags.None, RecordType type = RecordType.A)
        => forwarder.ForwardAsync(Question(name, type), flags, CancellationToken.None).AsTask();

    /// <summary>A forward that is expected to time out: waits until <paramref name="upstream"/> got its query, then
    /// moves the clock past the timeout.</summary>
    public static async Task AdvancePastTimeoutAsync(this FakeTimeProvider time, FakeUpstream upstream, int queries)
    {
        await upstream.WaitForQueriesAsync(queries);
        time.Advance(Timeout + TimeSpan.FromMilliseconds(1));
    }

    public static DnsMessage Answered(this ForwardResult result)
    {
        Assert.Equal(ForwardStatus.Answered, result.Status);
        return Assert.IsType<DnsMessage>(result.Response);
    }

    public static int Rcode(this DnsMessage message) => message.Flags & 0x000F;

    public static IPAddress SingleAddress(this DnsMessage message)
        => Assert.IsType<AData>(Assert.Single(message.Answers).Data).Address;
}
