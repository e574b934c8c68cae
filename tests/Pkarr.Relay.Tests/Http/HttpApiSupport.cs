// What the HTTP API tests share: one relay per test class (every test uses its own random keys, so they do not
// interfere), packets with chosen timestamps and TTLs, and raw header reads (HttpClient's typed headers reformat).

using System.Net;
using System.Net.Http.Headers;
using Mainline;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Relay.Tests.Http;

/// <summary>A relay on a testnet, shared by the tests of one class.</summary>
public sealed class SharedRelay : IAsyncLifetime
{
    private RelayFixture? _relay;

    internal RelayFixture Relay => _relay ?? throw new InvalidOperationException("not started");

    internal RelayServer Server => Relay.Server;

    internal HttpClient Http => Relay.Http;

    public async Task InitializeAsync() => _relay = await RelayFixture.StartAsync();

    public async Task DisposeAsync()
    {
        if (_relay is not null)
        {
            await _relay.DisposeAsync();
        }
    }
}

internal static class HttpApiSupport
{
    public const string PayloadType = "application/pkarr.org/relays#payload";

    /// <summary>Now, rounded down to a whole second, plus <paramref name="micros"/>: for exact HTTP-date comparisons.</summary>
    public static Timestamp WholeSecondNow(ulong micros = 0) =>
        new(((Timestamp.Now().Microseconds / 1_000_000) * 1_000_000) + micros);

    public static SignedPacket Packet(Keypair keypair, Timestamp? timestamp = null, uint ttl = 300, string address = "192.0.2.1")
    {
        var builder = SignedPacket.Builder().A("@", IPAddress.Parse(address), ttl);
        if (timestamp is { } t)
        {
            builder.Timestamp(t);
        }

        return builder.Sign(keypair);
    }

    public static ByteArrayContent Body(SignedPacket packet) => new(packet.RelayPayload.ToArray());

    /// <summary>The header as sent, from the response or its content headers; null when absent.</summary>
    public static string? Raw(HttpResponseMessage response, string name)
    {
        if (response.Headers.NonValidated.TryGetValues(name, out var values))
        {
            return values.ToString();
        }

        return response.Content.Headers.NonValidated.TryGetValues(name, out var content) ? content.ToString() : null;
    }

    public static async Task<HttpResponseMessage> SendAsync(HttpClient http, HttpMethod method, string path, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(method, path);
        configure?.Invoke(request);
        return await http.SendAsync(request);
    }

    /// <summary>Puts <paramref name="packet"/> on the DHT through <paramref name="dht"/>, bypassing the relay's store.</summary>
    public static async Task PutOnDhtAsync(Dht dht, SignedPacket packet)
    {
        Assert.True(MutableItem.TryFromSigned(packet.PublicKey.Bytes, default, packet.Timestamp.AsSeq, packet.EncodedPacket.Span, packet.Signature, out var item));
        var put = await dht.PutMutableAsync(item);
        Assert.True(put.Succeeded, put.Status.ToString());
    }

    public static string HttpDate(ulong seconds) => DateTimeOffset.FromUnixTimeSeconds((long)seconds).ToString("r", System.Globalization.CultureInfo.InvariantCulture);

    public static void IfModifiedSince(HttpRequestMessage request, string value) =>
        Assert.True(request.Headers.TryAddWithoutValidation("If-Modified-Since", value));

    /// <summary>Sends <paramref name="target"/> byte for byte (System.Uri may unescape it) and returns the status code.</summary>
    public static async Task<int> RawStatusAsync(Uri relay, string method, string target)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, relay.Port);
        var stream = tcp.GetStream();
        byte[] request = System.Text.Encoding.ASCII.GetBytes($"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        await stream.WriteAsync(request);
        var buffer = new byte[4096];
        int length = 0;
        int read;
        while (length < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(length)).AsTask().WaitAsync(TimeSpan.FromSeconds(30))) > 0)
        {
            length += read;
        }

        string head = System.Text.Encoding.ASCII.GetString(buffer, 0, length);
        Assert.StartsWith("HTTP/1.1 ", head, StringComparison.Ordinal);
        return int.Parse(head.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture);
    }

    public static MediaTypeHeaderValue? ContentType(HttpResponseMessage response) => response.Content.Headers.ContentType;
}
