// Proof that nothing a client sends can take the server down: 100,000 malformed and mutated queries (QueryFuzzer,
// fixed seed) over UDP, then the same corpus over TCP on a few connections, against a running server; every reply
// must parse, answer a query that was sent and carry an RCODE a server may give a bad query; afterwards ordinary
// queries are still answered correctly. And the per-client query limit answers REFUSED beyond its burst.

using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Pkarr.Dns;
using Pkarr.Keys;
using Pkarr.Packets;
using Xunit.Abstractions;

namespace Pkarr.DnsServer.Tests.Tools;

[Collection(ToolsCollection.Name)]
public sealed class FuzzProofTests(ToolsFixture fixture, ITestOutputHelper output)
{
    private const int CorpusSize = 100_000;

    // BADVERS (16) is the right answer to a mutated EDNS version (RFC 6891 §6.1.3).
    private static readonly HashSet<int> AllowedRcodes = [RawDns.NoError, RawDns.FormErr, RawDns.ServFail, RawDns.NxDomain, RawDns.NotImp, RawDns.Refused, RawDns.BadVers];

    [Fact]
    public async Task A_hundred_thousand_malformed_queries_over_udp_and_tcp_leave_it_answering()
    {
        await using var server = await ToolsFixture.StartServerAsync(fixture.Unbound.EndPoint, _ => { });
        using var keypair = Keypair.Random();
        string key = keypair.PublicKey.ToZ32();
        await ToolsFixture.PublishAsync(server, [SignedPacket.Builder().A("www", IPAddress.Parse("192.0.2.7"), ProofZones.Ttl).Txt("@", "fuzz", ProofZones.Ttl).Sign(keypair)]);
        await RawDns.UntilAnsweredAsync(server.UdpEndPoint, $"www.{key}", RecordType.A);

        string[] names = [$"www.{key}", $"www.{key}.key", $"*.{key}.key", key.ToUpperInvariant(), $"a.b.c.{key}.example.net", $"www.{UnboundServer.Zone}", "x.nx.test", "example.org"];
        var corpus = QueryFuzzer.Corpus(seed: 13, CorpusSize, names);
        var sentIds = corpus.Where(m => m.Length >= 2).Select(m => BinaryPrimitives.ReadUInt16BigEndian(m)).ToHashSet();

        var udp = await SendUdpAsync(server.UdpEndPoint, corpus);
        output.WriteLine($"UDP: {udp.Sent} sent in {udp.Elapsed.TotalSeconds:F1} s, {udp.Replies.Count} replies");
        Assert.Equal(CorpusSize, udp.Sent);
        await AssertAnsweringAsync(server, key);

        var tcp = await SendTcpAsync(server.TcpEndPoint, corpus, connections: 4, TimeSpan.FromSeconds(40));
        output.WriteLine($"TCP: {tcp.Sent} sent in {tcp.Elapsed.TotalSeconds:F1} s on {tcp.Connections} connections, {tcp.Replies.Count} replies");
        await AssertAnsweringAsync(server, key);

        var failures = new List<string>();
        foreach (var reply in udp.Replies.Concat(tcp.Replies))
        {
            if (!DnsMessage.TryParse(reply, out var message, out var error))
            {
                failures.Add($"unparsable ({error}): {Convert.ToHexString(reply)}");
            }
            else if ((message.Flags & 0x8000) == 0 || !AllowedRcodes.Contains(RawDns.Rcode(message)) || !sentIds.Contains(message.Id))
            {
                failures.Add($"flags {message.Flags:X4} rcode {RawDns.Rcode(message)} id {message.Id}: {Convert.ToHexString(reply)}");
            }

            if (failures.Count >= 20)
            {
                break;
            }
        }

        Assert.True(failures.Count == 0, "bad replies:\n" + string.Join("\n", failures));

        // The unchanged queries alone (a twelfth of the corpus) are answered: the server did work, not just survive.
        Assert.True(udp.Replies.Count >= CorpusSize / 20, $"only {udp.Replies.Count} UDP replies to {CorpusSize} queries");
        Assert.True(tcp.Sent >= CorpusSize / 5, $"only {tcp.Sent} TCP messages sent within the time bound");
        Assert.True(tcp.Replies.Count >= tcp.Sent / 20, $"only {tcp.Replies.Count} TCP replies to {tcp.Sent} queries");
    }

