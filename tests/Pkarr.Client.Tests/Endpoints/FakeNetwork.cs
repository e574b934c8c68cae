using Pkarr.Client.Endpoints;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Tests.Endpoints;

/// <summary>Signed packets by key, served to an <see cref="EndpointResolver"/> as a CacheFirst resolve would.</summary>
internal sealed class FakeNetwork
{
    private readonly Dictionary<PublicKey, SignedPacket> _packets = [];

    /// <summary>Every key the resolver asked for, in order.</summary>
    public List<PublicKey> Calls { get; } = [];

    /// <summary>A fresh key, with no packet yet (unresolvable until <see cref="Publish"/>).</summary>
    public static PublicKey NewKey(out Keypair keypair)
    {
        keypair = Keypair.Random();
        return keypair.PublicKey;
    }

    /// <summary>Signs a packet for a fresh key and serves it.</summary>
    public PublicKey Add(Func<SignedPacketBuilder, SignedPacketBuilder> records)
    {
        using var keypair = Keypair.Random();
        Publish(keypair, records);
        return keypair.PublicKey;
    }

    /// <summary>Signs a packet for <paramref name="keypair"/> and serves it.</summary>
    public void Publish(Keypair keypair, Func<SignedPacketBuilder, SignedPacketBuilder> records) =>
        _packets[keypair.PublicKey] = records(SignedPacket.Builder()).Sign(keypair);

    public Task<SignedPacket?> Resolve(PublicKey key, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Calls.Add(key);
        return Task.FromResult(_packets.GetValueOrDefault(key));
    }

    public EndpointResolver Resolver(int maxRecursionDepth = 7, int seed = 1) =>
        new(Resolve, maxRecursionDepth, new Random(seed));

    /// <summary>All endpoints of a stream, bounded at 10 s so that a looping resolver fails instead of hanging.</summary>
    public async Task<List<Endpoint>> AllAsync(string qname, bool https = true, int maxRecursionDepth = 7, int seed = 1)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var endpoints = new List<Endpoint>();
        await foreach (var endpoint in Resolver(maxRecursionDepth, seed).ResolveAsync(qname, https, timeout.Token))
        {
            endpoints.Add(endpoint);
            Assert.True(endpoints.Count < 1000, "the stream does not end");
        }

        return endpoints;
    }
}
