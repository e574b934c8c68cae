using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using Microsoft.Data.Sqlite;
using Pkarr.Client.Caching;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Tests.Caching;

/// <summary>
/// A process writing to the SQLite cache is killed with SIGKILL in the middle of its writes; the file it leaves is
/// reopened: nothing corrupt, and no key older than the last write the process acknowledged.
/// </summary>
public sealed class SqliteKillTests : IDisposable
{
    private const int Keys = 8;

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "pkarr-sqlite-kill-tests", Guid.NewGuid().ToString("N"));

    private string FilePath => Path.Combine(_directory, "cache.db");

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_writer_killed_mid_write_leaves_a_sound_file_with_every_acknowledged_write()
    {
        // Each run writes over the same file from a higher first timestamp, after a different time of writing.
        int[] killDelaysMilliseconds = [0, 120, 400];
        var acknowledged = new Dictionary<string, ulong>();
        for (int run = 0; run < killDelaysMilliseconds.Length; run++)
        {
            ulong first = (ulong)(run + 1) * 1_000_000_000;
            var lines = await RunAndKill(first, killDelaysMilliseconds[run]);
            foreach (string line in lines)
            {
                string[] parts = line.Split(' ');
                Assert.True(parts is ["ack", _, _], $"unexpected line '{line}'");
                ulong timestamp = ulong.Parse(parts[2], CultureInfo.InvariantCulture);
                Assert.True(timestamp >= first, $"run {run} acknowledged {timestamp}, below its first timestamp {first}");
                acknowledged[parts[1]] = Math.Max(acknowledged.GetValueOrDefault(parts[1]), timestamp);
            }

            await AssertSound(acknowledged, run);
        }
    }

    // Starts the writer, lets it acknowledge some writes, waits the delay and kills it; returns its complete lines.
    private async Task<List<string>> RunAndKill(ulong first, int delayMilliseconds)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var child = StartWriter(first);
        var output = new StringBuilder();
        var stderr = child.StandardError.ReadToEndAsync(timeout.Token);
        var stdout = Collect(child.StandardOutput, output, timeout.Token);

        // At least one write per key has been acknowledged before the kill, so every key is checked.
        while (CompleteLines(output).Count < 2 * Keys)
        {
            Assert.False(child.HasExited, $"the writer exited with {(child.HasExited ? child.ExitCode : 0)} before the kill: {await Describe(stderr)}");
            await Task.Delay(10, timeout.Token);
        }

        await Task.Delay(delayMilliseconds, timeout.Token);
        Assert.False(child.HasExited, $"the writer finished before it was killed: {await Describe(stderr)}");
        child.Kill();
        await child.WaitForExitAsync(timeout.Token);
        await stdout;
        Assert.NotEqual(0, child.ExitCode);
        return CompleteLines(output);
    }

    private async Task AssertSound(Dictionary<string, ulong> acknowledged, int run)
    {
        // The file as the killed process left it, before anything of ours opens it: SQLite recovers from the WAL here.
        using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = FilePath, Pooling = false }.ToString()))
        {
            connection.Open();
            using var check = connection.CreateCommand();
            check.CommandText = "PRAGMA integrity_check";
            Assert.Equal("ok", check.ExecuteScalar());

            using var rows = connection.CreateCommand();
            rows.CommandText = "SELECT key, packet FROM packets";
            using var reader = rows.ExecuteReader();
            int count = 0;
            while (reader.Read())
            {
                count++;
                byte[] key = (byte[])reader.GetValue(0);
                Assert.True(CachedPacket.TryDeserialize((byte[])reader.GetValue(1), out var entry, out var error), $"run {run}: {error.Message}");
                Assert.Equal(key, entry.Packet.PublicKey.Bytes.ToArray());
            }

            Assert.Equal(Keys, count);
        }

        await using var cache = SqlitePkarrCache.Open(FilePath, 2 * Keys);
        foreach (var (name, timestamp) in acknowledged)
        {
            var held = await cache.PeekAsync(PublicKey.Parse(name));
            Assert.NotNull(held);
            Assert.True(held.Packet.Timestamp.Microseconds >= timestamp, $"run {run}: {name} holds {held.Packet.Timestamp.Microseconds}, acknowledged {timestamp}");
        }

        Assert.Equal(Keys, acknowledged.Count);
    }

    private Process StartWriter(ulong first)
    {
        string directory = typeof(SqliteKillTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(attribute => attribute.Key == "CacheWriterDirectory").Value!;
        string writer = Path.Combine(directory, "Pkarr.Client.CacheWriter.dll");
        Assert.True(File.Exists(writer), $"the cache writer is not built at {writer}");

        // The host that runs the tests runs the writer too; the SDK names it when it starts the test host.
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path ? path : "dotnet";
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in (string[])[writer, FilePath, Keys.ToString(CultureInfo.InvariantCulture), first.ToString(CultureInfo.InvariantCulture), "100000", "60"])
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start);
        Assert.NotNull(process);
        return process;
    }

    private static async Task Collect(StreamReader reader, StringBuilder output, CancellationToken cancellationToken)
    {
        char[] buffer = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(buffer, cancellationToken)) > 0)
        {
            lock (output)
            {
                output.Append(buffer, 0, read);
            }
        }
    }

    // Only lines ended by a newline: a line cut by the kill was never acknowledged in full.
    private static List<string> CompleteLines(StringBuilder output)
    {
        string text;
        lock (output)
        {
            text = output.ToString();
        }

        int end = text.LastIndexOf('\n');
        return end < 0 ? [] : [.. text[..end].Split('\n')];
    }

    private static async Task<string> Describe(Task<string> stderr) =>
        stderr.IsCompleted ? await stderr : "(no error output yet)";
}
