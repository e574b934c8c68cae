// Shared by the store tests: packets of chosen timestamps, a durable store that counts its calls and can hold a call
// at a chosen point, and temporary directories.

using Microsoft.Extensions.Time.Testing;
using Pkarr.Client.Caching;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Relay.Tests.Storage;

internal static class StorageTestKit
{
    /// <summary>An ordinary wall-clock time, so last_seen values are neither 0 nor in the future.</summary>
    public static FakeTimeProvider Clock() => new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public static SignedPacket Packet(Keypair keypair, ulong timestamp, string text = "x") =>
        SignedPacket.Builder().Txt("_t", text).Timestamp(new Timestamp(timestamp)).Sign(keypair);

    public static string TempDirectory()
    {
        string path = Path.Combine(Path.GetTempPath(), "pkarr-storage-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    public static void Delete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary directory does not make a test wrong.
        }
    }
}

/// <summary>
/// A durable store in memory that counts reads, and can hold a put after it stored (<see cref="AfterPut"/>) or a get
/// after it read (<see cref="AfterGet"/>) until the test lets it go on.
/// </summary>
internal sealed class CountingCache(int capacity) : IPkarrCache
{
    private readonly MemoryPkarrCache _inner = new(capacity);
    private int _gets;
    private int _peeks;
    private int _counts;
    private int _puts;

    public int Capacity => _inner.Capacity;

    public int Gets => Volatile.Read(ref _gets);

    public int Peeks => Volatile.Read(ref _peeks);

    public int Counts => Volatile.Read(ref _counts);

    public int Puts => Volatile.Read(ref _puts);

    /// <summary>Reads of any kind.</summary>
    public int Reads => Gets + Peeks + Counts;

    /// <summary>Awaited after a put stored or refused, before it returns.</summary>
    public Func<CachedPacket, Task>? AfterPut { get; set; }

    /// <summary>Awaited after a get read, before it returns.</summary>
    public Func<PublicKey, Task>? AfterGet { get; set; }

    /// <summary>Yields inside every operation, so concurrent callers interleave.</summary>
    public bool Yield { get; set; }

    public async ValueTask<int> CountAsync(CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _counts);
        return await _inner.CountAsync(cancellationToken);
    }

    public async ValueTask<CachedPacket?> GetAsync(PublicKey key, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _gets);
        await MaybeYield();
        var entry = await _inner.GetAsync(key, cancellationToken);
        if (AfterGet is { } after)
        {
            await after(key);
        }

        return entry;
    }

    public async ValueTask<CachedPacket?> PeekAsync(PublicKey key, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _peeks);
        await MaybeYield();
        return await _inner.PeekAsync(key, cancellationToken);
    }

    public async ValueTask<bool> PutIfNewerAsync(CachedPacket entry, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _puts);
        await MaybeYield();
        bool stored = await _inner.PutIfNewerAsync(entry, cancellationToken);
        await MaybeYield();
        if (AfterPut is { } after)
        {
            await after(entry);
        }

        return stored;
    }

    /// <summary>What the store holds, without counting a read.</summary>
    public ValueTask<CachedPacket?> HeldAsync(PublicKey key) => _inner.PeekAsync(key);

    /// <summary>Writes past the layer in front (as if the store already held it when the relay started).</summary>
    public ValueTask<bool> SeedAsync(CachedPacket entry) => _inner.PutIfNewerAsync(entry);

    private async Task MaybeYield()
    {
        if (Yield && Random.Shared.Next(2) == 0)
        {
            await Task.Yield();
        }
    }
}

/// <summary>Records the uses a hot layer sends to the durable LRU.</summary>
internal sealed class UseRecorder
{
    private readonly Lock _gate = new();
    private readonly List<KeyValuePair<PublicKey, long>[]> _batches = [];

    public IReadOnlyList<KeyValuePair<PublicKey, long>[]> Batches
    {
        get
        {
            lock (_gate)
            {
                return [.. _batches];
            }
        }
    }

    public ValueTask Record(IReadOnlyCollection<KeyValuePair<PublicKey, long>> uses, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _batches.Add([.. uses]);
        }

        return ValueTask.CompletedTask;
    }
}
