// The republisher: keeps a set of keys alive on the DHT (and relays) by putting each key's latest signed packet
// again, every interval (BEP 44 nodes may drop an item 2 h after its last put), and checking that enough nodes hold
// it afterwards (pkarr-churn: 17 holders survive ~30 h of node churn with ≥ 99.9 % probability).
//
//   per key:  resolve NetworkOnly ─▶ newest of (ours, network's, the cache's) ─▶ [held secret, old: re-sign]
//             ─▶ put ─▶ DHT get "newer than ts − 1" counts holders ─▶ < minimum: back off, put again (≤ MaxAttempts)
//             a put refused as not most recent ─▶ read again: a newer packet is adopted, never overwritten;
//             nothing newer and the secret held ─▶ re-sign once above it (nodes that refuse an equal seq)
//
// Keys are independent: a pass runs them concurrently up to MaxConcurrency (shared with the background loop), and
// one key is never republished twice at once. State per key (its latest packet, its next due time) is guarded by
// one lock; the network calls run outside it. Republisher.Schedule.cs holds the background loop.

using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Republishing;

/// <summary>
/// Keeps a set of keys alive on the network: republishes each key's latest signed packet unchanged (re-signing it
/// with a new timestamp only for keys whose secret it holds, and only when needed), checks that at least
/// <see cref="RepublisherOptions.MinimumHolders"/> DHT nodes hold it and retries with backoff while fewer do, and
/// adopts a newer packet found on the network instead of overwriting it. Run one pass with
/// <see cref="RunCycleAsync"/>, or a background loop with <see cref="StartAsync"/>, which spreads keys over the
/// interval. Thread-safe.
/// </summary>
public sealed partial class Republisher : IAsyncDisposable
{
    private readonly IRepublishNetwork _network;
    private readonly TimeProvider _time;
    private readonly TimestampClock _clock;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly OrderedDictionary<PublicKey, KeyState> _keys = [];
    private readonly KeyLocks _keyLocks = new();
    private readonly SemaphoreSlim _concurrency;
    private readonly Lock _saveGate = new();
    private bool _dirty;
    private bool _disposed;

    /// <summary>A republisher over <paramref name="client"/>, on its clock and timestamp clock. With
    /// <see cref="RepublisherOptions.KeySetPath"/> set, loads the key set from that file.</summary>
    /// <param name="client">The client that resolves and publishes; the republisher does not dispose it.</param>
    /// <param name="options">Settings; null for the defaults.</param>
    /// <param name="logger">Where a line per key and per pass goes; null for the client's logger factory, if any.</param>
    /// <exception cref="ArgumentException">An option breaks a rule (the message lists each).</exception>
    /// <exception cref="InvalidDataException">The key-set file exists but is not a key set (the message says why).</exception>
    public Republisher(PkarrClient client, RepublisherOptions? options = null, ILogger<Republisher>? logger = null)
        : this(
            new ClientRepublishNetwork(client ?? throw Error.ArgumentNull(nameof(client))),
            options ?? new RepublisherOptions(),
            client.TimeProvider,
            client.Clock,
            logger ?? (ILogger?)client.Options.LoggerFactory?.CreateLogger<Republisher>())
    {
    }

    /// <summary>For tests: a republisher over any network and clock.</summary>
    internal Republisher(IRepublishNetwork network, RepublisherOptions options, TimeProvider time, TimestampClock clock, ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Failures() is { Count: > 0 } failures)
        {
            throw Error.InvalidRepublisherOptions(failures, nameof(options));
        }

