namespace Pkarr.Cli;

/// <summary>Where a command reads and writes; tests pass their own writers and streams.</summary>
/// <param name="Out">Standard output for text.</param>
/// <param name="Error">Standard error: diagnostics and one-line errors.</param>
/// <param name="OpenInput">Opens standard input as bytes.</param>
/// <param name="OpenOutput">Opens standard output as bytes, for binary output.</param>
internal sealed record CliConsole(TextWriter Out, TextWriter Error, Func<Stream> OpenInput, Func<Stream> OpenOutput)
{
    /// <summary>True when standard error is a terminal, the only place where progress is drawn; false in tests
    /// and when standard error is redirected to a file or pipe.</summary>
    internal bool ErrorIsTerminal { get; init; }

    /// <summary>Runs a command body, turning user mistakes into a one-line error and exit code 1 (never a stack trace).</summary>
    internal int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception error) when (IsUserError(error))
        {
            Fail(error.Message);
            return 1;
        }
    }

    /// <summary>Writes <c>error: message</c> to standard error.</summary>
    internal void Fail(string message) => Error.WriteLine($"error: {message}");

    private static bool IsUserError(Exception error) => error is IOException or UnauthorizedAccessException
        or FormatException or ArgumentException or InvalidDataException or NotSupportedException;
}
