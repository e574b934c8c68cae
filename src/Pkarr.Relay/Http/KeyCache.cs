// Parsing a key from the path includes the Ed25519 point check (spec §1.1), which costs more than answering from the
// hot store. Popular keys are asked for again and again, so the keys already parsed are remembered by their path
// segment. The table is bounded: when full it starts afresh, which keeps it O(1) and simple; the keys still in demand
// come back at the cost of one parse each.

using System.Collections.Concurrent;
using Pkarr.Keys;

namespace Pkarr.Relay.Http;

internal sealed class KeyCache(int capacity)
{
    // A key is 52 characters, 55 as pk:<key>; longer spellings (URLs) are parsed each time rather than remembered.
    private const int MaxSegmentLength = 64;

    private readonly ConcurrentDictionary<string, PublicKey> _keys = new(StringComparer.Ordinal);

    /// <summary>The number of segments remembered.</summary>
    public int Count => _keys.Count;

    /// <summary>Parses <paramref name="segment"/> with the lenient key parser, or finds it parsed already.</summary>
    public bool TryParse(string segment, out PublicKey key, out PublicKeyError error)
    {
        if (_keys.TryGetValue(segment, out key))
        {
            error = default;
            return true;
        }

        if (!PublicKey.TryParse(segment.AsSpan(), out key, out error))
        {
            return false;
        }

        if (segment.Length > MaxSegmentLength)
        {
            return true;
        }

        if (_keys.Count >= capacity)
        {
            _keys.Clear();
        }

        _keys.TryAdd(segment, key);
        return true;
    }
}