    [Fact]
    public async Task The_query_rate_limit_refuses_beyond_its_burst_and_keeps_the_id()
    {
        await using var server = await ToolsFixture.StartServerAsync(fixture.Unbound.EndPoint, options =>
        {
            options.Dns.QueryRateLimit = 5;
            options.Dns.QueryRateLimitBurst = 5;
        });

        // 5 per second with a burst of 5: of 20 queries sent within a few milliseconds, 5 are answered (one more for
        // each 200 ms the sending took) and the rest REFUSED. A slow moment is retried after the bucket refills.
        for (int attempt = 0; ; attempt++)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var clock = Stopwatch.StartNew();
            for (ushort id = 1; id <= 20; id++)
            {
                await socket.SendToAsync(RawDns.Query(id, $"www.{UnboundServer.Zone}", RecordType.A), server.UdpEndPoint);
            }

            var sending = clock.Elapsed;
            var replies = await ReceiveAsync(socket, 20, TimeSpan.FromSeconds(10));
            int refused = replies.Count(r => RawDns.Rcode(r) == RawDns.Refused);
            int answered = replies.Count(r => RawDns.Rcode(r) == RawDns.NoError);
            if (sending > TimeSpan.FromMilliseconds(150) && attempt < 3)
            {
                await Task.Delay(1500);
                continue;
            }

            Assert.Equal(20, replies.Count);
            Assert.Equal(Enumerable.Range(1, 20).Select(i => (ushort)i), replies.Select(r => r.Id).Order());
            Assert.InRange(answered, 5, 5 + (int)(sending.TotalMilliseconds / 200) + 1);
            Assert.Equal(20 - answered, refused);
            Assert.All(replies.Where(r => RawDns.Rcode(r) == RawDns.Refused), r => Assert.Equal($"www.{UnboundServer.Zone}", r.Questions.Single().Name.ToString().TrimEnd('.')));
            break;
        }

