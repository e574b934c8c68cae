// src/Mainline keeps its decoders internal and grants InternalsVisibleTo only to Mainline.Tests and
// Pkarr.Benchmarks, so this project reaches them through compiled expression trees (no reflection per call:
// each accessor is a plain delegate, its cost is one indirect call, measured by the Baseline benchmark).
using System.Linq.Expressions;
using System.Reflection;

namespace Mainline.Benchmarks;

internal static class Internals
{
    private static readonly Assembly Lib = typeof(Mainline.Dht).Assembly;

    /// <summary>BencodeReader.TryDecode(ReadOnlyMemory&lt;byte&gt;, out BValue?) → (ok, value).</summary>
    public static readonly Func<ReadOnlyMemory<byte>, object?> BencodeDecode = BuildTryCall("Mainline.Bencode.BencodeReader", "TryDecode");

    /// <summary>KrpcCodec.TryDecode(ReadOnlyMemory&lt;byte&gt;, out Message?) → (status as int, message).</summary>
    public static readonly Func<ReadOnlyMemory<byte>, object?> KrpcDecode = BuildTryCall("Mainline.Krpc.KrpcCodec", "TryDecode");

    /// <summary>KrpcCodec.TryDecode's status for a datagram ("Ok" when it parsed).</summary>
    public static string KrpcStatus(ReadOnlyMemory<byte> datagram)
    {
        var method = Lib.GetType("Mainline.Krpc.KrpcCodec", throwOnError: true)!
            .GetMethod("TryDecode", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)!;
        var args = new object?[] { datagram, null };
        return method.Invoke(null, args)!.ToString()!;
    }

    // Builds: (ReadOnlyMemory<byte> input) => { T? v; var ok = Type.Method(input, out v); return ok-ish ? v : null; }
    // The returned object is the decoded value (null on failure), so the benchmark consumes the result.
    private static Func<ReadOnlyMemory<byte>, object?> BuildTryCall(string typeName, string methodName)
    {
        var type = Lib.GetType(typeName, throwOnError: true)!;
        var method = type.GetMethod(methodName, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static,
            [typeof(ReadOnlyMemory<byte>), type.Assembly.GetType(OutTypeOf(typeName), throwOnError: true)!.MakeByRefType()])
            ?? throw new MissingMethodException(typeName, methodName);
        var input = Expression.Parameter(typeof(ReadOnlyMemory<byte>), "input");
        var outType = method.GetParameters()[1].ParameterType.GetElementType()!;
        var result = Expression.Variable(outType, "result");
        var body = Expression.Block(
            [result],
            Expression.Call(method, input, result),
            Expression.Convert(result, typeof(object)));
        return Expression.Lambda<Func<ReadOnlyMemory<byte>, object?>>(body, input).Compile();
    }

    private static string OutTypeOf(string typeName) =>
        typeName == "Mainline.Bencode.BencodeReader" ? "Mainline.Bencode.BValue" : "Mainline.Krpc.Message";
}
