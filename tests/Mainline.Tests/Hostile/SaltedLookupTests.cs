using System.Net;
using System.Net.Sockets;

namespace Mainline.Tests.Hostile;

/// <summary>
/// Issue 9, Low: running lookups are keyed by target, kind and salt, so a salted mutable get never joins an
/// immutable get for the same target (whose missing salt would reject every value it finds).
/// </summary>
public sealed class SaltedLookupTests
{
    private static CancellationToken Ct() => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    [Fact]
    public async Task A_salted_get_does_not_join_an_immutable_get_of_the_same_target()
    {
        var ct = Ct();
        await using var net = await Testnet.CreateAsync(12, cancellationToken: ct);
        var item = MutableItem.Sign([.. Enumerable.Range(70, 32).Select(b => (byte)b)], "salted"u8, 3, "the salt"u8);
        Assert.True((await net.Nodes[0].PutMutableAsync(item, null, ct)).Succeeded);

        // A silent bootstrap node keeps the immutable get running until the fake clock passes its timeout.
        using var silent = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var clock = new Clock();
        var options = net.ClientOptions();
        options.Bootstrap!.Add(silent.Client.LocalEndPoint!);
        options.TimeProvider = clock.Time;
        await using var client = await Dht.CreateAsync(options, ct);

        var immutable = client.GetImmutableAsync(item.Target, ct);
        var seqs = Collect(client.GetMutableAsync(item.Key, item.Salt, null, ct));
        await Attack.AdvanceUntilAsync(Task.WhenAll(immutable, seqs), client, clock, new HashSet<IPEndPoint> { (IPEndPoint)silent.Client.LocalEndPoint! }, ct);

        Assert.Null(await immutable);
        Assert.Equal([3L], await seqs);

        static async Task<List<long>> Collect(IAsyncEnumerable<MutableItem> items)
        {
            var seqs = new List<long>();
            await foreach (var i in items)
            {
                seqs.Add(i.Seq);
            }

            return seqs;
        }
    }
}
