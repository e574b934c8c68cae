// DNS server benchmarks (docs/benchmarks-dns.md, "Per-query cost").
//   dotnet run -c Release --project bench/Pkarr.DnsServer.Benchmarks -- --filter '*CachedQuery*'
using BenchmarkDotNet.Running;
using Pkarr.DnsServer.Benchmarks;

BenchmarkSwitcher.FromAssembly(typeof(CachedQueryBenchmarks).Assembly).Run(args);
return 0;
