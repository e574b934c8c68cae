// Hostile nodes: small KRPC responders of their own (Mainline's codec, not its node logic) that lie in one way
// each, so the simulator can show that an honest lookup still ends with the honest value and never hands a
// caller a forged one.
//
// Their ids are BEP 42-secure, as a real attacker's are: lookups rank secure nodes first (spec §8.2), so an insecure id
// next to a target is never visited once a lookup knows 20 secure nodes. The attacker grinds instead: among the
// addresses it can take, it picks one and an r whose CRC32C prefix (spec §4.2) matches the target's first
// MatchedPrefixBits bits, then sets the id's free bits (bits 21..151 and the top five bits of byte 19) to the target's.
using System.Buffers.Binary;
using System.Net;
using System.Numerics;
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

    /// <summary>Sits next to the target (a ground secure id, see <see cref="HostileHost.GrindIdentity"/>), lists only
    /// its accomplices, gives tokens and acknowledges puts but stores nothing: an eclipse attempt.</summary>
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

    /// <summary>Get queries it answered: lookups for a value that met it (the rest are pings, find_nodes and the
    /// like from nodes filing it).</summary>
    public int GetsAnswered { get; private set; }

    /// <summary>Rollback puts it sent.</summary>
    public int RollbackPuts { get; private set; }

    /// <summary>
    /// Leading bits of its target that a hostile id's BEP 42 prefix matches. 16: each (address, r) try matches with
    /// chance 2^-16, so a hostile costs ~65,000 CRC32C tries, the tries one /19 of addresses gives (8,192 addresses
    /// with distinct masked bits × 8 values of r), and 1,600 hostiles take about a second. It puts a hostile closer to
    /// its target than every honest node but N / 65,536 of them on average: none at 2,000 nodes, ~1.5 at 100,000.
    /// </summary>
    public const int MatchedPrefixBits = 16;

    /// <summary>Addresses a grind tries at most: 128 times the expected count, so it falls short of
    /// <see cref="MatchedPrefixBits"/> (and keeps its best candidate) with chance e^-128.</summary>
    private const int MaxAddressTries = 1 << 20;

    /// <summary>
    /// A free public address and a BEP 42-secure id for it next to <paramref name="target"/>: addresses drawn from
    /// <paramref name="random"/> and the 8 values of r are tried until the id's secure prefix matches the target's
    /// first <see cref="MatchedPrefixBits"/> bits; the free bits then equal the target's but for
    /// <paramref name="index"/> + 1 in the lowest of them, so the hostiles of one target are distinct and none is the
    /// target itself. The address is claimed from <paramref name="addresses"/>.
    /// </summary>
    public static (uint Address, NodeId Id) GrindIdentity(NodeId target, int index, Addresses addresses, SimRandom random)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        var want = BinaryPrimitives.ReadUInt32BigEndian(target.Bytes);
        var (bestAddress, bestR, bestBits) = (0u, (byte)0, -1);
        for (var tries = 0; tries < MaxAddressTries && bestBits < MatchedPrefixBits; tries++)
        {
            var address = (uint)random.NextUInt64();
            for (byte r = 0; r < 8; r++)
            {
                // The free check only runs on an improvement (a few times per grind), not on every try.
                var bits = BitOperations.LeadingZeroCount(NodeId.Bep42Crc(address, r) ^ want);
                if (bits > bestBits && addresses.IsFree(address))
                {
                    (bestAddress, bestR, bestBits) = (address, r, bits);
                }
            }
        }

        if (!addresses.TryClaim(bestAddress))
        {
            throw new InvalidOperationException("No free public address came up while grinding a hostile id.");
        }

        Span<byte> free = stackalloc byte[NodeId.Size];
        target.Bytes.CopyTo(free);
        var tag = (uint)index + 1;
        free[19] = (byte)(((free[19] & 0xF8) ^ ((tag & 0x1F) << 3)) | bestR);
        free[18] ^= (byte)(tag >> 5);
        free[17] ^= (byte)(tag >> 13);
        free[16] ^= (byte)(tag >> 21);
        return (bestAddress, NodeId.CreateSecure(Addresses.ToIPAddress(bestAddress), free));
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
        if (query is GetQuery)
        {
            GetsAnswered++;
        }

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
