using Mainline.Simulation;

namespace Mainline.Simulation.Tests;

/// <summary>A millisecond's events on two threads give the run of one thread, bit for bit.</summary>
public class ParallelTests
{
    /// <summary>On "go": tells the sink its number now, asks for a timer, and asks for work after the millisecond.</summary>
    private sealed class RelayHost(Simulation simulation, uint address, int number, Host sink, List<string> log) : Host(simulation, address, default)
    {
        public override void Receive(byte[] datagram, Host from)
        {
            if (System.Text.Encoding.ASCII.GetString(datagram) == "go")
            {
                Simulation.Send(this, System.Text.Encoding.ASCII.GetBytes($"from {number}"), sink.EndPoint);
                Simulation.SetTimer(this, Simulation.Now + 5);
                Simulation.AfterMillisecond(this, () => log.Add($"after {number} at {Simulation.Now}"));
            }
        }

        public override void OnTimer() => Simulation.Send(this, System.Text.Encoding.ASCII.GetBytes($"timer {number}"), sink.EndPoint);
    }

    /// <summary>Records what arrives, with the time.</summary>
    private sealed class SinkHost(Simulation simulation, uint address, List<string> log) : Host(simulation, address, default)
    {
        public override void Receive(byte[] datagram, Host from) => log.Add($"{System.Text.Encoding.ASCII.GetString(datagram)} at {Simulation.Now}");
    }

    /// <summary>A host that fails when a datagram reaches it.</summary>
    private sealed class FailingHost(Simulation simulation, uint address) : Host(simulation, address, default)
    {
        public override void Receive(byte[] datagram, Host from) => throw new InvalidOperationException("this host fails");
    }

    /// <summary>A host that tries to add another host from inside its event.</summary>
    private sealed class AddingHost(Simulation simulation, uint address) : Host(simulation, address, default)
    {
        public override void Receive(byte[] datagram, Host from) =>
            Simulation.Add(new SinkHost(Simulation, Simulation.Addresses.Next(), []));
    }

    // Every delay is the same 20 ms: the relays' messages reach the sink in one millisecond, in the order one thread
    // would have scheduled them.
    private static readonly NetworkOptions Even = new() { RttMedianMs = 40, RttSigma = 0, AccessDelayMeanMs = 0, Loss = 0 };

    private static (List<string> Log, long ParallelMilliseconds) RunRelays(int threads)
    {
        var sim = new Simulation(3, Even) { Threads = threads, ParallelMinHosts = 0 };
        var log = new List<string>();
        var starter = sim.Add(new SinkHost(sim, sim.Addresses.Next(), []), mayBeUnresponsive: false);
        var sink = sim.Add(new SinkHost(sim, sim.Addresses.Next(), log), mayBeUnresponsive: false);
        var relays = Enumerable.Range(0, 40).Select(i => sim.Add(new RelayHost(sim, sim.Addresses.Next(), i, sink, log), mayBeUnresponsive: false)).ToList();
        sim.Schedule(100, () =>
        {
            foreach (var relay in relays)
            {
                sim.Send(starter, "go"u8.ToArray(), relay.EndPoint);
            }
        });
        sim.RunUntil(1000);
        return (log, sim.ParallelMilliseconds);
    }

    [Fact]
    public void Two_threads_schedule_in_the_order_of_one()
    {
        var (serial, none) = RunRelays(threads: 1);
        var (parallel, some) = RunRelays(threads: 2);

        // The relays are dealt into the partitions after the starter and the sink; work after the millisecond runs by
        // partition, and what they send is numbered in the order they were told.
        var expected = new List<string>();
        expected.AddRange(Enumerable.Range(0, 40).OrderBy(i => (i + 2) % Simulation.PartitionCount).ThenBy(i => i).Select(i => $"after {i} at 120"));
        expected.AddRange(Enumerable.Range(0, 40).Select(i => $"from {i} at 140"));
        expected.AddRange(Enumerable.Range(0, 40).Select(i => $"timer {i} at 145"));
        Assert.Equal(expected, serial);
        Assert.Equal(serial, parallel);
        Assert.Equal(0, none);
        Assert.True(some >= 3, $"{some} parallel milliseconds"); // the relays' "go", the sink's messages, the timers
    }