        // The bucket refills: a second later the same client is answered again.
        await Task.Delay(1200);
        var later = await RawDns.UdpRequiredAsync(server.UdpEndPoint, RawDns.Query(99, $"www.{UnboundServer.Zone}", RecordType.A));
        Assert.Equal(RawDns.NoError, RawDns.Rcode(later));
    }

    private static async Task AssertAnsweringAsync(DnsServer server, string key)
    {
        var reply = await RawDns.UdpRequiredAsync(server.UdpEndPoint, RawDns.Query(4321, $"www.{key}.key", RecordType.A));
        Assert.Equal(RawDns.NoError, RawDns.Rcode(reply));
        Assert.Equal("192.0.2.7", Assert.Single(reply.Answers).Data.ToString());
        var tcp = await RawDns.TcpAsync(server.TcpEndPoint, RawDns.Query(4322, $"www.{UnboundServer.Zone}", RecordType.A));
        Assert.Equal(UnboundServer.WwwA, Assert.Single(tcp.Answers).Data.ToString());
    }

    private static async Task<List<DnsMessage>> ReceiveAsync(Socket socket, int count, TimeSpan timeout)
    {
        var replies = new List<DnsMessage>();
        var buffer = new byte[65535];
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            while (replies.Count < count)
            {
                var received = await socket.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), deadline.Token);
                Assert.True(DnsMessage.TryParse(buffer.AsSpan(0, received.ReceivedBytes), out var reply, out var error), error.ToString());
                replies.Add(reply);
            }
        }
        catch (OperationCanceledException)
        {
            // Fewer replies than queries: the caller's assertion says so.
        }

        return replies;
    }

    private sealed record Run(int Sent, List<byte[]> Replies, TimeSpan Elapsed, int Connections = 1);

    // Sends in batches of 256 and lets the receiver drain between batches, so the socket buffers rarely overflow.
    private static async Task<Run> SendUdpAsync(IPEndPoint server, List<byte[]> corpus)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveBufferSize = 4 << 20 };
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var replies = new List<byte[]>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var receiver = Task.Run(async () =>
        {
            var buffer = new byte[65535];
            try
            {
                while (true)
                {
                    var received = await socket.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), stop.Token);
                    lock (replies)
                    {
                        replies.Add(buffer[..received.ReceivedBytes]);
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (SocketException)
            {
                // ICMP errors surface here on Linux; the server side is checked by the answers after the run.
            }
        });

        var clock = Stopwatch.StartNew();
        int sent = 0;
        foreach (var chunk in corpus.Chunk(256))
        {
            foreach (byte[] message in chunk)
            {
                await socket.SendToAsync(message, server);
                sent++;
            }

            await Task.Delay(1);
            if (clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                break;
            }
        }

        // What is still on its way (forwarded names take a round trip to unbound).
        await Task.Delay(1500);
        await stop.CancelAsync();
        await receiver;
        lock (replies)
        {
            return new Run(sent, [.. replies], clock.Elapsed);
        }
    }

    // Each connection sends its share of the corpus, framed (RFC 1035 §4.2.2), pipelined 16 at a time and each batch
    // followed by a sentinel query whose reply paces the sender to the server. When the server closes the connection
    // (as it may after a bad message) before the sentinel's reply, the batch is sent again one message at a time on
    // new connections, so that every message of the corpus is read by the server.
    private static async Task<Run> SendTcpAsync(IPEndPoint server, List<byte[]> corpus, int connections, TimeSpan bound)
    {
        var clock = Stopwatch.StartNew();
        var replies = new List<byte[]>();
        int sent = 0;
        int opened = 0;
        var share = corpus.Chunk((corpus.Count + connections - 1) / connections).ToArray();
        await Task.WhenAll(share.Select(part => Task.Run(async () =>
        {
            TcpSession? session = null;
            try
            {
                foreach (byte[][] batch in part.Chunk(16))
                {
                    if (clock.Elapsed > bound)
                    {
                        break;
                    }

                    session ??= await TcpSession.OpenAsync(server, replies, ref opened);
                    if (!await session.SendAsync(batch))
                    {
                        await session.DisposeAsync();
                        session = null;
                        foreach (byte[] message in batch)
                        {
                            session ??= await TcpSession.OpenAsync(server, replies, ref opened);
                            if (!await session.SendAsync([message]))
                            {
                                await session.DisposeAsync();
                                session = null;
                            }
                        }
                    }

                    Interlocked.Add(ref sent, batch.Length);
                }
            }
            finally
            {
                if (session is not null)
                {
                    await session.DisposeAsync();
                }
            }
        })));
        return new Run(sent, replies, clock.Elapsed, opened);
    }

    private sealed class TcpSession : IAsyncDisposable
    {
        private const string SentinelName = "sentinel.example.test";
        private readonly TcpClient _client;
        private readonly NetworkStream _stream;
        private readonly List<byte[]> _replies;
        private readonly Task _reader;
        private readonly CancellationTokenSource _closing = new();
        private TaskCompletionSource<bool> _sentinel = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private ushort _sentinelId;

        private TcpSession(TcpClient client, List<byte[]> replies)
        {
            _client = client;
            _stream = client.GetStream();
            _replies = replies;
            _reader = ReadAsync();
        }

        public static Task<TcpSession> OpenAsync(IPEndPoint server, List<byte[]> replies, ref int opened)
        {
            Interlocked.Increment(ref opened);
            return OpenAsync(server, replies);
        }

        private static async Task<TcpSession> OpenAsync(IPEndPoint server, List<byte[]> replies)
        {
            var client = new TcpClient(AddressFamily.InterNetwork) { NoDelay = true };
            await client.ConnectAsync(server);
            return new TcpSession(client, replies);
        }

        /// <summary>Sends the messages and a sentinel; true when the sentinel's reply came, false when the
        /// connection ended (or stalled for 5 s) first.</summary>
        public async Task<bool> SendAsync(IReadOnlyList<byte[]> messages)
        {
            _sentinelId++;
            var sentinel = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _sentinel, sentinel);
            if (_reader.IsCompleted)
            {
                return false;
            }

            var frames = new List<byte>();
            foreach (byte[] message in messages.Append(RawDns.Query(_sentinelId, SentinelName, RecordType.A)))
            {
                frames.Add((byte)(message.Length >> 8));
                frames.Add((byte)message.Length);
                frames.AddRange(message);
            }

            try
            {
                await _stream.WriteAsync(frames.ToArray());
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
            {
                return false;
            }

            var done = await Task.WhenAny(sentinel.Task, Task.Delay(5000));
            return done == sentinel.Task && sentinel.Task.Result;
        }

        public async ValueTask DisposeAsync()
        {
            await _closing.CancelAsync();
            _client.Dispose();
            await _reader;
            _closing.Dispose();
        }

        private async Task ReadAsync()
        {
            var length = new byte[2];
            try
            {
                while (true)
                {
                    await _stream.ReadExactlyAsync(length, _closing.Token);
                    var reply = new byte[BinaryPrimitives.ReadUInt16BigEndian(length)];
                    await _stream.ReadExactlyAsync(reply, _closing.Token);
                    if (DnsMessage.TryParse(reply, out var message, out _) && message.Questions.Count == 1
                        && message.Questions[0].Name.ToString().TrimEnd('.') == SentinelName)
                    {
                        if (message.Id == _sentinelId)
                        {
                            Volatile.Read(ref _sentinel).TrySetResult(true);
                        }

                        continue;
                    }

                    lock (_replies)
                    {
                        _replies.Add(reply);
                    }
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or EndOfStreamException or ObjectDisposedException or SocketException)
            {
                // The connection ended.
            }
            finally
            {
                Volatile.Read(ref _sentinel).TrySetResult(false);
            }
        }
    }
}
