// Pkarr relay benchmarks (docs/benchmarks-relay.md; bench/relay/run.sh runs them with the documented settings).
//   dotnet run -c Release --project bench/Pkarr.Relay.Benchmarks -- get --keys 1,1000,1000000 --seconds 10
//   dotnet run -c Release --project bench/Pkarr.Relay.Benchmarks -- put --seconds 10
//   dotnet run -c Release --project bench/Pkarr.Relay.Benchmarks -- store --dir /tmp/pkarr-relay-bench --keys 1000000
// wrk comes from bench/relay/setup.sh; everything binds and talks to 127.0.0.1 only.
using Pkarr.Relay.Benchmarks;

return args.FirstOrDefault() switch
{
    "get" => await GetBench.RunAsync(args[1..]),
    "put" => await PutBench.RunAsync(args[1..]),
    "store" => await StoreBench.RunAsync(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Pkarr.Relay.Benchmarks get [--keys 1,1000,1000000] [--seconds 10] [--threads 2] [--connections 64] [--rounds 1] [--warmup 3] [--no-peer] [--hot-size N] [--dir DIR]");
    Console.Error.WriteLine("       Pkarr.Relay.Benchmarks store [--dir DIR] [--keys 1000000] [--seconds 10] [--threads 2] [--connections 64]");
    Console.Error.WriteLine("       Pkarr.Relay.Benchmarks put [--seconds 10] [--payloads 40000] [--threads 2] [--connections 32] [--raw 300]");
    return 2;
}