    [Fact]
    public void A_scenario_on_two_threads_is_the_scenario_on_one()
    {
        // Churn, loss, NAT, republishing and hostile nodes: every kind of event and action, on both partitions.
        var options = new ScenarioOptions
        {
            Nodes = 200,
            Lookups = 10,
            Seed = 21,
            ChurnPerHour = 0.5,
            WaitBeforeGetsMs = 10 * 60_000,
            RepublishEveryMs = 5 * 60_000,
            HostilesPerKey = 2,
            HostileBehaviour = HostileBehaviour.SeqRollback,
        };
        var reports = new List<string>();
        var parallelMilliseconds = new List<long>();
        foreach (var threads in new[] { 1, 2 })
        {
            var scenario = new Scenario(options with { Threads = threads });
            scenario.Simulation.ParallelMinHosts = 0;
            var report = scenario.RunAll();
            Assert.True(report.DepartedNodes > 0);
            Assert.True(report.HostileAnswers > 0);
            reports.Add(ReportFormat.ToJson(report with { WallS = 0, PeakRssMib = 0, EventsPerWallSecond = 0, MemoryPerNodeKib = 0 }));
            parallelMilliseconds.Add(scenario.Simulation.ParallelMilliseconds);
        }

        Assert.Equal(reports[0], reports[1]);
        Assert.Equal(0, parallelMilliseconds[0]);
        Assert.True(parallelMilliseconds[1] > 1000, $"{parallelMilliseconds[1]} parallel milliseconds");
    }

    [Fact]
    public void A_small_network_runs_on_one_thread_until_it_is_large_enough()
    {
        var scenario = new Scenario(new ScenarioOptions { Nodes = 300, Lookups = 5, Seed = 4, Threads = 2 });
        scenario.Simulation.ParallelMinHosts = 200;
        scenario.RunAll();
        var some = scenario.Simulation.ParallelMilliseconds;
        Assert.True(some > 0);

        var small = new Scenario(new ScenarioOptions { Nodes = 150, Lookups = 5, Seed = 4, Threads = 2 });
        small.Simulation.ParallelMinHosts = 200;
        small.RunAll();
        Assert.Equal(0, small.Simulation.ParallelMilliseconds);
    }

    [Fact]
    public void A_failure_on_either_thread_reaches_the_caller()
    {
        var sim = new Simulation(3, Even) { Threads = 2, ParallelMinHosts = 0 };
        var sender = sim.Add(new SinkHost(sim, sim.Addresses.Next(), []), mayBeUnresponsive: false);
        var failing = sim.Add(new FailingHost(sim, sim.Addresses.Next()), mayBeUnresponsive: false);
        sim.Send(sender, "x"u8.ToArray(), failing.EndPoint);
        var error = Assert.Throws<InvalidOperationException>(() => sim.RunUntil(1000));
        Assert.Equal("this host fails", error.Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Hosts_are_not_added_from_inside_an_event_on_any_number_of_threads(int threads)
    {
        var sim = new Simulation(3, Even) { Threads = threads, ParallelMinHosts = 0 };
        var sender = sim.Add(new SinkHost(sim, sim.Addresses.Next(), []), mayBeUnresponsive: false);
        var adding = sim.Add(new AddingHost(sim, sim.Addresses.Next()), mayBeUnresponsive: false);
        sim.Send(sender, "x"u8.ToArray(), adding.EndPoint);
        var error = Assert.Throws<InvalidOperationException>(() => sim.RunUntil(1000));
        Assert.Contains("by actions, not from a host's event", error.Message);
        Assert.Equal(2, sim.HostCount);

        // An action may.
        sim.Schedule(2000, () => sim.Add(new SinkHost(sim, sim.Addresses.Next(), [])));
        sim.RunUntil(3000);
        Assert.Equal(3, sim.HostCount);
    }
}
