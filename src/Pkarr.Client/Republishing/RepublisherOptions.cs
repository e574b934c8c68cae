// The republisher's settings, bindable from configuration ("Pkarr:Republisher" section by default):
//
//   "Pkarr": { "Republisher": { "Interval": "01:00:00", "MinimumHolders": 17, "MaxConcurrency": 16,
//              "Jitter": 0.1, "InitialBackoff": "00:00:05", "MaxBackoff": "00:05:00", "MaxAttempts": 4,
//              "KeySetPath": "/var/lib/pkarr/republisher.json" } }
//
// Where the defaults come from (docs/republisher.md has the numbers): pubky's pkarr-churn measurement of real
// Mainline nodes for the holder count, and BEP 44's item lifetime (2 h, which this project's own DHT nodes enforce)
// for the interval.

using System.Globalization;

namespace Pkarr.Client.Republishing;

/// <summary>Settings of a <see cref="Republisher"/>. Every default says where it comes from.</summary>
public sealed class RepublisherOptions
{
    /// <summary>
    /// How often each key is republished. Default 1 h. pubky's pkarr-churn study measured that a packet put on 17
    /// nodes stays resolvable for about 30 h with at least 99.9 % probability, but that is survival against nodes
    /// leaving the network on nodes that never expire items (the reference and libtorrent by default). BEP 44 lets
    /// a storage node drop an item 2 h after its last put, and this project's own nodes do
    /// (<c>ServerSettings.ItemLifetime</c>): only a put refreshes that clock, so a key must be put again well inside
    /// 2 h. One hour (BEP 44's and the pkarr docs' advice) leaves a margin for jitter and for a cycle whose puts
    /// all failed. The 30 h figure remains what the holder minimum buys: if this republisher stops, its keys
    /// outlive it by about a day on non-expiring nodes. Raise the interval towards 30 h only on a network known to
    /// keep items without time limit.
    /// </summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// The number of DHT nodes that must hold a key's current packet after a put; below it the put is retried with
    /// backoff. Default 17: the pkarr-churn study's lowest replication that keeps a packet resolvable for ~30 h
    /// with ≥ 99.9 % probability under the 99 %-confidence worst-case fit of measured node churn. Mainline puts
    /// go to the 20 closest nodes, so 17 tolerates three that refuse or did not answer.
    /// </summary>
    public int MinimumHolders { get; set; } = 17;

    /// <summary>Keys republished at once. Default 16: each key is a few DHT lookups of up to ~20 requests in flight,
    /// so 16 keys keep a few hundred requests in flight, which a DHT node handles without the losses that bursts of
    /// thousands cause on home routers.</summary>
    public int MaxConcurrency { get; set; } = 16;

    /// <summary>
    /// The fraction by which each key's next due time varies around <see cref="Interval"/>, uniformly in
    /// [Interval × (1 − Jitter), Interval × (1 + Jitter)]. Default 0.1: enough for keys added together to drift
    /// apart within a few cycles, small enough that the longest gap between two puts (1.1 h by default) stays
    /// well inside the 2 h item lifetime. Must be in [0, 0.5].
    /// </summary>
    public double Jitter { get; set; } = 0.1;

    /// <summary>The wait before the first retry of a key whose put failed or reached too few holders; each further
    /// retry waits twice as long, up to <see cref="MaxBackoff"/>. Default 5 s: past a burst of lost UDP datagrams.</summary>
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest wait between two attempts. Default 5 min, so that a key's attempts end well inside one
    /// interval.</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Puts per key per cycle, the first included. Default 4 (waits 5 s, 10 s, 20 s): a node set that stays
    /// below the minimum after that is reported as <see cref="RepublishOutcome.TooFewHolders"/> and tried again next
    /// interval.</summary>
    public int MaxAttempts { get; set; } = 4;

    /// <summary>
    /// A JSON file that keeps the key set (public keys, the paths of secret-key files given to
    /// <see cref="Republisher.AddSecretFile"/>, and each key's latest signed packet) across restarts, written
    /// atomically (a temporary file, then a rename). Null (default): the key set lives in memory only. Secret keys
    /// are never written to it.
    /// </summary>
    public string? KeySetPath { get; set; }

    /// <summary>
    /// For keys whose secret the republisher holds: re-sign the packet (same records, a new timestamp) when its
    /// timestamp is older than this. Default null: never by age. An unchanged packet is accepted by every node
    /// that holds it or nothing (BEP 44: an equal seq with an equal value refreshes), keeps caches', relays' and
    /// compare-and-swap users' view stable, and cannot hide a concurrent edit made elsewhere, which a fresh
    /// timestamp could. Whatever this setting, a held key is re-signed when nodes refuse the unchanged packet
    /// although the network holds nothing newer (nodes that answer 302 to an equal seq, as webtorrent's do).
    /// </summary>
    public TimeSpan? ResignAfter { get; set; }

    /// <summary>The settings that break a rule, one message each, naming the setting; empty when all are valid.</summary>
    public IReadOnlyList<string> Failures()
    {
        var failures = new List<string>();
        void Fail(FormattableString message) => failures.Add(message.ToString(CultureInfo.InvariantCulture));

        if (Interval <= TimeSpan.Zero)
        {
            Fail($"Pkarr:Republisher:Interval must be positive; it is {Interval}.");
        }

        if (MinimumHolders < 0)
        {
            Fail($"Pkarr:Republisher:MinimumHolders must be 0 or more; it is {MinimumHolders}.");
        }

        if (MaxConcurrency < 1)
        {
            Fail($"Pkarr:Republisher:MaxConcurrency must be at least 1; it is {MaxConcurrency}.");
        }

        if (double.IsNaN(Jitter) || Jitter < 0 || Jitter > 0.5)
        {
            Fail($"Pkarr:Republisher:Jitter must be between 0 and 0.5; it is {Jitter}.");
        }

        if (InitialBackoff < TimeSpan.Zero || MaxBackoff < InitialBackoff)
        {
            Fail($"Pkarr:Republisher: InitialBackoff ({InitialBackoff}) must be 0 or more and at most MaxBackoff ({MaxBackoff}).");
        }

        if (MaxAttempts < 1)
        {
            Fail($"Pkarr:Republisher:MaxAttempts must be at least 1; it is {MaxAttempts}.");
        }

        if (ResignAfter is { } age && age <= TimeSpan.Zero)
        {
            Fail($"Pkarr:Republisher:ResignAfter must be positive or absent; it is {age}.");
        }

        if (KeySetPath is { Length: 0 })
        {
            Fail($"Pkarr:Republisher:KeySetPath is empty: give a file path or leave it out.");
        }

        return failures;
    }
}
