// Writes packets into a SqlitePkarrCache until it is killed or its bounds run out, and prints one line per write that
// PutIfNewerAsync has acknowledged: "ack <key> <timestamp>". A line is flushed only after the write returned, so every
// complete line the parent reads is a committed write it may hold the file to.
//
// Usage: Pkarr.Client.CacheWriter <path> <keys> <first timestamp> <max writes> <max seconds>
// Exit codes: 0 bounds reached, 1 bad arguments, 2 a write was refused (the file went back in time).

using System.Diagnostics;
using System.Globalization;
using Pkarr.Client.Caching;
using Pkarr.Keys;
using Pkarr.Packets;

if (args.Length != 5
    || !int.TryParse(args[1], CultureInfo.InvariantCulture, out int keyCount) || keyCount is < 1 or > 255
    || !ulong.TryParse(args[2], CultureInfo.InvariantCulture, out ulong first)
    || !long.TryParse(args[3], CultureInfo.InvariantCulture, out long maxWrites) || maxWrites < 0
    || !int.TryParse(args[4], CultureInfo.InvariantCulture, out int maxSeconds) || maxSeconds < 0)
{
    Console.Error.WriteLine("usage: Pkarr.Client.CacheWriter <path> <keys 1..255> <first timestamp> <max writes> <max seconds>");
    return 1;
}

// The same keys in every run, so that successive runs on one file write over each other's rows.
var keypairs = Enumerable.Range(1, keyCount).Select(i =>
{
    byte[] seed = new byte[Keypair.SecretKeyLength];
    seed[0] = (byte)i;
    return Keypair.FromSecretKey(seed);
}).ToArray();
string[] names = keypairs.Select(keypair => keypair.PublicKey.ToZ32()).ToArray();

try
{
    await using var cache = SqlitePkarrCache.Open(args[0], capacity: keyCount * 2);
    using var stdout = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = false };
    var clock = Stopwatch.StartNew();
    for (long i = 0; i < maxWrites && clock.Elapsed.TotalSeconds < maxSeconds; i++)
    {
        int k = (int)(i % keyCount);
        ulong timestamp = first + (ulong)i;
        var packet = SignedPacket.Builder().Txt("_t", "x").Timestamp(new Timestamp(timestamp)).Sign(keypairs[k]);
        if (!await cache.PutIfNewerAsync(CachedPacket.Seen(packet)))
        {
            Console.Error.WriteLine($"refused {names[k]} {timestamp}");
            return 2;
        }

        stdout.Write($"ack {names[k]} {timestamp}\n");
        stdout.Flush();
    }

    return 0;
}
finally
{
    foreach (var keypair in keypairs)
    {
        keypair.Dispose();
    }
}
