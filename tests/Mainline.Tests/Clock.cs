using Microsoft.Extensions.Time.Testing;

namespace Mainline.Tests;

/// <summary>A fake clock for DHT nodes: moving it runs the nodes' timeouts and maintenance without waiting.</summary>
internal sealed class Clock
{
    public FakeTimeProvider Time { get; } = new();

    /// <summary>Moves the clock, then waits (a bounded number of round trips) until each node's loop has run the
    /// work due at the new time (timeouts, maintenance).</summary>
    public async Task AdvanceAsync(TimeSpan by, CancellationToken cancellationToken, params Dht[] nodes)
    {
        Time.Advance(by);
        foreach (var node in nodes)
        {
            var now = await node.Node.InvokeAsync(() => node.Node.Now, cancellationToken);
            var ticked = false;
            for (var attempt = 0; attempt < 200 && !ticked; attempt++)
            {
                ticked = await node.Node.InvokeAsync(() => node.Node.LastTick >= now, cancellationToken);
                if (!ticked)
                {
                    await Task.Delay(5, cancellationToken);
                }
            }

            Assert.True(ticked, "the node's loop did not tick after the clock moved");
        }
    }
}
