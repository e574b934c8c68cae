// The simulator's command line (issue 14's contract, kept stable for checks outside the project):
//   --nodes N --lookups L --seed S [--rtt-median-ms 100] [--loss 0.01] [--unresponsive 0.2] [--churn-per-hour 0.1] --json
// prints one JSON line; without --json a readable report, with progress lines on stderr. `calibrate` prints the
// churn model fitted to pkarr-churn's survival table beside the study.
using System.CommandLine;
using Mainline.Simulation;

namespace Mainline.Simulator;

internal static class SimulatorCommand
{
    public static int Run(string[] args)
    {
        var nodes = new Option<int>("--nodes") { Description = "Nodes in the network, the bootstrap node included.", DefaultValueFactory = _ => 1000 };
        var lookups = new Option<int>("--lookups") { Description = "Mutable puts of new keys, then as many gets.", DefaultValueFactory = _ => 100 };
        var seed = new Option<ulong>("--seed") { Description = "Root seed: one seed, one run, bit for bit.", DefaultValueFactory = _ => 1 };
        var rtt = new Option<double>("--rtt-median-ms") { Description = "Median round trip between nodes (log-normal).", DefaultValueFactory = _ => 100 };
        var sigma = new Option<double>("--rtt-sigma") { Description = "Sigma of the log-normal round trip.", DefaultValueFactory = _ => 0.6 };
        var loss = new Option<double>("--loss") { Description = "Probability that a datagram is lost.", DefaultValueFactory = _ => 0.01 };
        var unresponsive = new Option<double>("--unresponsive") { Description = "Fraction of nodes behind NATs (unsolicited datagrams dropped).", DefaultValueFactory = _ => 0.2 };
        var churn = new Option<double>("--churn-per-hour") { Description = "Fraction of the nodes replaced per hour (Weibull lifetimes).", DefaultValueFactory = _ => 0.1 };
        var shape = new Option<double>("--churn-shape") { Description = "Weibull shape of node lifetimes.", DefaultValueFactory = _ => ChurnModel.DefaultShape };
        var joinRate = new Option<double>("--join-rate") { Description = "Joins per virtual second.", DefaultValueFactory = _ => 200 };
        var opsRate = new Option<double>("--ops-rate") { Description = "Puts (then gets) started per virtual second.", DefaultValueFactory = _ => 20 };
        var waitHours = new Option<double>("--wait-hours") { Description = "Virtual hours of churn between the puts and the gets.", DefaultValueFactory = _ => 0 };
        var republish = new Option<double>("--republish-minutes") { Description = "Republish every key this often during the wait (0: never).", DefaultValueFactory = _ => 0 };
        var hostiles = new Option<int>("--hostiles-per-key") { Description = "Hostile nodes placed next to each key's target after the puts.", DefaultValueFactory = _ => 0 };
        var behaviour = new Option<HostileBehaviour>("--hostile-behaviour") { Description = "How they lie.", DefaultValueFactory = _ => HostileBehaviour.Eclipse };
        var refresh = new Option<bool>("--bucket-refresh") { Description = "Nodes refresh their buckets (BEP 5); false: self-lookups only, as the reference.", DefaultValueFactory = _ => true };
        var probeSenders = new Option<bool>("--probe-query-senders") { Description = "Nodes add query senders that answer a ping; false: only responders, as the reference.", DefaultValueFactory = _ => true };
        var parallelism = new Option<int>("--lookup-parallelism") { Description = "Queries in flight per lookup (α); 0: no bound, as the reference.", DefaultValueFactory = _ => DhtOptions.DefaultLookupParallelism };
        var adaptive = new Option<bool>("--adaptive-timeouts") { Description = "Lookups stop waiting for queries past their adaptive timeout; false: each waits up to 2 s, as the reference.", DefaultValueFactory = _ => true };
        var preferFast = new Option<bool>("--prefer-fast-nodes") { Description = "Free query slots go to the fastest of the equally close nodes; false: closest first, as the reference.", DefaultValueFactory = _ => true };
        var widen = new Option<bool>("--widen-valueless-gets") { Description = "A get without a value looks past its 20 closest nodes; false: stops there, as the reference.", DefaultValueFactory = _ => true };
        var threads = new Option<int>("--threads") { Description = "Threads that run the simulation (1 or 2); the results are the same for any number.", DefaultValueFactory = _ => Environment.ProcessorCount >= 2 ? 2 : 1 };
        var json = new Option<bool>("--json") { Description = "Print one JSON line instead of a readable report." };

        var root = new RootCommand("A deterministic simulator of the Mainline DHT: N nodes join, then puts and gets of mutable items.")
        {
            nodes, lookups, seed, rtt, sigma, loss, unresponsive, churn, shape, joinRate, opsRate, waitHours, republish, hostiles, behaviour, refresh, probeSenders, parallelism, adaptive, preferFast, widen, threads, json,
        };
        root.SetAction(result =>
        {
            var asJson = result.GetValue(json);
            var options = new ScenarioOptions
            {
                Nodes = result.GetValue(nodes),
                Lookups = result.GetValue(lookups),
                Seed = result.GetValue(seed),
                Network = new NetworkOptions
                {
                    RttMedianMs = result.GetValue(rtt),
                    RttSigma = result.GetValue(sigma),
                    Loss = result.GetValue(loss),
                    Unresponsive = result.GetValue(unresponsive),
                },
                ChurnPerHour = result.GetValue(churn),
                ChurnShape = result.GetValue(shape),
                JoinsPerSecond = result.GetValue(joinRate),
                OperationsPerSecond = result.GetValue(opsRate),
                WaitBeforeGetsMs = (long)(result.GetValue(waitHours) * ChurnModel.HourMs),
                RepublishEveryMs = (long)(result.GetValue(republish) * 60_000),
                HostilesPerKey = result.GetValue(hostiles),
                HostileBehaviour = result.GetValue(behaviour),
                BucketRefresh = result.GetValue(refresh),
                ProbeQuerySenders = result.GetValue(probeSenders),
                LookupParallelism = result.GetValue(parallelism),
                AdaptiveTimeouts = result.GetValue(adaptive),
                PreferFastNodes = result.GetValue(preferFast),
                WidenValuelessGets = result.GetValue(widen),
                Threads = result.GetValue(threads),
                Progress = asJson ? null : line => Console.Error.WriteLine(line),
            };
            if (options.Nodes < 2 || options.Lookups < 0 || options.JoinsPerSecond <= 0 || options.OperationsPerSecond <= 0)
            {
                Console.Error.WriteLine("--nodes must be at least 2, --lookups not negative, the rates positive.");
                return 2;
            }

            var report = Scenario.Run(options);
            Console.Out.WriteLine(asJson ? ReportFormat.ToJson(report) : ReportFormat.ToText(report));
            return 0;
        });

        var samples = new Option<int>("--samples") { Description = "Monte Carlo samples of holder lifetimes.", DefaultValueFactory = _ => 200_000 };
        var calibrate = new Command("calibrate", "Fit the churn model to pkarr-churn's survival table and print both side by side.") { seed, samples };
        calibrate.SetAction(result =>
        {
            var calibration = Calibration.Run(result.GetValue(seed), result.GetValue(samples));
            Console.Out.Write(Calibration.Format(calibration));
            Console.Out.WriteLine();
            Console.Out.Write(Calibration.FormatHolders(calibration));
            return 0;
        });
        root.Subcommands.Add(calibrate);
        return root.Parse(args).Invoke();
    }
}
