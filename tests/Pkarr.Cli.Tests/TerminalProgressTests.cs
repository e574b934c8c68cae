using Microsoft.Extensions.Time.Testing;

namespace Pkarr.Cli.Tests;

public sealed class TerminalProgressTests
{
    private static CliConsole Console(StringWriter error, bool terminal) =>
        new(new StringWriter(), error, () => new MemoryStream(), () => new MemoryStream()) { ErrorIsTerminal = terminal };

    [Fact]
    public async Task On_a_terminal_it_redraws_the_elapsed_time_in_place_and_erases_the_line()
    {
        var error = new StringWriter();
        var time = new FakeTimeProvider();
        var progress = TerminalProgress.Start(Console(error, terminal: true), "publishing k", time);
        Assert.NotNull(progress);
        Assert.Equal("\r| publishing k 0.0 s", error.ToString());

        // One tick at a time: the redraws run on the thread pool, so each is awaited (bounded) before the next.
        time.Advance(TimeSpan.FromMilliseconds(100));
        await Drawn(error, "0.1 s");
        time.Advance(TimeSpan.FromMilliseconds(100));
        await Drawn(error, "0.2 s");

        await progress.DisposeAsync();
        string drawn = error.ToString();
        Assert.StartsWith("\r| publishing k 0.0 s\r/ publishing k 0.1 s\r- publishing k 0.2 s", drawn, StringComparison.Ordinal);
        Assert.EndsWith("\r\u001b[2K", drawn, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', drawn);
    }

    private static async Task Drawn(StringWriter error, string text)
    {
        for (int i = 0; i < 500 && !error.ToString().Contains(text, StringComparison.Ordinal); i++)
        {
            await Task.Delay(10);
        }
    }

    [Fact]
    public void Redirected_standard_error_gets_nothing()
    {
        var error = new StringWriter();
        Assert.Null(TerminalProgress.Start(Console(error, terminal: false), "publishing k", new FakeTimeProvider()));
        Assert.Equal("", error.ToString());
    }
}
