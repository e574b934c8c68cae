using Pkarr.Client;
using Pkarr.DnsServer.Packets;
using Pkarr.Keys;
using Pkarr.Packets;
using static Pkarr.DnsServer.Tests.Packets.PacketSourceHarness;

namespace Pkarr.DnsServer.Tests.Packets;

/// <summary>Many threads querying a few keys while the clock moves and the network answers in any order: no query
/// throws, no thread ever sees a key's packet go back, and the table's weight matches what it holds.</summary>
public sealed class PkarrPacketSourceConcurrencyTests
{
    private const ulong T0 = 1_700_000_000_000_000;
    private const int Threads = 4;
    private const int QueriesPerThread = 400;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ConcurrentQueriesKeepTheTableConsistent(bool tinyCache)
    {
        var signers = Enumerable.Range(0, 4).Select(_ => Keypair.Random()).ToArray();
        var versions = signers.ToDictionary(s => s.PublicKey, s => Enumerable.Range(0, 6).Select(v => Packet(s, T0 + (ulong)v, ttl: 60)).ToArray());
        long weight = PkarrPacketSource.WeightOf(versions[signers[0].PublicKey][0]);
        using var h = new PacketSourceHarness(new PacketSourceOptions { CacheBytes = tinyCache ? weight * 2 : 1L << 20 });
        int answered = 0;
        h.Network = (key, _) =>
        {
            // Any version, newer or older, or no packet at all, or a failure: answered at once or a little later.
            int pick = Random.Shared.Next(8);
            var result = pick switch
            {
                6 => ResolveResult.Of(ResolveError.NotFound),
                7 => ResolveResult.Of(new ResolveError(ResolveErrorKind.NoResponses)),
                _ => ResolveResult.Of(new CachedPacket(versions[key][pick % 6], h.Now)),
            };
            Interlocked.Increment(ref answered);
            return pick % 2 == 0 ? Task.FromResult(result) : Task.Run(() => result);
        };

        var workers = Enumerable.Range(0, Threads).Select(worker => Task.Run(async () =>
        {
            var seen = new Dictionary<PublicKey, SignedPacket>();
            for (int i = 0; i < QueriesPerThread; i++)
            {
                var key = signers[Random.Shared.Next(signers.Length)].PublicKey;
                if (Random.Shared.Next(16) == 0)
                {
                    h.Time.Advance(TimeSpan.FromSeconds(Random.Shared.Next(1, 90)));
                }

                var result = await Bounded(h.Get(key, worker % 2 == 0 ? PacketSourceHarness.Client : OtherClient));
                if (result.Status == PacketStatus.Found)
                {
                    Assert.Equal(key, result.Zone!.Key);
                    if (!tinyCache && seen.TryGetValue(key, out var before))
                    {
                        Assert.False(before.MoreRecentThan(result.Zone.Packet), "a query saw a key's packet go back");
                    }

                    seen[key] = result.Zone.Packet;
                }
                else
                {
                    Assert.True(result.Status is PacketStatus.NotFound or PacketStatus.Failed, result.Status.ToString());
                }
            }
        })).ToArray();
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(60));

        // Let the last background refreshes land, then weigh what is held.
        foreach (var signer in signers)
        {
            if (h.Source.RunningLookup(signer.PublicKey) is { } running)
            {
                await running.WaitAsync(TimeSpan.FromSeconds(10));
            }
        }

        // A lookup whose entry was evicted meanwhile is not reachable by key; its slot is given back last of all.
        Assert.True(SpinWait.SpinUntil(() => h.Source.RunningLookups == 0, TimeSpan.FromSeconds(10)), "lookups still running");
        long expected = h.Source.Count * PkarrPacketSource.EntryOverhead
            + signers.Sum(s => (long)(h.Source.HeldPacket(s.PublicKey)?.Bytes.Length ?? 0));
        Assert.Equal(expected, h.Source.CachedBytes);
        Assert.True(answered > 0);
        if (tinyCache)
        {
            Assert.True(h.Source.CachedBytes <= weight * 2);
        }
    }
}
