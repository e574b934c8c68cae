// Helpers of the console modes: argument parsing, percentiles, process memory, a bounded clock.
using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace Mainline.Benchmarks;

internal sealed class Args(string[] args)
{
    public int Int(string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    public string Str(string name, string fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }

    public bool Flag(string name) => args.Contains(name);
}

internal static class Stats
{
    /// <summary>Nearest-rank percentile (p in 0..100) of the values; NaN when there are none.</summary>
    public static double Percentile(IReadOnlyCollection<double> values, double p)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.OrderBy(v => v).ToArray();
        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    public static double Median(IReadOnlyCollection<double> values) => Percentile(values, 50);

    public static double P90(IReadOnlyCollection<double> values) => Percentile(values, 90);

    public static string F(double v, int decimals = 1) =>
        double.IsNaN(v) ? "n/a" : v.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    /// <summary>"median / p90 (n)" of a series.</summary>
    public static string Mp(IReadOnlyCollection<double> values, int decimals = 1) =>
        $"{F(Median(values), decimals)} / {F(P90(values), decimals)} (n={values.Count})";
}

internal static class Memory
{
    /// <summary>A field of /proc/self/status in kB (VmRSS, VmHWM, Threads…); -1 when unavailable.</summary>
    public static long ProcStatus(string field)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith(field + ":", StringComparison.Ordinal))
                {
                    var parts = line[(field.Length + 1)..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return long.Parse(parts[0], CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
        }

        return -1;
    }

    public static string Snapshot(string label)
    {
        using var p = Process.GetCurrentProcess();
        p.Refresh();
        return $"{label}: VmRSS {ProcStatus("VmRSS") / 1024.0:F1} MiB, VmHWM {ProcStatus("VmHWM") / 1024.0:F1} MiB, " +
               $"WorkingSet64 {p.WorkingSet64 / 1048576.0:F1} MiB, GC heap {GC.GetTotalMemory(false) / 1048576.0:F1} MiB, " +
               $"threads {p.Threads.Count}";
    }
}

internal static class Loopback
{
    /// <summary>Options of a node on 127.0.0.1 with an OS-chosen port; loopback nodes all share one IP and one /24,
    /// so no per-source limits, reply budget or per-IP storage quotas (as the library's Testnet does).</summary>
    public static DhtOptions Options(IReadOnlyList<string> bootstrap, DhtMode mode, Func<IncomingRequest, bool>? filter = null) => new()
    {
        LoggerFactory = Environment.GetEnvironmentVariable("MAINLINE_BENCH_LOG") == "1" ? new ConsoleErrorLoggerFactory(mode.ToString()) : null,
        Bootstrap = [.. bootstrap.Select(DhtEndPoint.Parse)],
        Port = 0,
        BindAddress = IPAddress.Loopback,
        Mode = mode,
        RateLimitPerIp = 0,
        RateLimitPerSubnet = 0,
        ReplyBytesPerSecond = 0,
        Server = new ServerSettings { MaxItemsPerIp = int.MaxValue, MaxPeersPerIp = int.MaxValue },
        RequestFilter = filter,
    };

    /// <summary>Refuses any endpoint that is not 127.0.0.0/8 (belt and braces: everything here is loopback).</summary>
    public static string Check(string endPoint)
    {
        var ep = IPEndPoint.Parse(endPoint);
        if (!IPAddress.IsLoopback(ep.Address))
        {
            throw new InvalidOperationException($"refusing non-loopback endpoint {endPoint}");
        }

        return endPoint;
    }
}

/// <summary>A wall-clock budget for a whole run: loops check it and stop by themselves.</summary>
internal sealed class Budget(TimeSpan total)
{
    private readonly Stopwatch _sw = Stopwatch.StartNew();

    public bool Exhausted => _sw.Elapsed > total;

    public TimeSpan Elapsed => _sw.Elapsed;
}
