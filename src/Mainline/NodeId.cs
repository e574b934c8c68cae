// 160-bit identifier of nodes, info hashes and BEP 44 targets (shared spec §4).
//
// Distance is XOR compared as a big-endian unsigned number. BEP 42 ties an id to the node's IPv4 address:
//   crc = CRC32C((ip & 0x030F3FFF) | ((r & 7) << 29)), id[0..2] = top 21 bits of crc, id[19] = r.
// Private, link-local and loopback addresses are exempt (always valid), so local testnets count as secure.
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace Mainline;

/// <summary>A 20-byte DHT identifier: node id, info hash or BEP 44 target.</summary>
public readonly struct NodeId : IEquatable<NodeId>, ISpanFormattable, ISpanParsable<NodeId>
{
    /// <summary>The size of an id in bytes.</summary>
    public const int Size = 20;

    private readonly Buffer _bytes;

    [InlineArray(Size)]
    private struct Buffer
    {
        private byte _element0;
    }

    /// <summary>Creates an id from exactly 20 bytes.</summary>
    /// <exception cref="ArgumentException">When <paramref name="bytes"/> is not 20 bytes long.</exception>
    public NodeId(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            throw Error.InvalidLength(nameof(bytes), Size, bytes.Length);
        }

        bytes.CopyTo(_bytes);
    }

    /// <summary>The id's bytes.</summary>
    [UnscopedRef]
    public ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>Returns a copy of the id's bytes.</summary>
    public byte[] ToArray() => ((ReadOnlySpan<byte>)_bytes).ToArray();

    /// <summary>A uniformly random id.</summary>
    public static NodeId Random()
    {
        Span<byte> b = stackalloc byte[Size];
        RandomNumberGenerator.Fill(b);
        return new NodeId(b);
    }

    /// <summary>Reads an id from a span that must be exactly 20 bytes; false otherwise.</summary>
    public static bool TryRead(ReadOnlySpan<byte> bytes, out NodeId id)
    {
        if (bytes.Length != Size)
        {
            id = default;
            return false;
        }

        id = new NodeId(bytes);
        return true;
    }

    /// <summary>The first 21 bits: BEP 42 allows one secure node per IP and prefix.</summary>
    internal int Prefix21 => (_bytes[0] << 13) | (_bytes[1] << 5) | (_bytes[2] >> 3);

    /// <summary>XOR of two ids.</summary>
    internal NodeId Xor(NodeId other)
    {
        Span<byte> b = stackalloc byte[Size];
        for (var i = 0; i < Size; i++)
        {
            b[i] = (byte)(_bytes[i] ^ other._bytes[i]);
        }

        return new NodeId(b);
    }

    /// <summary>Compares the XOR distances of <paramref name="a"/> and <paramref name="b"/> to this id.</summary>
    /// <returns>Negative when <paramref name="a"/> is closer, positive when <paramref name="b"/> is.</returns>
    internal int CompareDistance(NodeId a, NodeId b)
    {
        // Big-endian words compare as the bytes do, eight bytes at a time: every lookup and server reply sorts by this.
        ReadOnlySpan<byte> t = _bytes, x = a._bytes, y = b._bytes;
        var c = Word(x, t, 0).CompareTo(Word(y, t, 0));
        if (c == 0)
        {
            c = Word(x, t, 8).CompareTo(Word(y, t, 8));
        }

        return c != 0 ? c
            : (BinaryPrimitives.ReadUInt32BigEndian(x[16..]) ^ BinaryPrimitives.ReadUInt32BigEndian(t[16..]))
                .CompareTo(BinaryPrimitives.ReadUInt32BigEndian(y[16..]) ^ BinaryPrimitives.ReadUInt32BigEndian(t[16..]));

        static ulong Word(ReadOnlySpan<byte> id, ReadOnlySpan<byte> target, int at) =>
            BinaryPrimitives.ReadUInt64BigEndian(id[at..]) ^ BinaryPrimitives.ReadUInt64BigEndian(target[at..]);
    }

    /// <summary>160 minus the number of leading zero bits of the XOR: 0 for equal ids, 160 when the first bit differs.</summary>
    internal int BucketDistance(NodeId other)
    {
        for (var i = 0; i < Size; i++)
        {
            var x = (byte)(_bytes[i] ^ other._bytes[i]);
            if (x != 0)
            {
                return 160 - ((i * 8) + BitOperations.LeadingZeroCount((uint)x) - 24);
            }
        }

        return 0;
    }

    /// <summary>The first 16 bytes of the XOR distance as an unsigned 128-bit number (shared spec §9.1).</summary>
    internal UInt128 Distance128(NodeId other)
    {
        var x = Xor(other);
        return BinaryPrimitives.ReadUInt128BigEndian(x.Bytes[..16]);
    }

    /// <summary>A BEP 42 secure id for <paramref name="address"/>; random for exempt (private/loopback) addresses too.</summary>
    public static NodeId CreateSecure(IPAddress address)
    {
        Span<byte> random = stackalloc byte[Size];
        RandomNumberGenerator.Fill(random);
        return CreateSecure(address, random);
    }

    /// <summary>A BEP 42 secure id for <paramref name="address"/> built from 20 <paramref name="random"/> bytes
    /// (the protocol logic draws them from its injected entropy).</summary>
    internal static NodeId CreateSecure(IPAddress address, ReadOnlySpan<byte> random)
    {
        Span<byte> b = stackalloc byte[Size];
        random[..Size].CopyTo(b);
        var crc = Bep42Crc(address, b[19]);
        b[0] = (byte)(crc >> 24);
        b[1] = (byte)(crc >> 16);
        b[2] = (byte)(((crc >> 8) & 0xF8) | (b[2] & 0x07u));
        return new NodeId(b);
    }

    /// <summary>True when this id is BEP 42-valid for <paramref name="address"/> (always true for exempt addresses).</summary>
    public bool IsValidFor(IPAddress address)
    {
        if (IsExempt(address))
        {
            return true;
        }

        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            return false;
        }

        var crc = Bep42Crc(address, _bytes[19]);
        return _bytes[0] == (byte)(crc >> 24) && _bytes[1] == (byte)(crc >> 16)
            && (_bytes[2] & 0xF8) == ((crc >> 8) & 0xF8);
    }

    /// <summary>True for 10/8, 172.16/12, 192.168/16, 169.254/16 and 127/8, which BEP 42 does not constrain.</summary>
    public static bool IsExempt(IPAddress address)
    {
        Span<byte> a = stackalloc byte[4];
        return Rpc.Endpoints.TryIPv4(address, a) && (a[0] == 10 || a[0] == 127 || (a[0] == 172 && (a[1] & 0xF0) == 16)
            || (a[0] == 192 && a[1] == 168) || (a[0] == 169 && a[1] == 254));
    }

    internal static uint Bep42Crc(IPAddress address, byte r)
    {
        Span<byte> a = stackalloc byte[4];
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        address.TryWriteBytes(a, out _);
        return Bep42Crc(BinaryPrimitives.ReadUInt32BigEndian(a), r);
    }

    /// <summary>The BEP 42 CRC for an IPv4 address given as a big-endian number: callers that try many addresses
    /// (the simulator's id-grinding attacker) skip building an <see cref="IPAddress"/> for each.</summary>
    internal static uint Bep42Crc(uint ipv4, byte r)
    {
        var x = (ipv4 & 0x030F3FFFu) | ((uint)(r & 7) << 29);
        Span<byte> xb = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(xb, x);
        return Crc32C(xb);
    }

    /// <summary>CRC32C (Castagnoli), init and final XOR 0xFFFFFFFF.</summary>
    internal static uint Crc32C(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return crc ^ 0xFFFFFFFFu;
    }

    /// <inheritdoc/>
    public bool Equals(NodeId other) => Bytes.SequenceEqual(other.Bytes);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is NodeId other && Equals(other);

    /// <summary>A hash of all 20 bytes, seeded at random per process (<see cref="HashCode"/>).</summary>
    /// <remarks>Peers choose their ids, and the ids they send: a fixed function of the bytes (such as the first
    /// four) would let them pick ids that fall into one bucket of every hash set the node keeps.</remarks>
    public override int GetHashCode()
    {
        var hash = default(HashCode);
        hash.AddBytes(Bytes);
        return hash.ToHashCode();
    }

    /// <summary>Equality.</summary>
    public static bool operator ==(NodeId left, NodeId right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(NodeId left, NodeId right) => !left.Equals(right);

    /// <summary>Lower-case hexadecimal (40 characters).</summary>
    public override string ToString() => Convert.ToHexStringLower(Bytes);

    /// <inheritdoc/>
    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    /// <inheritdoc/>
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
    {
        if (destination.Length < Size * 2)
        {
            charsWritten = 0;
            return false;
        }

        ToString().CopyTo(destination);
        charsWritten = Size * 2;
        return true;
    }

    /// <summary>Parses 40 hexadecimal characters.</summary>
    public static NodeId Parse(ReadOnlySpan<char> s, IFormatProvider? provider = null) =>
        TryParse(s, provider, out var id) ? id : throw Error.InvalidHex(nameof(NodeId));

    /// <summary>Parses 40 hexadecimal characters.</summary>
    public static NodeId Parse(string s, IFormatProvider? provider = null) => Parse(s.AsSpan(), provider);

    /// <summary>Tries to parse 40 hexadecimal characters; never throws.</summary>
    public static bool TryParse(ReadOnlySpan<char> s, IFormatProvider? provider, out NodeId result)
    {
        Span<byte> b = stackalloc byte[Size];
        if (s.Length != Size * 2 || Convert.FromHexString(s, b, out _, out var written) != System.Buffers.OperationStatus.Done
            || written != Size)
        {
            result = default;
            return false;
        }

        result = new NodeId(b);
        return true;
    }

    /// <summary>Tries to parse 40 hexadecimal characters; never throws.</summary>
    public static bool TryParse([NotNullWhen(true)] string? s, IFormatProvider? provider, out NodeId result)
    {
        if (s is null)
        {
            result = default;
            return false;
        }

        return TryParse(s.AsSpan(), provider, out result);
    }
}
