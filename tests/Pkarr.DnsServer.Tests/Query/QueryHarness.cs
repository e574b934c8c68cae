using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Pkarr.Dns;
using Pkarr.DnsServer.Answering;
using Pkarr.DnsServer.Forwarding;
using Pkarr.DnsServer.Metrics;
using Pkarr.DnsServer.Packets;
using Pkarr.DnsServer.Query;
using Pkarr.DnsServer.RateLimiting;
using Pkarr.Keys;
using static Pkarr.DnsServer.Tests.Answering.Fixtures;

namespace Pkarr.DnsServer.Tests.Query;

/// <summary>Packets by key; records every lookup. A key without an entry is <see cref="PacketStatus.NotFound"/>.</summary>
internal sealed class FakePacketSource : IPacketSource
{
    private readonly Dictionary<PublicKey, PacketLookup> _lookups = [];

    public List<PublicKey> Calls { get; } = [];

    /// <summary>When set, every lookup throws it (a bug in the source).</summary>
    public Exception? Throw { get; set; }

    /// <summary>When set, every lookup waits for it before answering (a network lookup).</summary>
    public TaskCompletionSource? Gate { get; set; }

    public void Publish(Keypair signer, params ResourceRecord[] records)
        => _lookups[signer.PublicKey] = new PacketLookup(PacketStatus.Found, PacketZone.Create(Raw(signer, records)), 0);

    public void Set(PublicKey key, PacketLookup lookup) => _lookups[key] = lookup;

    public ValueTask<PacketLookup> GetAsync(PublicKey key, IPAddress client, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Calls.Add(key);
        if (Throw is not null)
        {
            throw Throw;
        }

        var lookup = _lookups.GetValueOrDefault(key, PacketLookup.NotFound);
        return Gate is { } gate ? AfterAsync(gate.Task, lookup) : ValueTask.FromResult(lookup);
    }

    private static async ValueTask<PacketLookup> AfterAsync(Task gate, PacketLookup lookup)
    {
        await gate;
        return lookup;
    }
}

/// <summary>An upstream that answers by a function; records every question.</summary>
internal sealed class FakeForwarder : IDnsForwarder
{
    public bool HasUpstreams { get; set; } = true;

    public List<(DnsQuestion Question, ForwardFlags Flags)> Calls { get; } = [];

    /// <summary>The upstream: by default one A record 192.0.2.1 for the question's name.</summary>
    public Func<DnsQuestion, ForwardResult> Answer { get; set; } = q => Answered(q, 0, new ResourceRecord(q.Name, DnsClass.IN, 300, new AData(IPAddress.Parse("192.0.2.1"))));

    public ValueTask<ForwardResult> ForwardAsync(DnsQuestion question, ForwardFlags flags, CancellationToken cancellationToken)
    {
        Calls.Add((question, flags));
        return ValueTask.FromResult(Answer(question));
    }

    /// <summary>Every question asked of a delegated server, in order.</summary>
    public List<(IPEndPoint Server, DnsQuestion Question, ForwardFlags Flags)> Asks { get; } = [];

    /// <summary>The delegated servers: by default none answers (timeout).</summary>
    public Func<IPEndPoint, DnsQuestion, ForwardResult> Server { get; set; } = (_, _) => ForwardResult.Timeout;

    public ValueTask<ForwardResult> AskServerAsync(IPEndPoint server, DnsQuestion question, ForwardFlags flags, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Asks.Add((server, question, flags));
        return ValueTask.FromResult(Server(server, question));
    }

    /// <summary>An upstream response with these flags (RCODE, AD, RA) and answers.</summary>
    public static ForwardResult Answered(DnsQuestion question, ushort flags, params ResourceRecord[] answers)
        => new(ForwardStatus.Answered, new DnsMessage { Id = 999, Flags = (ushort)(0x8180 | flags), Questions = [question], Answers = answers });
}

/// <summary>A handler over fakes, and helpers to ask it.</summary>
internal sealed class QueryHarness
{
    public const ushort Rd = 0x0100;

