// Hostile nodes: small KRPC responders of their own (Mainline's codec, not its node logic) that lie in one way
// each, so the simulator can show that an honest lookup still ends with the honest value and never hands a
// caller a forged one.
using System.Buffers.Binary;
using System.Net;
using Mainline.Krpc;

namespace Mainline.Simulation;

/// <summary>How a hostile host lies.</summary>
internal enum HostileBehaviour
{
    /// <summary>Answers gets with an item signed by another key (its k does not hash to the target).</summary>
    WrongValue,

    /// <summary>Answers gets with an older, validly signed item of the target.</summary>
    StaleValue,

    /// <summary>Answers gets with the target's key, a higher seq and a signature that does not verify.</summary>
    BadSignature,

    /// <summary>Tries to roll the honest holders back: writes the older item to them with the tokens of its own
    /// gets, and answers gets with it.</summary>
    SeqRollback,

    /// <summary>Answers every query with a datagram longer than any honest one (over the 4 KiB cap).</summary>
    Oversized,

    /// <summary>Sits next to the target (ids a few bits from it), lists only its accomplices, gives tokens and
    /// acknowledges puts but stores nothing: an eclipse attempt.</summary>
    Eclipse,
}

/// <summary>A lying node; see <see cref="HostileBehaviour"/>.</summary>
internal sealed class HostileHost(Simulation simulation, uint address, NodeId id, HostileBehaviour behaviour) : Host(simulation, address, id)
{
    private static readonly byte[] Version = "HX"u8.ToArray();
    private static readonly byte[] Token = [0x7A, 0x7A, 0x7A, 0x7A];
    private readonly HashSet<uint> _tokenRequests = [];
    private uint _nextTid;

    public HostileBehaviour Behaviour { get; } = behaviour;

    /// <summary>The older item (stale and rollback behaviours).</summary>
    public MutableItem? Stale { get; set; }

    /// <summary>The current honest item, whose key the bad-signature behaviour claims.</summary>
    public MutableItem? Current { get; set; }

    /// <summary>An item under the attacker's own key (wrong-value behaviour).</summary>
    public MutableItem? Forged { get; set; }

    /// <summary>The nodes it lists in replies: its accomplices, or whoever it chooses.</summary>
    public List<DhtNode> Listed { get; } = [];

    /// <summary>Queries it answered.</summary>
    public int Answered { get; private set; }

    /// <summary>Rollback puts it sent.</summary>
    public int RollbackPuts { get; private set; }

    /// <summary>An id a few bits from <paramref name="target"/>: the attacker's choice, not BEP 42-secure.</summary>
    public static NodeId NextTo(NodeId target, int index)
    {
        Span<byte> b = stackalloc byte[NodeId.Size];
        target.Bytes.CopyTo(b);
        b[19] ^= (byte)(index + 1);
        return new NodeId(b);
    }

    /// <summary>Starts the rollback: asks each of <paramref name="holders"/> for the target (for a token).</summary>
    public void AttackHolders(IEnumerable<IPEndPoint> holders, NodeId target)
    {
        foreach (var holder in holders)
        {
            _tokenRequests.Add(SendQuery(new GetQuery(Id, target, null), holder));
        }
    }

    /// <summary>Sends a query (a find_node to join, a get to collect a token); returns its transaction id.</summary>
    public uint SendQuery(Query query, IPEndPoint to)
    {
        var id = _nextTid++;
        Span<byte> tid = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(tid, id);
        Simulation.Send(this, KrpcCodec.EncodeQuery(tid, query, Version, readOnly: false), to);
        return id;
    }

    public override void Receive(byte[] datagram, Host from)
    {
        if (KrpcCodec.TryDecode(datagram, out var message) != DecodeStatus.Ok || message is null)
        {
            return;
        }

        if (message.Kind == MessageKind.Query)
        {
            Answer(message, from);
        }
        else if (Behaviour == HostileBehaviour.SeqRollback && message.Response is { Token: { } token } && Stale is { } stale
            && message.TransactionId.Length == 4 && _tokenRequests.Remove(BinaryPrimitives.ReadUInt32BigEndian(message.TransactionId)))
        {
            // A token from a holder: replay the older item into it (the holder must refuse: BEP 44 error 302).
            RollbackPuts++;
            SendQuery(
                new PutMutableQuery(Id, token, stale.KeyArray, stale.SaltArray, stale.Seq, stale.SignatureArray, stale.EncodedValueArray, null, null),
                from.EndPoint);
        }
    }

    private void Answer(Message message, Host from)
    {
        Answered++;
        var query = message.Query!;
        var target = query switch
        {
            FindNodeQuery f => f.Target,
            GetPeersQuery g => g.InfoHash,
            GetQuery g => g.Target,
            _ => Id,
        };
        var nodes = Listed.Where(n => !n.EndPoint.Equals(from.EndPoint))
            .Order(Comparer<DhtNode>.Create((a, b) => target.CompareDistance(a.Id, b.Id))).Take(8).ToList();
        Response response;
        if (Behaviour == HostileBehaviour.Oversized)
        {
            // A token of 5000 bytes: bencode carries it, the receiver's 4 KiB cap drops the datagram unread.
            response = new Response { Id = Id, Token = new byte[5000], Nodes = nodes };
        }
        else if (query is GetQuery)
        {
            var item = Behaviour switch
            {
                HostileBehaviour.WrongValue => Forged,
                HostileBehaviour.StaleValue or HostileBehaviour.SeqRollback => Stale,
                _ => null,
            };
            if (Behaviour == HostileBehaviour.BadSignature && Current is { } current)
            {
                var signature = current.SignatureArray.ToArray();
                signature[0] ^= 0xFF;
                response = new Response
                {
                    Id = Id,
                    Token = Token,
                    Nodes = nodes,
                    Key = current.KeyArray,
                    Seq = current.Seq + 1,
                    EncodedValue = KrpcCodec.EncodeString("forged value"u8),
                    Signature = signature,
                };
            }
            else if (item is not null)
            {
                response = new Response
                {
                    Id = Id,
                    Token = Token,
                    Nodes = nodes,
                    Key = item.KeyArray,
                    Seq = item.Seq,
                    EncodedValue = item.EncodedValueArray,
                    Signature = item.SignatureArray,
                };
            }
            else
            {
                response = new Response { Id = Id, Token = Token, Nodes = nodes };
            }
        }
        else
        {
            response = new Response { Id = Id, Nodes = query is PingQuery ? null : nodes };
        }

        Simulation.Send(this, KrpcCodec.EncodeResponse(message.TransactionId, response, Version, from.EndPoint), from.EndPoint);
    }
}
