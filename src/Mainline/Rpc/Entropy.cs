// The randomness the protocol logic draws (transaction ids, token secrets, bootstrap samples, storage shuffles,
// a new secure id), injected so that the production node uses the OS's cryptographic generator while a simulator
// replays a whole network from one seed, bit for bit.
using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Mainline.Rpc;

/// <summary>Randomness drawn by protocol logic (transaction ids, token secrets, bootstrap samples, storage shuffles).</summary>
internal interface IEntropy
{
    /// <summary>Fills <paramref name="destination"/> with random bytes.</summary>
    void Fill(Span<byte> destination);

    /// <summary>A uniform integer in [0, <paramref name="maxExclusive"/>); 0 when <paramref name="maxExclusive"/> ≤ 1.</summary>
    int Next(int maxExclusive);
}

/// <summary>The OS's cryptographic generator: an off-path forger who sees some of our transaction ids or tokens
/// learns nothing about the next ones.</summary>
internal sealed class SystemEntropy : IEntropy
{
    // Transaction ids take 4 bytes per query: small requests come from a per-thread pool refilled 256 bytes at a
    // time, so a query costs no call into the OS's generator (each node's loop is one thread).
    private const int PoolSize = 256;
    private const int MaxPooled = 32;

    [ThreadStatic]
    private static byte[]? t_pool;

    [ThreadStatic]
    private static int t_left;

    private SystemEntropy()
    {
    }

    public static SystemEntropy Instance { get; } = new();

    public void Fill(Span<byte> destination)
    {
        if (destination.Length > MaxPooled)
        {
            RandomNumberGenerator.Fill(destination);
            return;
        }

        var pool = t_pool ??= new byte[PoolSize];
        if (t_left < destination.Length)
        {
            RandomNumberGenerator.Fill(pool);
            t_left = PoolSize;
        }

        // Bytes handed out are cleared from the pool and never handed out twice.
        var taken = pool.AsSpan(PoolSize - t_left, destination.Length);
        taken.CopyTo(destination);
        taken.Clear();
        t_left -= destination.Length;
    }

    public int Next(int maxExclusive) => maxExclusive <= 1 ? 0 : RandomNumberGenerator.GetInt32(maxExclusive);
}

/// <summary>
/// A deterministic generator for simulations: xoshiro256** seeded through SplitMix64 (Blackman and Vigna). 32
/// bytes of state, so 100,000 simulated nodes each own one at no cost; two instances with one seed produce the
/// same sequence in any process. Not for production: its output is predictable.
/// </summary>
internal sealed class SeededEntropy : IEntropy
{
    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;

    public SeededEntropy(ulong seed)
    {
        // SplitMix64 spreads any seed (0 included) over the state, which must not be all zero.
        _s0 = SplitMix64(ref seed);
        _s1 = SplitMix64(ref seed);
        _s2 = SplitMix64(ref seed);
        _s3 = SplitMix64(ref seed);
    }

    public void Fill(Span<byte> destination)
    {
        Span<byte> word = stackalloc byte[8];
        while (destination.Length >= 8)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(destination, NextUInt64());
            destination = destination[8..];
        }

        if (destination.Length > 0)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(word, NextUInt64());
            word[..destination.Length].CopyTo(destination);
        }
    }

    public int Next(int maxExclusive)
    {
        if (maxExclusive <= 1)
        {
            return 0;
        }

        // Rejection sampling: the draws below 2^64 mod n are refused, so every residue is equally likely.
        var bound = (ulong)maxExclusive;
        var threshold = (0UL - bound) % bound;
        while (true)
        {
            var r = NextUInt64();
            if (r >= threshold)
            {
                return (int)(r % bound);
            }
        }
    }

    /// <summary>The next 64 bits of xoshiro256**.</summary>
    public ulong NextUInt64()
    {
        var result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    private static ulong SplitMix64(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

internal static class EntropyExtensions
{
    /// <summary>Shuffles <paramref name="items"/> in place (Fisher–Yates), every order equally likely.</summary>
    public static void Shuffle<T>(this IEntropy entropy, Span<T> items)
    {
        for (var i = items.Length - 1; i > 0; i--)
        {
            var j = entropy.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
