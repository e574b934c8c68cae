using Mainline.Simulation;

namespace Mainline.Simulation.Tests;

public class SimulationTests
{
    /// <summary>Records what reaches it and when; answers "ping" with "pong".</summary>
    private sealed class RecordingHost(Simulation simulation, uint address) : Host(simulation, address, default)
    {
        public List<(long At, string Text, uint From)> Received { get; } = [];

        public List<long> Timers { get; } = [];

        public override void Receive(byte[] datagram, Host from)
        {
            var text = System.Text.Encoding.ASCII.GetString(datagram);
            Received.Add((Simulation.Now, text, from.Address));
            if (text == "ping")
            {
                Simulation.Send(this, "pong"u8.ToArray(), from.EndPoint);
            }
        }

        public override void OnTimer() => Timers.Add(Simulation.Now);
    }

    private static (Simulation Sim, RecordingHost A, RecordingHost B) Pair(NetworkOptions options, bool bUnresponsive = false)
    {
        var sim = new Simulation(5, options);
        var a = sim.Add(new RecordingHost(sim, sim.Addresses.Next()), mayBeUnresponsive: false);
        var b = sim.Add(new RecordingHost(sim, sim.Addresses.Next()), mayBeUnresponsive: false);
        b.Unresponsive = bUnresponsive;
        return (sim, a, b);
    }

    [Fact]
    public void A_datagram_arrives_after_the_modelled_delay_and_the_reply_after_the_same_again()
    {
        var (sim, a, b) = Pair(new NetworkOptions { Loss = 0 });
        sim.Send(a, "ping"u8.ToArray(), b.EndPoint);
        sim.RunUntil(60_000);
        var delay = sim.Model.DelayMs(a.Address, b.Address);
        Assert.Equal([(delay, "ping", a.Address)], b.Received);
        Assert.Equal([(2 * delay, "pong", b.Address)], a.Received);
        Assert.Equal(2, sim.Traffic.Delivered);
        Assert.Equal(60_000, sim.Now);
    }

    [Fact]
    public void Loss_drops_about_the_configured_fraction()
    {
        var (sim, a, b) = Pair(new NetworkOptions { Loss = 0.1 });
        for (var i = 0; i < 10_000; i++)
        {
            sim.Send(a, "x"u8.ToArray(), b.EndPoint);
        }

        sim.RunUntil(60_000);
        Assert.InRange(b.Received.Count, 8800, 9200);
        Assert.Equal(10_000 - b.Received.Count, sim.Traffic.Lost);
    }

    [Fact]
    public void An_unresponsive_host_drops_unsolicited_datagrams_but_gets_replies_while_its_mapping_lasts()
    {
        var (sim, a, b) = Pair(new NetworkOptions { Loss = 0, NatMappingMs = 60_000 }, bUnresponsive: true);
        sim.Send(a, "ping"u8.ToArray(), b.EndPoint);
        sim.RunUntil(10_000);
        Assert.Empty(b.Received);
        Assert.Empty(a.Received);
        Assert.Equal(1, sim.Traffic.DroppedByNat);

        // b queries a: a's answer comes in, and so does a's own query moments later.
        sim.Send(b, "ping"u8.ToArray(), a.EndPoint);
        sim.RunUntil(20_000);
        Assert.Equal(["pong"], b.Received.Select(r => r.Text));
        sim.Send(a, "hello"u8.ToArray(), b.EndPoint);
        sim.RunUntil(30_000);
        Assert.Equal(["pong", "hello"], b.Received.Select(r => r.Text));

        // After the mapping expires, a is a stranger again.
        sim.RunUntil(200_000);
        sim.Send(a, "late"u8.ToArray(), b.EndPoint);
        sim.RunUntil(210_000);
        Assert.Equal(2, b.Received.Count);
    }

    [Fact]
    public void A_departed_host_stops_answering_and_its_address_stays_silent()
    {
        var (sim, a, b) = Pair(new NetworkOptions { Loss = 0 });
        Host? departed = null;
        sim.Departed = h => departed = h;
        sim.Send(a, "ping"u8.ToArray(), b.EndPoint);
        sim.Depart(b);
        sim.RunUntil(10_000);
        Assert.Same(b, departed);
        Assert.Empty(b.Received);
        Assert.Empty(a.Received);
        Assert.Equal(1, sim.Traffic.DroppedDeparted);
        sim.Send(a, "ping"u8.ToArray(), b.EndPoint);
        Assert.Equal(1, sim.Traffic.NoHost);
        Assert.Null(sim.Find(b.Address));
        Assert.Same(a, sim.Find(a.Address));
    }

    [Fact]
    public void A_host_has_one_live_timer_an_earlier_time_replaces_a_later_one()
    {
        var (sim, a, _) = Pair(new NetworkOptions());
        sim.SetTimer(a, 500);
        sim.SetTimer(a, 300); // replaces 500
        sim.SetTimer(a, 400); // later than the live one: waits for it
        sim.RunUntil(1000);
        Assert.Equal([300], a.Timers);
        Assert.Equal(1, sim.Traffic.Timers);

        sim.SetTimer(a, long.MaxValue); // nothing due
        sim.Depart(a);
        sim.SetTimer(a, 2000);
        sim.RunUntil(3000);
        Assert.Equal([300], a.Timers);
    }

    [Fact]
    public void Actions_run_at_their_time_in_order()
    {
        var sim = new Simulation(1, new NetworkOptions());
        var log = new List<string>();
        sim.Schedule(20, () => log.Add($"b{sim.Now}"));
        sim.Schedule(10, () => log.Add($"a{sim.Now}"));
        sim.Schedule(20, () => log.Add($"c{sim.Now}"));
        Assert.True(sim.RunUntil(() => log.Count == 1, 100));
        Assert.Equal(["a10"], log);

        // The condition is asked between milliseconds: the rest of millisecond 20 runs before it holds.
        Assert.True(sim.RunUntil(() => log.Count >= 2, 100));
        Assert.Equal(["a10", "b20", "c20"], log);
        Assert.Equal(20, sim.Now);
        Assert.False(sim.RunUntil(() => log.Count == 4, 100));
        Assert.Equal(100, sim.Now);
    }

    [Fact]
    public void The_clock_moves_to_a_deadline_with_nothing_before_it_and_never_goes_back()
    {
        var sim = new Simulation(1, new NetworkOptions());
        var log = new List<long>();
        sim.RunUntil(300);
        Assert.Equal(300, sim.Now);
        sim.Schedule(50, () => log.Add(sim.Now)); // in the past: runs at the current time
        sim.Schedule(400, () => log.Add(sim.Now));
        sim.RunUntil(200);
        Assert.Equal(300, sim.Now);
        sim.RunUntil(1000);
        Assert.Equal([300, 400], log);
        Assert.Equal(1000, sim.Now);
    }

    [Fact]
    public void Work_asked_for_after_the_millisecond_runs_once_its_events_are_done()
    {
        var sim = new Simulation(1, new NetworkOptions());
        var host = sim.Add(new RecordingHost(sim, sim.Addresses.Next()), mayBeUnresponsive: false);
        var log = new List<string>();
        sim.Schedule(10, () =>
        {
            sim.AfterMillisecond(host, () => log.Add($"after{sim.Now}"));
            log.Add("first");
        });
        sim.Schedule(10, () => log.Add("second"));
        sim.Schedule(11, () => log.Add("next"));
        sim.RunUntil(100);
        Assert.Equal(["first", "second", "after10", "next"], log);

        sim.AfterMillisecond(host, () => log.Add("outside a run")); // at once
        Assert.Equal("outside a run", log[^1]);
    }
}
