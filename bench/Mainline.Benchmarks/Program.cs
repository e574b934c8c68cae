// Mainline DHT benchmarks.
//   dotnet run -c Release --project bench/Mainline.Benchmarks -- --filter '*Decoder*'   (BenchmarkDotNet)
//   dotnet run -c Release --project bench/Mainline.Benchmarks -- lookup --nodes 200 --rounds 20
//   dotnet run -c Release --project bench/Mainline.Benchmarks -- scale --nodes 1000
using BenchmarkDotNet.Running;
using Mainline.Benchmarks;

return args.FirstOrDefault() switch
{
    "lookup" => await LookupBench.RunAsync(args[1..]),
    "scale" => await ScaleBench.RunAsync(args[1..]),
    "client-get" => await ClientProcess.RunAsync(args[1..]),
    _ => RunBenchmarkDotNet(args),
};

static int RunBenchmarkDotNet(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(DecoderBenchmarks).Assembly).Run(args);
    return 0;
}
