// One async lock per key, held only while someone uses it, so that updates of one key inside this process run one
// after the other while updates of different keys run in parallel, and idle keys cost nothing.

using Pkarr.Keys;

namespace Pkarr.Client;

/// <summary>Per-key mutual exclusion with reference-counted entries.</summary>
internal sealed class KeyLocks
{
    private readonly Dictionary<PublicKey, Entry> _entries = [];

    /// <summary>Waits for <paramref name="key"/>'s lock; dispose the result to release it.</summary>
    public async Task<IDisposable> AcquireAsync(PublicKey key, CancellationToken cancellationToken)
    {
        Entry entry;
        lock (_entries)
        {
            if (!_entries.TryGetValue(key, out entry!))
            {
                entry = new Entry();
                _entries[key] = entry;
            }

            entry.Users++;
        }

        try
        {
            await entry.Semaphore.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Leave(key, entry);
            throw;
        }

        return new Releaser(this, key, entry);
    }

    private void Leave(PublicKey key, Entry entry)
    {
        lock (_entries)
        {
            if (--entry.Users == 0)
            {
                _entries.Remove(key);
                entry.Semaphore.Dispose();
            }
        }
    }

    private sealed class Entry
    {
        public SemaphoreSlim Semaphore { get; } = new(1, 1);

        public int Users { get; set; }
    }

    private sealed class Releaser(KeyLocks owner, PublicKey key, Entry entry) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                entry.Semaphore.Release();
                owner.Leave(key, entry);
            }
        }
    }
}
