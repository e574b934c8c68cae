using System.CommandLine;

namespace Pkarr.Cli;

/// <summary>The root of the <c>pkarr</c> command line.</summary>
internal static class PkarrCommand
{
    internal static Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("Pkarr: public-key addressable resource records.");
        return root.Parse(args).InvokeAsync();
    }
}
