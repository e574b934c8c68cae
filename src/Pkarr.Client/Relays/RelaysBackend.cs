// The relay backend (shared spec pkarr.md §5.4): every configured relay at once, one HTTP request each. Resolve
// stops early where the policy allows (the first packet for CacheOnly, the first final packet for CacheFirst) and
// cancels the requests still running; otherwise it waits for all and folds them with the §5.5 merge. Publish waits
// for every relay and folds them with the §5.6 merge, keeping each relay's outcome for the caller.

using Microsoft.Extensions.Logging;
using Pkarr.Client.Backends;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Relays;

/// <summary>All configured relays as one backend. Thread-safe: each call owns its requests and accumulator.</summary>
internal sealed partial class RelaysBackend : IPkarrBackend
{
    private readonly RelayClient[] _relays;
    private readonly ILogger _logger;

    /// <summary>A backend over <paramref name="relays"/> (in configuration order), each request bounded by
    /// <paramref name="requestTimeout"/> on <paramref name="time"/>.</summary>
    /// <exception cref="InvalidOperationException"><paramref name="relays"/> is empty.</exception>
    /// <exception cref="ArgumentException">A relay is not an absolute http or https URL.</exception>
    internal RelaysBackend(IReadOnlyList<Uri> relays, HttpClient http, TimeSpan requestTimeout, TimeProvider time, ILogger logger)
    {
        if ((relays ?? throw Error.ArgumentNull(nameof(relays))).Count == 0)
        {
            throw Error.EmptyListOfRelays();
        }

        _logger = logger ?? throw Error.ArgumentNull(nameof(logger));
        _relays = [.. relays.Select(relay => new RelayClient(relay, http, requestTimeout, time, logger))];
    }

    /// <inheritdoc />
    public async Task<ResolveResult> ResolveAsync(PublicKey key, ResolvePolicy policy, CacheContext? context, CancellationToken cancellationToken)
    {
        var merge = policy switch
        {
            ResolvePolicy.CacheOnly or ResolvePolicy.NetworkOnly => null,
            ResolvePolicy.CacheFirst => context,
            _ => throw Error.UnknownPolicy(policy),
        };
        var lowerBound = merge?.RelayLowerBound;

        using var race = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var pending = _relays.Select(relay => relay.GetAsync(key, policy, lowerBound, race.Token)).ToList();
        try
        {
            var accumulator = new ResolveAccumulator(merge);
            while (pending.Count > 0)
            {
                var done = await Task.WhenAny(pending);
                pending.Remove(done);
                var result = await done;
                if (result.Found && IsFinal(policy, merge, result.Entry))
                {
                    LogEarlyAnswer(_logger, key, policy, pending.Count);
                    return result;
                }

                accumulator.Add(result);
            }

            return accumulator.Result;
        }
        finally
        {
            // Cancelled requests end at once; awaiting them keeps any request from outliving this call.
            if (pending.Count > 0)
            {
                await race.CancelAsync();
                await Task.WhenAll((IEnumerable<Task>)pending).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <inheritdoc />
    public async Task<PublishResult> PublishAsync(SignedPacket packet, Timestamp? cas, CancellationToken cancellationToken)
    {
        _ = packet ?? throw Error.ArgumentNull(nameof(packet));
        var outcomes = await Task.WhenAll(_relays.Select(relay => relay.PutAsync(packet, cas, cancellationToken)));
        var accumulator = new PublishAccumulator();
        foreach (var outcome in outcomes)
        {
            if (outcome.Error is { } error)
            {
                accumulator.AddError(error);
            }
            else
            {
                accumulator.AddSuccess(outcome.StoredOn);
            }
        }

        return new PublishResult
        {
            PublicKey = packet.PublicKey,
            Error = accumulator.Error,
            StoredOn = accumulator.StoredOn,
            Relays = outcomes,
        };
    }

    // CacheOnly takes any packet (relay caches are all it may ask); CacheFirst one the caller may return as it is
    // (acceptable, not below the cached floor); NetworkOnly always hears every relay.
    private static bool IsFinal(ResolvePolicy policy, CacheContext? context, CachedPacket entry) => policy switch
    {
        ResolvePolicy.CacheOnly => true,
        ResolvePolicy.CacheFirst => context is null || context.Final(entry),
        _ => false,
    };

    [LoggerMessage(20, LogLevel.Debug, "Relays answered {Key} ({Policy}) early; {Cancelled} requests cancelled")]
    private static partial void LogEarlyAnswer(ILogger logger, PublicKey key, ResolvePolicy policy, int cancelled);
}
