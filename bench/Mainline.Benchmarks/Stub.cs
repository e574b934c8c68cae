namespace Mainline.Benchmarks;

internal static class LookupBench
{
    public static Task<int> RunAsync(string[] args) => Task.FromResult(2);
}

internal static class ScaleBench
{
    public static Task<int> RunAsync(string[] args) => Task.FromResult(2);
}
