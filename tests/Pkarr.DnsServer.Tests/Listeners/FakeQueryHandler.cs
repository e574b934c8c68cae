using System.Buffers.Binary;
using System.Collections.Concurrent;
using Pkarr.Dns;
using Pkarr.DnsServer.Query;

namespace Pkarr.DnsServer.Tests.Listeners;

/// <summary>A query handler for transport tests: answers a query by echoing it with QR set, at once; queries whose ID has
/// a gate wait for it; IDs in <see cref="Unanswered"/> get null. Every call is recorded.</summary>
internal sealed class FakeQueryHandler : IDnsQueryHandler
{
    private readonly ConcurrentDictionary<ushort, TaskCompletionSource> _gates = new();

    public ConcurrentQueue<(ushort Id, int Length, QueryContext Context)> Calls { get; } = new();

    public HashSet<ushort> Unanswered { get; } = [];

    /// <summary>Answers to return instead of the echo, by ID.</summary>
    public ConcurrentDictionary<ushort, byte[]> Canned { get; } = new();

    /// <summary>Queries that waited at a gate and were cancelled.</summary>
    public ConcurrentQueue<ushort> Cancelled { get; } = new();

    /// <summary>Makes queries with <paramref name="id"/> wait until <see cref="Release"/>.</summary>
    public void Gate(ushort id) => _gates[id] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release(ushort id) => _gates[id].TrySetResult();

    public ushort[] Ids => [.. Calls.Select(c => c.Id)];

    public ValueTask<byte[]?> HandleAsync(ReadOnlyMemory<byte> query, QueryContext context, CancellationToken cancellationToken)
    {
        if (query.Length < 12)
        {
            Calls.Enqueue((0, query.Length, context));
            return ValueTask.FromResult<byte[]?>(null);
        }

        ushort id = BinaryPrimitives.ReadUInt16BigEndian(query.Span);
        Calls.Enqueue((id, query.Length, context));
        byte[] response = Canned.TryGetValue(id, out var canned) ? canned : Echo(query.Span);
        if (_gates.TryGetValue(id, out var gate))
        {
            return WaitAsync(gate.Task, id, Unanswered.Contains(id) ? null : response, cancellationToken);
        }

        return ValueTask.FromResult(Unanswered.Contains(id) ? null : response);
    }

    private async ValueTask<byte[]?> WaitAsync(Task gate, ushort id, byte[]? response, CancellationToken cancellationToken)
    {
        try
        {
            await gate.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Cancelled.Enqueue(id);
            throw;
        }

        return response;
    }

    private static byte[] Echo(ReadOnlySpan<byte> query)
    {
        byte[] response = query.ToArray();
        response[2] |= 0x80;
        return response;
    }

    /// <summary>A query for <c>a.test A</c> with <paramref name="id"/>.</summary>
    public static byte[] Query(ushort id, string name = "a.test") => new DnsMessage
    {
        Id = id,
        Flags = 0x0100,
        Questions = [new DnsQuestion(DnsName.Parse(name), RecordType.A, DnsClass.IN)],
    }.Encode();

    public static ushort IdOf(ReadOnlySpan<byte> message) => BinaryPrimitives.ReadUInt16BigEndian(message);
}

/// <summary>A <see cref="FakeQueryHandler"/> whose answers ready at once are written into the caller's buffer, as the
/// real handler writes a kept response; answers that wait come back as arrays.</summary>
internal sealed class BufferWritingQueryHandler(FakeQueryHandler inner) : IDnsQueryHandler
{
    private int _written;

    public FakeQueryHandler Inner { get; } = inner;

    /// <summary>Answers written into a caller's buffer.</summary>
    public int Written => Volatile.Read(ref _written);

    public ValueTask<byte[]?> HandleAsync(ReadOnlyMemory<byte> query, QueryContext context, CancellationToken cancellationToken)
        => Inner.HandleAsync(query, context, cancellationToken);

    public ValueTask<ReadOnlyMemory<byte>> HandleAsync(ReadOnlyMemory<byte> query, QueryContext context, Memory<byte> buffer,
        CancellationToken cancellationToken)
    {
        var answer = Inner.HandleAsync(query, context, cancellationToken);
        if (!answer.IsCompletedSuccessfully)
        {
            return AsMemoryAsync(answer);
        }

        if (answer.Result is not { } response)
        {
            return ValueTask.FromResult(ReadOnlyMemory<byte>.Empty);
        }

        response.CopyTo(buffer);
        Interlocked.Increment(ref _written);
        return ValueTask.FromResult<ReadOnlyMemory<byte>>(buffer[..response.Length]);
    }

    private static async ValueTask<ReadOnlyMemory<byte>> AsMemoryAsync(ValueTask<byte[]?> answer)
        => await answer is { } response ? response : ReadOnlyMemory<byte>.Empty;
}
