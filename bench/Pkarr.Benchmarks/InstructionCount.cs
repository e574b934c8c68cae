// Runs one SignedPacketBenchmarks method a fixed number of times. The difference in instructions between two
// counts (N and 2N, say) is the cost of N calls, with start-up, set-up and JIT compilation cancelled out.

namespace Pkarr.Benchmarks;

internal static class InstructionCount
{
    public static int Run(string method, string size, int iterations)
    {
        var benchmarks = new SignedPacketBenchmarks { Size = size };
        benchmarks.Setup();
        var call = Method(benchmarks, method);

        // The same warm-up in every run, so that it cancels out of a difference.
        for (int i = 0; i < 50; i++)
        {
            GC.KeepAlive(call());
        }

        for (int i = 0; i < iterations; i++)
        {
            GC.KeepAlive(call());
        }

        benchmarks.Cleanup();
        return 0;
    }

    /// <summary>A benchmark method by its short name.</summary>
    public static Func<object> Method(SignedPacketBenchmarks benchmarks, string method) => method switch
    {
        "build-sign" => benchmarks.BuildAndSign,
        "sign-filled" => benchmarks.SignFilledBuilder,
        "fill" => benchmarks.FillBuilder,
        "raw-sign" => benchmarks.RawSign,
        "decode-verify" => benchmarks.DecodeAndVerify,
        "raw-verify" => () => benchmarks.RawVerify(),
        "encode" => () => benchmarks.EncodeOnly(),
        "encode-filled" => () => benchmarks.EncodeFilledBuilder(),
        _ => throw new ArgumentException($"unknown method {method}: build-sign, sign-filled, fill, raw-sign, decode-verify, raw-verify, encode, encode-filled"),
    };
}
