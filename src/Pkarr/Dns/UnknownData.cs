// Opaque rdata (RFC 3597): any type the codec does not model, and rdata of known types that is kept as
// received (e.g. rdlength 0). Written back byte-for-byte; presented as "\# length hex".

namespace Pkarr.Dns;

/// <summary>Rdata kept as raw bytes.</summary>
public sealed class UnknownData : RecordData
{
    private readonly byte[] _data;

    /// <summary>Creates opaque rdata.</summary>
    /// <param name="type">The record type (any value, including known ones).</param>
    /// <param name="data">The rdata bytes, at most 65535.</param>
    /// <exception cref="ArgumentException">The data is longer than 65535 bytes.</exception>
    public UnknownData(RecordType type, ReadOnlySpan<byte> data)
    {
        if (data.Length > ushort.MaxValue)
        {
            throw Error.RDataTooLong(type);
        }

        Type = type;
        _data = data.ToArray();
    }

    /// <inheritdoc/>
    public override RecordType Type { get; }

    /// <summary>The raw rdata.</summary>
    public ReadOnlyMemory<byte> Data => _data;

    /// <inheritdoc/>
    public override string ToString() => Presentation.FormatGeneric(_data);

    internal override void WriteTo(ref DnsWriter writer) => writer.WriteBytes(_data);
}
