// Runs Tools/dnsprobe.py (dnspython) and reads its JSON: how an independent DNS library sees our replies.

using System.Net;
using System.Text.Json;

namespace Pkarr.DnsServer.Tests.Tools;

/// <summary>One query as dnsprobe.py sends it.</summary>
internal sealed record ProbeQuery(int Id, string Name, string Type, bool Tcp = false, int? Payload = 1232, bool Rd = true);

/// <summary>One reply as dnspython parsed it (or the error that stopped it).</summary>
internal sealed record ProbeReply
{
    public int? Id { get; init; }
    public string? Name { get; init; }
    public string? Type { get; init; }
    public bool Tcp { get; init; }
    public string? Error { get; init; }
    public bool? IsResponse { get; init; }
    public string? Rcode { get; init; }
    public string[] Flags { get; init; } = [];
    public string[] Answer { get; init; } = [];
    public string[] Authority { get; init; } = [];
    public string[] Additional { get; init; } = [];
    public int Edns { get; init; }
    public int Payload { get; init; }
    public int WireLen { get; init; }
    public int RenderedLen { get; init; }

    /// <summary>The rdata of each answer line, normalised as <see cref="DigRecord.Normalize"/>.</summary>
    public IEnumerable<string> AnswerData => Answer.Select(line => DigRecord.Normalize(line.Split(' ', 5)[4]));

    public override string ToString() => JsonSerializer.Serialize(this, Dnspython.Json);
}

internal static class Dnspython
{
    internal static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = false };

    private static string Script => Path.Combine(AppContext.BaseDirectory, "Tools", "dnsprobe.py");

    /// <summary>Sends <paramref name="queries"/> to <paramref name="server"/> with dnspython; one reply per query, in order.</summary>
    public static async Task<ProbeReply[]> QueryAsync(IPEndPoint server, IReadOnlyList<ProbeQuery> queries)
    {
        string python = await ExternalTool.RequireDnspythonAsync();
        string file = Path.Combine(Path.GetTempPath(), $"pkarr-dnsprobe-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, JsonSerializer.Serialize(queries, Json));
        try
        {
            var result = await ExternalTool.RunAsync(python, [Script, "queries", server.Address.ToString(), server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), file],
                TimeSpan.FromSeconds(120));
            Assert.True(result.ExitCode == 0, result.ToString());
            var replies = JsonSerializer.Deserialize<ProbeReply[]>(result.Output, Json) ?? [];
            Assert.Equal(queries.Count, replies.Length);
            return replies;
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>Parses DNS messages (e.g. DoH bodies) with dnspython.</summary>
    public static async Task<ProbeReply[]> ParseAsync(params byte[][] messages)
    {
        string python = await ExternalTool.RequireDnspythonAsync();
        string[] files = [.. messages.Select(_ => Path.Combine(Path.GetTempPath(), $"pkarr-dnsprobe-{Guid.NewGuid():N}.bin"))];
        try
        {
            for (int i = 0; i < messages.Length; i++)
            {
                await File.WriteAllBytesAsync(files[i], messages[i]);
            }

            var result = await ExternalTool.RunAsync(python, [Script, "parse", .. files], TimeSpan.FromSeconds(60));
            Assert.True(result.ExitCode == 0, result.ToString());
            return JsonSerializer.Deserialize<ProbeReply[]>(result.Output, Json) ?? [];
        }
        finally
        {
            foreach (string file in files)
            {
                File.Delete(file);
            }
        }
    }
}
