using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Relay.Tests.Processes;

/// <summary>
/// The store's promise at process level (issue 11, durability): a PUT the relay answered 204 survives a SIGKILL of
/// the relay process. Writers PUT packets with rising timestamps through the HTTP API, the process is killed while
/// their PUTs are in flight, and a relay restarted on the same directory serves, for every key, the acknowledged
/// packet or a newer one that was sent, never an older one.
/// </summary>
public sealed class DurabilityTests : IDisposable
{
    private const int Writers = 8;
    private const int KeysPerWriter = 2;

    /// <summary>Acknowledgements to wait for before the kill: every key at least twice, on average.</summary>
    private const int AcknowledgementsBeforeKill = 2 * Writers * KeysPerWriter;

    /// <summary>Bounds each writer; the kill comes long before.</summary>
    private const int MaxPutsPerWriter = 100_000;

    private readonly string _dir = Directory.CreateTempSubdirectory("pkarr-relay-durability-").FullName;
    private readonly Keypair[] _keys = [.. Enumerable.Range(0, Writers * KeysPerWriter).Select(_ => Keypair.Random())];

    /// <summary>The highest timestamp acknowledged (204) per key, over every run.</summary>
    private readonly ConcurrentDictionary<PublicKey, ulong> _acknowledged = new();

    /// <summary>Every payload sent, by key and timestamp: what a restarted relay may serve.</summary>
    private readonly ConcurrentDictionary<(PublicKey Key, ulong Timestamp), byte[]> _sent = new();

    public void Dispose()
    {
        foreach (var key in _keys)
        {
            key.Dispose();
        }

        Directory.Delete(_dir, recursive: true);
    }

    private string[] Arguments => ["relay", "--testnet", "--http-port", "0", "--cache-dir", _dir, "--log-level", "warning"];

    [Fact]
    public async Task Every_put_acknowledged_before_a_SIGKILL_is_served_after_a_restart_and_none_is_older()
    {
        // Two kills, so that the second run also proves the store reopened after the first one is writable.
        for (int run = 0; run < 2; run++)
        {
            await using var relay = await RelayProcess.StartAsync(Arguments);
            if (run > 0)
            {
                await AssertHeld(relay, run);
            }

            ulong first = Math.Max(Timestamp.Now().Microseconds, _sent.Keys.Select(sent => sent.Timestamp).DefaultIfEmpty().Max() + 1);
            await PutAndKill(relay, first, run);
        }

        await using var last = await RelayProcess.StartAsync(Arguments);
        await AssertHeld(last, 2);
        Assert.Equal(_keys.Length, _acknowledged.Count);
    }

    private async Task PutAndKill(RelayProcess relay, ulong first, int run)
    {
        int acknowledgements = 0;
        int cut = 0;
        var refusals = new ConcurrentQueue<string>();
        var writers = Enumerable.Range(0, Writers).Select(writer => Task.Run(async () =>
        {
            using var http = new HttpClient { BaseAddress = relay.Url, Timeout = RelayProcess.Bound };
            for (int i = 0; i < MaxPutsPerWriter; i++)
            {
                // Each writer owns its keys, so every PUT of a key is newer than the last one of that key.
                var keypair = _keys[(writer * KeysPerWriter) + (i % KeysPerWriter)];
                ulong timestamp = first + (ulong)((i * Writers) + writer);
                var packet = SignedPacket.Builder()
                    .A("@", IPAddress.Parse("192.0.2.1"))
                    .Txt("_run", $"{run} {i}")
                    .Timestamp(new Timestamp(timestamp))
                    .Sign(keypair);
                byte[] payload = packet.RelayPayload.ToArray();
                _sent[(keypair.PublicKey, timestamp)] = payload;
                try
                {
                    using var body = new ByteArrayContent(payload);
                    using var response = await http.PutAsync(keypair.PublicKey.ToZ32(), body);
                    if (response.StatusCode == HttpStatusCode.NoContent)
                    {
                        _acknowledged.AddOrUpdate(keypair.PublicKey, timestamp, (_, held) => Math.Max(held, timestamp));
                        Interlocked.Increment(ref acknowledgements);
                    }
                    else
                    {
                        refusals.Enqueue($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                    }
                }
                catch (HttpRequestException)
                {
                    // The process is gone: this PUT was in flight (or about to be) when it was killed.
                    Interlocked.Increment(ref cut);
                    return;
                }
            }
        })).ToArray();

        using (var timeout = new CancellationTokenSource(RelayProcess.Bound))
        {
            while (Volatile.Read(ref acknowledgements) < AcknowledgementsBeforeKill || _acknowledged.Count < _keys.Length)
            {
                Assert.False(writers.Any(writer => writer.IsCompleted), $"a writer stopped before the kill: {string.Join("; ", refusals)}\n{relay.Errors}");
                await Task.Delay(10, timeout.Token);
            }
        }

        await relay.KillAsync();
        await Task.WhenAll(writers).WaitAsync(RelayProcess.Bound);
        Assert.Empty(refusals);
        Assert.True(cut > 0, "no PUT was in flight when the relay was killed");
    }

    private async Task AssertHeld(RelayProcess relay, int run)
    {
        using var http = new HttpClient { BaseAddress = relay.Url, Timeout = RelayProcess.Bound };
        foreach (var (key, acknowledged) in _acknowledged)
        {
            using var response = await http.GetAsync(key.ToZ32() + "?policy=CacheOnly");
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"after kill {run}: {key} acknowledged at {acknowledged} is gone ({(int)response.StatusCode})");
            byte[] body = await response.Content.ReadAsByteArrayAsync();
            Assert.True(SignedPacket.TryFromRelayPayload(key, body, out var packet, out var error), $"after kill {run}: {key}: {error.Message}");
            ulong held = packet.Timestamp.Microseconds;
            Assert.True(held >= acknowledged, string.Create(CultureInfo.InvariantCulture, $"after kill {run}: {key} holds {held}, older than the acknowledged {acknowledged}"));

            // Newer than acknowledged only when its 204 was lost to the kill; either way, bytes that were sent.
            Assert.True(_sent.TryGetValue((key, held), out var sent), $"after kill {run}: {key} holds {held}, which was never sent");
            Assert.Equal(sent, body);
        }
    }
}
