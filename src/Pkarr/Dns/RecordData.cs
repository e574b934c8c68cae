// The RDATA of a resource record. Every concrete type knows its TYPE code, how to write itself (with or
// without name compression, shared spec §3.4.3) and its zone-file presentation (RFC 1035 §5.1, RFC 3597,
// RFC 9460 §2.1), which ZoneFile parses back.
//
// Equality is wire equality: two rdata are equal when they have the same type and the same uncompressed
// bytes. So UnknownData(A, 01 02 03 04) equals AData(1.2.3.4), as it does on the wire.

namespace Pkarr.Dns;

/// <summary>The data part of a resource record.</summary>
public abstract class RecordData : IEquatable<RecordData>
{
    private byte[]? _wire;

    private protected RecordData()
    {
    }

    /// <summary>The record type this data belongs to.</summary>
    public abstract RecordType Type { get; }

    /// <summary>The rdata as written without name compression.</summary>
    /// <returns>A fresh copy of the bytes.</returns>
    public byte[] ToWire() => UncompressedWire().ToArray();

    /// <summary>The zone-file presentation of the rdata (no owner, TTL, class or type).</summary>
    /// <returns>Text that <see cref="ZoneFile"/> parses back into equal data.</returns>
    public abstract override string ToString();

    /// <inheritdoc/>
    public bool Equals(RecordData? other)
        => other is not null && (ReferenceEquals(this, other)
            || (Type == other.Type && UncompressedWire().SequenceEqual(other.UncompressedWire())));

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as RecordData);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = default(HashCode);
        hash.Add(Type);
        hash.AddBytes(UncompressedWire());
        return hash.ToHashCode();
    }

    /// <summary>Writes the rdata (without the rdlength field).</summary>
    internal abstract void WriteTo(ref DnsWriter writer);

    internal ReadOnlySpan<byte> UncompressedWire()
    {
        if (_wire is null)
        {
            var measure = new DnsWriter([], compress: false);
            WriteTo(ref measure);
            byte[] bytes = new byte[measure.Position];
            var writer = new DnsWriter(bytes, compress: false);
            WriteTo(ref writer);
            _wire = bytes;
        }

        return _wire;
    }
}
