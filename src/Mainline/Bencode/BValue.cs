// Bencode value tree (BEP 3; shared spec §1): the general model, for BEP 44 values and tests. KRPC datagrams
// are not decoded into trees: KrpcCodec reads them in place (BSlice).
//
// A decoded value keeps the raw byte span it was parsed from (Raw) because BEP 44 hashes and verifies a
// value exactly as received, never a re-encoding. Values built locally have no Raw until encoded.
using System.Text;

namespace Mainline.Bencode;

/// <summary>The four bencode types.</summary>
internal enum BKind : byte
{
    Integer,
    Bytes,
    List,
    Dictionary,

    /// <summary>An already-encoded value written verbatim (a BEP 44 <c>v</c> exactly as received).</summary>
    Encoded,
}

/// <summary>One bencode value: an integer, a byte string, a list or a dictionary.</summary>
internal sealed class BValue
{
    private BValue(BKind kind) => Kind = kind;

    public BKind Kind { get; }

    /// <summary>The integer value (only for <see cref="BKind.Integer"/>).</summary>
    public long Integer { get; private init; }

    /// <summary>The content (only for <see cref="BKind.Bytes"/>).</summary>
    public ReadOnlyMemory<byte> Bytes { get; private init; }

    /// <summary>The items (only for <see cref="BKind.List"/>).</summary>
    public List<BValue>? Items { get; private init; }

    /// <summary>The entries in wire order (only for <see cref="BKind.Dictionary"/>).</summary>
    public List<KeyValuePair<ReadOnlyMemory<byte>, BValue>>? Entries { get; private init; }

    /// <summary>The exact bytes this value was decoded from; empty for locally built values.</summary>
    public ReadOnlyMemory<byte> Raw { get; internal set; }

    public static BValue Int(long value) => new(BKind.Integer) { Integer = value };

    public static BValue Str(ReadOnlyMemory<byte> value) => new(BKind.Bytes) { Bytes = value };

    public static BValue Str(string ascii) => Str(Encoding.ASCII.GetBytes(ascii));

    public static BValue List(params BValue[] items) => new(BKind.List) { Items = [.. items] };

    public static BValue FromList(List<BValue> items) => new(BKind.List) { Items = items };

    /// <summary>Wraps bytes that are already one canonical bencode value.</summary>
    public static BValue Encoded(ReadOnlyMemory<byte> encoded) => new(BKind.Encoded) { Raw = encoded };

    public static BValue Dict() => new(BKind.Dictionary) { Entries = [] };

    /// <summary>Adds an entry to a locally built dictionary; returns this for chaining.</summary>
    public BValue Add(string key, BValue value)
    {
        Entries!.Add(new(Encoding.ASCII.GetBytes(key), value));
        return this;
    }

    /// <summary>Adds an entry only when <paramref name="value"/> is not null (absent fields are omitted).</summary>
    public BValue AddIf(string key, BValue? value) => value is null ? this : Add(key, value);

    /// <summary>Finds a dictionary entry by its ASCII key; null when absent or when this is not a dictionary.</summary>
    public BValue? this[string key]
    {
        get
        {
            if (Entries is null)
            {
                return null;
            }

            Span<byte> k = stackalloc byte[key.Length];
            for (var i = 0; i < key.Length; i++)
            {
                k[i] = (byte)key[i];
            }

            foreach (var entry in Entries)
            {
                if (entry.Key.Span.SequenceEqual(k))
                {
                    return entry.Value;
                }
            }

            return null;
        }
    }

    /// <summary>The byte-string content of entry <paramref name="key"/>, or null when absent or not a string.</summary>
    public ReadOnlyMemory<byte>? GetBytes(string key)
    {
        var v = this[key];
        return v is { Kind: BKind.Bytes } ? v.Bytes : (ReadOnlyMemory<byte>?)null;
    }

    /// <summary>The integer of entry <paramref name="key"/>, or null when absent or not an integer.</summary>
    public long? GetInt(string key)
    {
        var v = this[key];
        return v is { Kind: BKind.Integer } ? v.Integer : null;
    }
}
