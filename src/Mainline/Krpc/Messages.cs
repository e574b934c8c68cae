// KRPC message model (BEP 5 §KRPC, BEP 44, shared spec §2–§3).
//
//   { t: <tid>, y: "q"|"r"|"e", q: <method>, a: {...} | r: {...} | e: [code, msg], v: <version>, ip: <6>, ro: 1 }
using System.Net;

namespace Mainline.Krpc;

/// <summary>The <c>y</c> of a message.</summary>
internal enum MessageKind : byte
{
    Query,
    Response,
    Error,
}

/// <summary>A query's arguments; every query carries the sender's id.</summary>
internal abstract record Query(NodeId Id)
{
    public abstract string Method { get; }
}

internal sealed record PingQuery(NodeId Id) : Query(Id)
{
    public override string Method => "ping";
}

internal sealed record FindNodeQuery(NodeId Id, NodeId Target) : Query(Id)
{
    public override string Method => "find_node";
}

internal sealed record GetPeersQuery(NodeId Id, NodeId InfoHash) : Query(Id)
{
    public override string Method => "get_peers";
}

internal sealed record AnnouncePeerQuery(NodeId Id, NodeId InfoHash, int Port, bool ImpliedPort, byte[] Token) : Query(Id)
{
    public override string Method => "announce_peer";
}

/// <summary>BEP 44 get; <paramref name="Seq"/> only for "newer than" mutable lookups.</summary>
internal sealed record GetQuery(NodeId Id, NodeId Target, long? Seq) : Query(Id)
{
    public override string Method => "get";
}

/// <summary>BEP 44 immutable put; <paramref name="EncodedValue"/> is the bencoded <c>v</c> as on the wire.</summary>
internal sealed record PutImmutableQuery(NodeId Id, byte[] Token, byte[] EncodedValue, NodeId? Target) : Query(Id)
{
    public override string Method => "put";
}

/// <summary>BEP 44 mutable put.</summary>
internal sealed record PutMutableQuery(
    NodeId Id, byte[] Token, byte[] Key, byte[]? Salt, long Seq, byte[] Signature, byte[] EncodedValue, long? Cas,
    NodeId? Target) : Query(Id)
{
    public override string Method => "put";
}

/// <summary>The <c>r</c> dictionary of a reply; which fields matter depends on the request it answers.</summary>
internal sealed class Response
{
    public required NodeId Id { get; init; }
    public IReadOnlyList<DhtNode>? Nodes { get; init; }
    public IReadOnlyList<IPEndPoint>? Values { get; init; }
    public byte[]? Token { get; init; }

    /// <summary>BEP 44 <c>v</c> as bencoded bytes exactly as received.</summary>
    public byte[]? EncodedValue { get; init; }
    public byte[]? Key { get; init; }
    public long? Seq { get; init; }
    public byte[]? Signature { get; init; }
}

/// <summary>An <c>e</c> list: code and opaque message bytes.</summary>
internal sealed record KrpcError(long Code, byte[] Message)
{
    public static KrpcError Create(int code, string message) => new(code, System.Text.Encoding.UTF8.GetBytes(message));

    public override string ToString() => $"{Code} {System.Text.Encoding.UTF8.GetString(Message)}";
}

/// <summary>Error codes of BEP 5 and BEP 44.</summary>
internal static class ErrorCodes
{
    public const int Generic = 201;
    public const int Server = 202;
    public const int Protocol = 203;
    public const int MethodUnknown = 204;
    public const int ValueTooBig = 205;
    public const int InvalidSignature = 206;
    public const int SaltTooBig = 207;
    public const int CasMismatch = 301;
    public const int SeqLessThanCurrent = 302;
}

/// <summary>A decoded datagram.</summary>
internal sealed class Message
{
    public required byte[] TransactionId { get; init; }
    public required MessageKind Kind { get; init; }

    /// <summary>Opaque client version (<c>v</c> at the top level), any length.</summary>
    public byte[]? Version { get; init; }

    /// <summary>BEP 43 <c>ro=1</c>.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>BEP 42 <c>ip</c>: our address as the responder saw it (ignored unless 6 bytes).</summary>
    public IPEndPoint? ExternalAddress { get; init; }

    public Query? Query { get; init; }

    /// <summary>The reply body, unclassified: kept raw so it can be read according to the request.</summary>
    public Response? Response { get; init; }

    public KrpcError? Error { get; init; }
}

/// <summary>What the decoder made of a datagram.</summary>
internal enum DecodeStatus : byte
{
    /// <summary>A valid message.</summary>
    Ok,

    /// <summary>Drop silently (no usable <c>t</c>/<c>y</c>, or not bencode).</summary>
    Drop,

    /// <summary>A query with a usable <c>t</c> but bad arguments: answer 203.</summary>
    Malformed,

    /// <summary>An unknown method without a target: answer 204.</summary>
    UnknownMethod,
}