    public QueryHarness(QueryHandlerOptions? options = null, DnsRateLimits? limits = null, AnsweringOptions? answering = null, TimeProvider? time = null)
    {
        Time = time ?? new FakeTimeProvider();
        Handler = new DnsQueryHandler(
            options ?? new QueryHandlerOptions(),
            Matcher(),
            new PacketAnswerer(answering ?? new AnsweringOptions()),
            Packets,
            Forwarder,
            limits ?? DnsRateLimits.Unlimited,
            Metrics,
            Time,
            NullLogger<DnsQueryHandler>.Instance);
    }

    public FakePacketSource Packets { get; } = new();

    public FakeForwarder Forwarder { get; } = new();

    public DnsMetrics Metrics { get; } = new();

    public TimeProvider Time { get; }

    public DnsQueryHandler Handler { get; }

    public static IPAddress Client { get; } = IPAddress.Parse("127.0.0.1");

    /// <summary>A query message: one question, optional OPT (size, version, DO, options).</summary>
    public static byte[] QueryBytes(
        string name,
        RecordType type,
        ushort flags = Rd,
        ushort id = 0x1234,
        int? edns = null,
        bool dnssecOk = false,
        byte version = 0,
        DnsClass @class = DnsClass.IN,
        byte[]? options = null)
    {
        var additionals = new List<ResourceRecord>();
        if (edns is int size)
        {
            additionals.Add(Opt(size, dnssecOk, version, options));
        }

        return new DnsMessage
        {
            Id = id,
            Flags = flags,
            Questions = [new DnsQuestion(Name(name), type, @class)],
            Additionals = additionals,
        }.Encode();
    }

    public static ResourceRecord Opt(int size, bool dnssecOk = false, byte version = 0, byte[]? options = null)
        => new(DnsName.Root, (DnsClass)size, ((uint)version << 16) | (dnssecOk ? 0x8000u : 0), new UnknownData(RecordType.OPT, options ?? []));

    public byte[]? Raw(byte[] query, DnsTransport transport = DnsTransport.Udp)
        => Handler.HandleAsync(query, new QueryContext(Client, transport), CancellationToken.None).AsTask().GetAwaiter().GetResult();

    /// <summary>Sends the query and parses the response (which must exist and parse).</summary>
    public DnsMessage Ask(byte[] query, DnsTransport transport = DnsTransport.Udp)
    {
        byte[]? response = Raw(query, transport);
        Assert.NotNull(response);
        Assert.True(DnsMessage.TryParse(response, out var message, out var error), error.ToString());
        return message;
    }

    public DnsMessage Ask(string name, RecordType type, ushort flags = Rd, int? edns = null, DnsTransport transport = DnsTransport.Udp)
        => Ask(QueryBytes(name, type, flags, edns: edns), transport);

    public static int Rcode(DnsMessage message)
    {
        int rcode = message.Flags & 0xF;
        var opt = message.Additionals.FirstOrDefault(r => r.Type == RecordType.OPT);
        return opt is null ? rcode : rcode | (int)((opt.Ttl >> 24) << 4);
    }

    public static bool Flag(DnsMessage message, ushort flag) => (message.Flags & flag) != 0;

    public static ResourceRecord Record(string owner, RecordData data, uint ttl = 300) => new(Name(owner), DnsClass.IN, ttl, data);

    public static ResourceRecord A(string owner, string address) => Record(owner, new AData(IPAddress.Parse(address)));

    public static ResourceRecord Cname(string owner, string target) => Record(owner, new CnameData(Name(target)));
}

/// <summary>Header flag bits.</summary>
internal static class HeaderFlags
{
    public const ushort Qr = 0x8000;
    public const ushort Aa = 0x0400;
    public const ushort Tc = 0x0200;
    public const ushort Rd = 0x0100;
    public const ushort Ra = 0x0080;
    public const ushort Z = 0x0040;
    public const ushort Ad = 0x0020;
    public const ushort Cd = 0x0010;
}
