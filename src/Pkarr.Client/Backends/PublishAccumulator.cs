// Folds per-source publish outcomes into one (shared spec pkarr.md §5.6): the largest stored-on count of any
// success, unless "not most recent" answers are at least as many as the successes; with no success, the most
// frequent error, ties going to the most specific. Used for the relays, then for the DHT against the relays.

namespace Pkarr.Client.Backends;

/// <summary>The publish merge of spec §5.6. Not thread-safe: one owner adds outcomes, then reads the verdict.</summary>
internal sealed class PublishAccumulator
{
    private readonly Dictionary<PublishError, int> _errors = [];
    private int _successes;
    private int _notMostRecent;
    private int _storedOn;

    /// <summary>Adds a success that stored the packet on <paramref name="storedOn"/> DHT nodes.</summary>
    public void AddSuccess(int storedOn)
    {
        _successes++;
        _storedOn = Math.Max(_storedOn, storedOn);
    }

    /// <summary>Adds a failure.</summary>
    public void AddError(PublishError error)
    {
        if (error.Kind == PublishErrorKind.NotMostRecent)
        {
            _notMostRecent++;
        }

        _errors[error] = _errors.GetValueOrDefault(error) + 1;
    }

    /// <summary>Adds a backend's already folded result.</summary>
    public void Add(PublishResult result)
    {
        if (result.Error is { } error)
        {
            AddError(error);
        }
        else
        {
            AddSuccess(result.StoredOn);
        }
    }

    /// <summary>The combined error; null on success.</summary>
    public PublishError? Error
    {
        get
        {
            if (_notMostRecent > 0 && _notMostRecent >= _successes)
            {
                return PublishError.NotMostRecent;
            }

            if (_successes > 0)
            {
                return null;
            }

            PublishError? best = null;
            int bestCount = 0;
            foreach (var (error, count) in _errors)
            {
                if (best is null || count > bestCount || (count == bestCount && error.MoreSpecificThan(best)))
                {
                    best = error;
                    bestCount = count;
                }
            }

            return best ?? new PublishError(PublishErrorKind.UnexpectedResponses);
        }
    }

    /// <summary>On success, the largest stored-on count; 0 otherwise.</summary>
    public int StoredOn => Error is null ? _storedOn : 0;
}