        _network = network;
        Options = options;
        _time = time;
        _clock = clock;
        _logger = logger ?? NullLogger.Instance;
        _concurrency = new SemaphoreSlim(options.MaxConcurrency, options.MaxConcurrency);
        if (options.KeySetPath is { } path)
        {
            Load(path);
        }
    }

    /// <summary>The settings in use.</summary>
    public RepublisherOptions Options { get; }

    /// <summary>The keys in the set, in the order they were added.</summary>
    public IReadOnlyList<PublicKey> Keys
    {
        get
        {
            lock (_gate)
            {
                return [.. _keys.Keys];
            }
        }
    }

    /// <summary>Raised after each key's republish (from a pass or the background loop), on the thread that ran it.
    /// A handler's exception is logged and otherwise ignored.</summary>
    public event EventHandler<KeyRepublishResult>? KeyRepublished;

    /// <summary>Adds a key whose secret the republisher does not hold: it republishes the latest signed packet
    /// unchanged (<paramref name="latest"/>, or what the network or the client's cache has).</summary>
    /// <returns>True when the key was new to the set.</returns>
    public bool AddKey(PublicKey key, SignedPacket? latest = null) => Add(key, null, null, latest);

    /// <summary>Adds a key whose secret the republisher holds (a copy of <paramref name="keypair"/>, kept in memory
    /// only: the key-set file records the public key alone). It republishes the latest packet unchanged and re-signs
    /// its records with a new timestamp from the client's clock when needed (see
    /// <see cref="RepublisherOptions.ResignAfter"/>). Adding a key already in the set gives it the secret.</summary>
    /// <returns>True when the key was new to the set.</returns>
    public bool AddKey(Keypair keypair, SignedPacket? latest = null)
    {
        ArgumentNullException.ThrowIfNull(keypair);
        return Add(keypair.PublicKey, Copy(keypair), null, latest);
    }

    /// <summary>Adds the key of a secret-key file (64 hex characters, as <c>Keypair.WriteSecretKeyFile</c> writes).
    /// It is republished as with <see cref="AddKey(Keypair, SignedPacket?)"/>, and the key-set file records the
    /// file's path, never the secret, so that a restarted republisher reads the secret again from there.</summary>
    /// <returns>The key.</returns>
    /// <exception cref="InvalidDataException">The file does not hold a secret key.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public PublicKey AddSecretFile(string path, SignedPacket? latest = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        var keypair = Keypair.FromSecretKeyFile(full);
        var key = keypair.PublicKey;
        Add(key, keypair, full, latest);
        return key;
    }

    /// <summary>Removes a key from the set (a republish of it in flight completes, but its result is dropped).</summary>
    /// <returns>True when the key was in the set.</returns>
    public bool Remove(PublicKey key)
    {
        KeyState? state;
        lock (_gate)
        {
            if (!_keys.Remove(key, out state))
            {
                return false;
            }

            state.Removed = true;
            _dirty = true;
        }

        SaveIfDirty();
        _ = ReleaseSecretWhenIdleAsync(state);
        WakeLoop();
        return true;
    }

    /// <summary>The latest signed packet the republisher knows for <paramref name="key"/>; null when it knows none
    /// or the key is not in the set.</summary>
    public SignedPacket? LatestPacket(PublicKey key)
    {
        lock (_gate)
        {
            return _keys.TryGetValue(key, out var state) ? state.Packet : null;
        }
    }

    /// <summary>True when the republisher holds <paramref name="key"/>'s secret and may re-sign its packet.</summary>
    public bool HoldsSecret(PublicKey key)
    {
        lock (_gate)
        {
            return _keys.TryGetValue(key, out var state) && state.Secret is not null;
        }
    }

    /// <summary>
    /// One pass over every key, up to <see cref="RepublisherOptions.MaxConcurrency"/> at once: each key's packet
    /// is brought up to date from the network, put, and checked for holders (with retries), and its next due time
    /// in the background schedule becomes one jittered interval from now.
    /// </summary>
    /// <returns>One result per key (keys removed during the pass are left out).</returns>
    public async Task<RepublishReport> RunCycleAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var started = _time.GetUtcNow();
        KeyState[] states;
        lock (_gate)
        {
            states = [.. _keys.Values];
        }

        var results = await Task.WhenAll(states.Select(s => RepublishKeyAsync(s, cancellationToken))).ConfigureAwait(false);
        SaveIfDirty();
        var report = new RepublishReport
        {
            Started = started,
            Finished = _time.GetUtcNow(),
            Keys = [.. results.OfType<KeyRepublishResult>()],
        };
        LogCycle(_logger, report.Keys.Count, report.Succeeded, report.Failed, report.Finished - report.Started);
        return report;
    }

    /// <summary>Stops the background loop, writes the key set if it changed and forgets the held secrets.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        await StopAsync().ConfigureAwait(false);
        _disposed = true;
        SaveIfDirty();
        lock (_gate)
        {
            foreach (var state in _keys.Values)
            {
                state.Secret?.Dispose();
            }

            _keys.Clear();
        }

        _concurrency.Dispose();
    }

    /// <summary>Waits for a slot and the key's lock, republishes it and schedules its next turn; null when the key
    /// left the set meanwhile.</summary>
    private async Task<KeyRepublishResult?> RepublishKeyAsync(KeyState state, CancellationToken cancellationToken)
    {
        await _concurrency.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var held = await _keyLocks.AcquireAsync(state.Key, cancellationToken).ConfigureAwait(false);
            if (state.Removed)
            {
                return null;
            }

            var result = await RepublishAsync(state, cancellationToken).ConfigureAwait(false);
            lock (_gate)
            {
                state.Due = _time.GetUtcNow() + NextInterval();
                if (result.Packet is { } packet && (state.Packet is null || packet.MoreRecentThan(state.Packet)))
                {
                    state.Packet = packet;
                    _dirty = true;
                }
            }

            Report(result);
            return result;
        }
        finally
        {
            _concurrency.Release();
        }
    }

    /// <summary>The republish of one key (its lock held).</summary>
    private async Task<KeyRepublishResult> RepublishAsync(KeyState state, CancellationToken cancellationToken)
    {
        var key = state.Key;
        SignedPacket? known;
        Keypair? secret;
        lock (_gate)
        {
            known = state.Packet;
            secret = state.Secret;
        }

        bool adopted = false;
        bool resigned = false;
        int attempts = 0;
        int storedOn = 0;
        int? holders = null;
        bool stored = false;
        PublishError? error = null;
        var current = await NewestAsync(key, cancellationToken).ConfigureAwait(false);
        if (current.Newest is { } newest && (known is null || newest.MoreRecentThan(known)))
        {
            adopted = known is not null;
            known = newest;
        }

        if (current.NewerInvalidSeq(known) is { } invalid)
        {
            return Ended(RepublishOutcome.NewerValueNotAPacket, known, invalid: invalid);
        }

        if (known is null)
        {
            return Ended(RepublishOutcome.NoPacket, null);
        }

        // Compare-and-swap only against a packet the nodes hold: with the network behind (it lost ours) nodes
        // holding the older one would refuse every put, while their seq rule already refuses anything older.
        // An adopted packet is someone's recent publish: it goes out unchanged, whatever its age.
        Timestamp? expected = null;
        if (secret is not null && !adopted && Options.ResignAfter is { } age && _time.GetUtcNow() - known.Timestamp.ToDateTimeOffset() > age)
        {
            expected = current.Network is { } n && n.IsSameAs(known) ? known.Timestamp : null;
            known = Resign(known, secret);
            resigned = true;
        }

        while (attempts < Options.MaxAttempts)
        {
            if (attempts > 0)
            {
                await Task.Delay(Backoff(attempts), _time, cancellationToken).ConfigureAwait(false);
            }

            attempts++;
            var put = await _network.PublishAsync(known, expected, cancellationToken).ConfigureAwait(false);
            if (put.Error is { } failure)
            {
                error = failure;
                if (failure.Kind != PublishErrorKind.NotMostRecent)
                {
                    continue;
                }

                // Someone published meanwhile, or nodes refuse an equal seq: read again before anything else.
                var again = await NewestAsync(key, cancellationToken).ConfigureAwait(false);
                if (again.Newest is { } newer && newer.MoreRecentThan(known))
                {
                    known = newer;
                    adopted = true;
                    expected = null;
                }
                else if (again.NewerInvalidSeq(known) is { } seq)
                {
                    return Ended(RepublishOutcome.NewerValueNotAPacket, known, invalid: seq);
                }
                else if (secret is not null && !resigned)
                {
                    expected = again.Network is { } n && n.IsSameAs(known) ? known.Timestamp : null;
                    known = Resign(known, secret);
                    resigned = true;
                }

                continue;
            }

            stored = true;
            error = null;
            expected = null; // the nodes now hold this packet: a repeated put must not compare with the old one
            storedOn = put.StoredOn;
            var count = await _network.CountHoldersAsync(known, cancellationToken).ConfigureAwait(false);
            if (count is null)
            {
                return Ended(RepublishOutcome.Republished, known);
            }

            holders = count.Holders;
            if (count.Newer is { } newerHeld && newerHeld.MoreRecentThan(known))
            {
                known = newerHeld;
                adopted = true;
                continue;
            }

            if (holders >= Options.MinimumHolders)
            {
                return Ended(RepublishOutcome.Republished, known);
            }
        }

        return Ended(stored ? RepublishOutcome.TooFewHolders : RepublishOutcome.PublishFailed, known);

        KeyRepublishResult Ended(RepublishOutcome outcome, SignedPacket? packet, long? invalid = null) => new()
        {
            PublicKey = key,
            Outcome = outcome,
            Packet = packet,
            StoredOn = storedOn,
            Holders = holders,
            Attempts = attempts,
            Adopted = adopted,
            Resigned = resigned,
            Error = outcome == RepublishOutcome.PublishFailed ? error : null,
            InvalidSeq = invalid,
        };
    }

    /// <summary>The network's answer and the newest packet of it and the client's cache.</summary>
    private async Task<Current> NewestAsync(PublicKey key, CancellationToken cancellationToken)
    {
        var resolved = await _network.ResolveAsync(key, cancellationToken).ConfigureAwait(false);
        var network = resolved.Found ? resolved.Packet : null;
        var cached = await _network.PeekCachedAsync(key, cancellationToken).ConfigureAwait(false);
        var newest = network;
        if (cached is not null && (newest is null || cached.MoreRecentThan(newest)))
        {
            newest = cached;
        }

        long? invalid = resolved.Error is { Kind: ResolveErrorKind.InvalidSignedPacket } e ? e.Seq : null;
        return new Current(network, newest, invalid);
    }

    /// <summary>The same records signed with a timestamp above the packet's and above every one this clock gave.</summary>
    private SignedPacket Resign(SignedPacket packet, Keypair secret)
    {
        var builder = SignedPacket.Builder();
        foreach (var record in packet.AllResourceRecords)
        {
            builder.Record(record);
        }

        var now = _clock.Now();
        return builder.Timestamp(packet.Timestamp >= now ? packet.Timestamp.AddMicroseconds(1) : now).Sign(secret);
    }

    /// <summary>The wait before attempt <paramref name="attempts"/> + 1: the initial backoff doubled per attempt, capped.</summary>
    internal TimeSpan Backoff(int attempts)
    {
        double factor = Math.Pow(2, Math.Min(attempts - 1, 30));
        var wait = TimeSpan.FromTicks((long)Math.Min(Options.InitialBackoff.Ticks * factor, Options.MaxBackoff.Ticks));
        return wait;
    }

    private bool Add(PublicKey key, Keypair? secret, string? secretFile, SignedPacket? latest)
    {
        if (latest is not null && latest.PublicKey != key)
        {
            secret?.Dispose();
            throw Error.PacketOfAnotherKey(key, latest.PublicKey, nameof(latest));
        }

        bool added;
        Keypair? replaced = null;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            added = !_keys.TryGetValue(key, out var state);
            if (added)
            {
                state = new KeyState(key) { Due = FirstDue() };
                _keys.Add(key, state);
            }

            if (secret is not null)
            {
                replaced = state!.Secret;
                state.Secret = secret;
                state.SecretFile = secretFile;
            }

            if (latest is not null && (state!.Packet is null || latest.MoreRecentThan(state.Packet)))
            {
                state.Packet = latest;
            }

            _dirty = true;
        }

        replaced?.Dispose();
        SaveIfDirty();
        WakeLoop();
        return added;
    }

    private async Task ReleaseSecretWhenIdleAsync(KeyState state)
    {
        using (await _keyLocks.AcquireAsync(state.Key, CancellationToken.None).ConfigureAwait(false))
        {
            state.Secret?.Dispose();
        }
    }

    private void Load(string path)
    {
        foreach (var entry in KeySetFile.Read(path))
        {
            Keypair? secret = null;
            if (entry.SecretKeyFile is { } file)
            {
                try
                {
                    secret = Keypair.FromSecretKeyFile(file);
                    if (secret.PublicKey != entry.PublicKey)
                    {
                        secret.Dispose();
                        secret = null;
                        LogSecretFileMismatch(_logger, entry.PublicKey, file);
                    }
                }
                catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
                {
                    LogSecretFileUnreadable(_logger, entry.PublicKey, file, e.Message);
                }
            }

            _keys[entry.PublicKey] = new KeyState(entry.PublicKey)
            {
                Secret = secret,
                SecretFile = entry.SecretKeyFile,
                Packet = entry.Packet,
                Due = FirstDue(),
            };
        }

        LogLoaded(_logger, _keys.Count, path);
    }

    /// <summary>Writes the key set when it changed since the last write (and a file is configured).</summary>
    private void SaveIfDirty()
    {
        if (Options.KeySetPath is not { } path)
        {
            return;
        }

        lock (_saveGate)
        {
            KeySetEntry[] entries;
            lock (_gate)
            {
                if (!_dirty)
                {
                    return;
                }

                entries = [.. _keys.Values.Select(s => new KeySetEntry(s.Key, s.SecretFile, s.Packet))];
                _dirty = false;
            }

            try
            {
                KeySetFile.Write(path, entries);
            }
            catch
            {
                lock (_gate)
                {
                    _dirty = true;
                }

                throw;
            }
        }
    }

    private void Report(KeyRepublishResult result)
    {
        if (result.Succeeded)
        {
            LogKey(_logger, result.PublicKey, result.Outcome, result.StoredOn, result.Holders, result.Attempts, result.Adopted, result.Resigned);
        }
        else
        {
            LogKeyFailed(_logger, result.PublicKey, result.Outcome, result.StoredOn, result.Holders, result.Attempts, result.Adopted, result.Resigned, result.Error);
        }

        try
        {
            KeyRepublished?.Invoke(this, result);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogHandlerFailed(_logger, result.PublicKey, e);
        }
    }

    private static Keypair Copy(Keypair keypair)
    {
        byte[] secret = keypair.SecretKey();
        try
        {
            return Keypair.FromSecretKey(secret);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>A key's first turn: uniformly within one interval from now, so that a set loaded or added at once
    /// does not fire at once.</summary>
    private DateTimeOffset FirstDue() => _time.GetUtcNow() + Options.Interval * UnitRandom();

    /// <summary>One interval, varied uniformly by ± <see cref="RepublisherOptions.Jitter"/>.</summary>
    private TimeSpan NextInterval() => Options.Interval * (1 + (Options.Jitter * ((2 * UnitRandom()) - 1)));

    /// <summary>A uniform value in [0, 1).</summary>
    private static double UnitRandom() => RandomNumberGenerator.GetInt32(int.MaxValue) / (double)int.MaxValue;

    /// <summary>What the network and the cache hold for a key.</summary>
    /// <param name="Network">The network's most recent valid packet, if any.</param>
    /// <param name="Newest">The newer of that and the cache's.</param>
    /// <param name="InvalidSeq">The seq of a signed value that is not a DNS packet, when that is the network's most recent.</param>
    private sealed record Current(SignedPacket? Network, SignedPacket? Newest, long? InvalidSeq)
    {
        /// <summary>The invalid value's seq when it is newer than <paramref name="known"/> (or nothing is known).</summary>
        public long? NewerInvalidSeq(SignedPacket? known) =>
            InvalidSeq is { } seq && (known is null || seq > known.Timestamp.AsSeq) ? seq : null;
    }

    /// <summary>A key of the set. Fields other than <see cref="Key"/> are read and written under the set's lock.</summary>
    private sealed class KeyState(PublicKey key)
    {
        public PublicKey Key { get; } = key;

        public Keypair? Secret { get; set; }

        public string? SecretFile { get; set; }

        public SignedPacket? Packet { get; set; }

        public DateTimeOffset Due { get; set; }

        public bool InFlight { get; set; }

        public bool Removed { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Republished {Key}: {Outcome}, stored on {StoredOn}, {Holders} holders, {Attempts} attempts, adopted {Adopted}, re-signed {Resigned}")]
    private static partial void LogKey(ILogger logger, PublicKey key, RepublishOutcome outcome, int storedOn, int? holders, int attempts, bool adopted, bool resigned);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Republish of {Key} ended {Outcome}: stored on {StoredOn}, {Holders} holders, {Attempts} attempts, adopted {Adopted}, re-signed {Resigned}, error {Error}")]
    private static partial void LogKeyFailed(ILogger logger, PublicKey key, RepublishOutcome outcome, int storedOn, int? holders, int attempts, bool adopted, bool resigned, PublishError? error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Republish pass: {Keys} keys, {Succeeded} republished, {Failed} not, in {Elapsed}")]
    private static partial void LogCycle(ILogger logger, int keys, int succeeded, int failed, TimeSpan elapsed);

    [LoggerMessage(Level = LogLevel.Information, Message = "Republisher loaded {Keys} keys from {Path}")]
    private static partial void LogLoaded(ILogger logger, int keys, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Secret-key file {File} of {Key} cannot be read ({Reason}); the key is republished without re-signing")]
    private static partial void LogSecretFileUnreadable(ILogger logger, PublicKey key, string file, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Secret-key file {File} no longer holds the secret of {Key}; the key is republished without re-signing")]
    private static partial void LogSecretFileMismatch(ILogger logger, PublicKey key, string file);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A KeyRepublished handler failed for {Key}")]
    private static partial void LogHandlerFailed(ILogger logger, PublicKey key, Exception exception);
}
