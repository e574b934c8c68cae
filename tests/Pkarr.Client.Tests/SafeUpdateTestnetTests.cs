using Mainline;
using Pkarr.Dns;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Tests;

/// <summary>
/// Two updaters of one key that share nothing but the DHT (two clients, two caches, as two processes would be) never
/// lose an edit: each update publishes with the packet it read as compare-and-swap, DHT nodes refuse a put whose cas
/// is not what they hold (BEP 44 error 301), any such refusal fails the publish, and the loser reads again and
/// retries on top of the winner's packet.
/// </summary>
public sealed class SafeUpdateTestnetTests
{
    [Fact]
    public async Task Two_clients_updating_one_key_concurrently_keep_every_edit()
    {
        const int EditsEach = 4;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using var testnet = await Testnet.CreateAsync(12, cancellationToken: timeout.Token);
        using var keypair = Keypair.Random();

        async Task<int> Updater(string name)
        {
            var options = PkarrClientTestnetTests.DhtOnly(testnet);
            options.UpdateRetries = 20;
            await using var client = await PkarrClient.CreateAsync(options, timeout.Token);
            int published = 0;
            for (int i = 0; i < EditsEach; i++)
            {
                string edit = $"{name}-{i}";
                var result = await client.UpdateAsync(keypair, (current, builder) =>
                {
                    // Idempotent, as UpdateAsync asks: a refused attempt may come back as the newest packet.
                    bool present = false;
                    foreach (var record in current?.AllResourceRecords ?? [])
                    {
                        builder.Record(record);
                        present |= record.Data is TxtData txt && txt.Text == edit;
                    }

                    if (!present)
                    {
                        builder.Txt("_edits", edit);
                    }
                }, timeout.Token);
                Assert.True(result.Succeeded, result.Error?.ToString());
                published++;
            }

            return published;
        }

        var counts = await Task.WhenAll(Updater("a"), Updater("b"));
        Assert.Equal([EditsEach, EditsEach], counts);

        await using var reader = await PkarrClient.CreateAsync(PkarrClientTestnetTests.DhtOnly(testnet), timeout.Token);
        var final = await reader.ResolveAsync(keypair.PublicKey, ResolvePolicy.NetworkOnly, timeout.Token);
        Assert.True(final.Found, final.Error?.ToString());
        var edits = final.Packet.ResourceRecords("_edits")
            .Select(r => ((TxtData)r.Data).Text)
            .Order(StringComparer.Ordinal)
            .ToArray();
        string[] expected = [.. Enumerable.Range(0, EditsEach).Select(i => $"a-{i}"), .. Enumerable.Range(0, EditsEach).Select(i => $"b-{i}")];
        Assert.Equal(expected.Order(StringComparer.Ordinal), edits);
    }
}
