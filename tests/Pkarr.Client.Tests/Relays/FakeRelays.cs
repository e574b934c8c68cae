// Test doubles for the relay client: an HttpMessageHandler that records every request (raw header values, body)
// and answers with a function per relay, a body stream that counts what is read from it, a logger that keeps
// its lines, and signed packets on a fixed fake clock. No socket is opened.

using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Tests.Relays;

internal sealed record RecordedRequest(HttpMethod Method, Uri Url, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string? Header(string name) => Headers.TryGetValue(name, out string? value) ? value : null;

    public string? Query(string name)
    {
        foreach (string pair in Url.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = pair.IndexOf('=');
            if (eq > 0 && Uri.UnescapeDataString(pair[..eq]) == name)
            {
                return Uri.UnescapeDataString(pair[(eq + 1)..]);
            }
        }

        return null;
    }
}

/// <summary>Answers requests by relay (scheme, host and port of the URL); unknown relays get 599.</summary>
internal sealed class FakeRelays : HttpMessageHandler
{
    private readonly ConcurrentDictionary<string, Func<RecordedRequest, CancellationToken, Task<HttpResponseMessage>>> _relays = new();

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    public FakeRelays On(Uri relay, Func<RecordedRequest, CancellationToken, Task<HttpResponseMessage>> respond)
    {
        _relays[relay.GetLeftPart(UriPartial.Authority)] = respond;
        return this;
    }

    public FakeRelays On(Uri relay, Func<RecordedRequest, HttpResponseMessage> respond) =>
        On(relay, (request, _) => Task.FromResult(respond(request)));

    /// <summary>Answers the n-th request to <paramref name="relay"/> with the n-th response (the last one repeats).</summary>
    public FakeRelays Sequence(Uri relay, params Func<HttpResponseMessage>[] responses)
    {
        int next = -1;
        return On(relay, _ => responses[Math.Min(Interlocked.Increment(ref next), responses.Length - 1)]());
    }

    public RecordedRequest[] To(Uri relay) =>
        [.. Requests.Where(r => r.Url.GetLeftPart(UriPartial.Authority) == relay.GetLeftPart(UriPartial.Authority))];

    public HttpClient Client() => new(this) { Timeout = Timeout.InfiniteTimeSpan };

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in request.Headers.NonValidated)
        {
            headers[name] = string.Join(", ", values);
        }

        byte[] body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        var recorded = new RecordedRequest(request.Method, request.RequestUri!, headers, body);
        Requests.Enqueue(recorded);
        return _relays.TryGetValue(request.RequestUri!.GetLeftPart(UriPartial.Authority), out var respond)
            ? await respond(recorded, cancellationToken)
            : new HttpResponseMessage((HttpStatusCode)599);
    }
}

/// <summary>A relay that never answers: it reports when a request arrives and when that request is cancelled.</summary>
internal sealed class SilentRelay
{
    public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task<HttpResponseMessage> Respond(RecordedRequest request, CancellationToken cancellationToken)
    {
        Started.TrySetResult();
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Cancelled.TrySetResult();
            throw;
        }

        throw new InvalidOperationException("unreachable");
    }
}

/// <summary>An endless, non-seekable body of 'A's that counts the bytes read from it; with <paramref name="failure"/>,
/// a body whose connection breaks on the first read.</summary>
internal sealed class EndlessBody(IOException? failure = null) : Stream
{
    public long BytesRead { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count)
    {
        if (failure is not null)
        {
            throw failure;
        }

        int n = Math.Min(count, 100);
        buffer.AsSpan(offset, n).Fill((byte)'A');
        BytesRead += n;
        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

internal sealed class ListLogger : ILogger
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Lines.Enqueue(formatter(state, exception));
}

internal static class TestPackets
{
    public static readonly DateTimeOffset Start = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    public static readonly byte[] Seed = Convert.FromHexString("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");

    public static Keypair Keypair() => Pkarr.Keys.Keypair.FromSecretKey(Seed);

    public static FakeTimeProvider Clock() => new(Start);

    /// <summary>A packet signed <paramref name="secondsAgo"/> before <see cref="Start"/>, TTL 300 s.</summary>
    public static SignedPacket Signed(double secondsAgo = 10, string text = "hello", uint ttl = 300)
    {
        using var keypair = Keypair();
        return SignedPacket.Builder()
            .Timestamp(Timestamp.FromDateTimeOffset(Start.AddSeconds(-secondsAgo)))
            .Txt("@", text, ttl)
            .Sign(keypair);
    }

    public static HttpResponseMessage Ok(SignedPacket packet, string? memento = null)
    {
        var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(packet.RelayPayload.ToArray()) };
        if (memento is not null)
        {
            response.Headers.TryAddWithoutValidation("Memento-Datetime", memento);
        }

        return response;
    }

    public static HttpResponseMessage Status(int status, params (string Name, string Value)[] headers)
    {
        var response = new HttpResponseMessage((HttpStatusCode)status) { Content = new ByteArrayContent([]) };
        foreach (var (name, value) in headers)
        {
            response.Headers.TryAddWithoutValidation(name, value);
        }

        return response;
    }
}
