using BenchmarkDotNet.Running;
using Pkarr.Benchmarks;

// "count METHOD SIZE ITERATIONS" runs one benchmark method a fixed number of times without BenchmarkDotNet, for
// instruction counting under callgrind (bench/scripts/callgrind_ratio.sh), which repeats where timings on this
// shared virtual machine do not.
if (args is ["count", var method, var size, var iterations])
{
    return InstructionCount.Run(method, size, int.Parse(iterations, System.Globalization.CultureInfo.InvariantCulture));
}

if (args is ["paired", var a, var b, var pairedSize, .. var rest])
{
    return PairedRatio.Run(a, b, pairedSize, rest is [var r] ? int.Parse(r, System.Globalization.CultureInfo.InvariantCulture) : 400);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
