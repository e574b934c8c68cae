// Pkarr client benchmarks (docs/benchmarks-client.md).
//   dotnet run -c Release --project bench/Pkarr.Client.Benchmarks -- --filter '*WarmResolve*'       (BenchmarkDotNet)
//   dotnet run -c Release --project bench/Pkarr.Client.Benchmarks -- miss --nodes 200 --keys 200
//   dotnet run -c Release --project bench/Pkarr.Client.Benchmarks -- paired 600           (the same ratio, interleaved)
//   dotnet run -c Release --project bench/Pkarr.Client.Benchmarks -- alloc                (bytes per warm resolve, by step)
//   dotnet run -c Release --project bench/Pkarr.Client.Benchmarks -- republish --nodes 200 --keys 1000 --concurrency 16
//   dotnet run -c Release --project bench/Pkarr.Client.Benchmarks -- republisher --nodes 200 --keys 1000
using BenchmarkDotNet.Running;
using Pkarr.Client.Benchmarks;

return args.FirstOrDefault() switch
{
    "miss" => await MissBench.RunAsync(args[1..]),
    "republish" => await RepublishBench.RunAsync(args[1..]),
    "republisher" => await RepublisherBench.RunAsync(args[1..]),
    "alloc" => AllocationBreakdown.Run(),
    "paired" => PairedWarmResolve.Run(args is [_, var rounds] ? int.Parse(rounds, System.Globalization.CultureInfo.InvariantCulture) : 600),
    _ => RunBenchmarkDotNet(args),
};

static int RunBenchmarkDotNet(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(WarmResolveBenchmarks).Assembly).Run(args);
    return 0;
}
