// A resource record (RFC 1035 §3.2.1, §4.1.3):
//
//   / NAME / TYPE (2) / CLASS (2) / TTL (4) / RDLENGTH (2) / RDATA /
//
// The top bit of CLASS is the mDNS cache-flush bit (RFC 6762 §10.2): accepted on receipt and remembered
// (shared spec §3.5). For OPT records CLASS is the requestor's UDP payload size (RFC 6891 §6.1.2) and is
// stored unmasked in Class.

using System.Globalization;

namespace Pkarr.Dns;

/// <summary>A DNS resource record.</summary>
/// <param name="Name">The owner name.</param>
/// <param name="Class">The class (without the cache-flush bit); for OPT the UDP payload size.</param>
/// <param name="Ttl">Time to live in seconds.</param>
/// <param name="Data">The rdata, which also determines <see cref="Type"/>.</param>
public sealed record ResourceRecord(DnsName Name, DnsClass Class, uint Ttl, RecordData Data)
{
    /// <summary>The owner name.</summary>
    public DnsName Name { get; init => field = value ?? throw Error.ArgumentNull(nameof(value)); } =
        Name ?? throw Error.ArgumentNull(nameof(Name));

    /// <summary>The rdata, which also determines <see cref="Type"/>.</summary>
    public RecordData Data { get; init => field = value ?? throw Error.ArgumentNull(nameof(value)); } =
        Data ?? throw Error.ArgumentNull(nameof(Data));

    /// <summary>The mDNS cache-flush bit (top bit of the class field). Pkarr builders never set it.</summary>
    public bool CacheFlush { get; init; }

    /// <summary>The record type, taken from <see cref="Data"/>.</summary>
    public RecordType Type => Data.Type;

    /// <summary>The type's mnemonic (<c>A</c>, <c>TXT</c>, …), or <c>TYPE</c> and its number for types without one (RFC 3597 §5).</summary>
    public string TypeName => Presentation.TypeName(Type);

    /// <summary>Zone-file form: <c>name. TTL CLASS TYPE rdata</c>.</summary>
    /// <returns>A line that <see cref="ZoneFile"/> parses back into an equal record.</returns>
    public override string ToString() => Format(Presentation.FormatName(Name));

    /// <summary>Zone-file form with the owner written as under <c>$ORIGIN <paramref name="origin"/></c>: <c>@ TTL CLASS TYPE rdata</c> at the origin, <c>www TTL CLASS TYPE rdata</c> under it.</summary>
    /// <param name="origin">The origin the owner name is relative to (a pkarr packet's key).</param>
    /// <returns>A line that <see cref="ZoneFile"/> parses back into an equal record when given the same origin.</returns>
    public string ToString(DnsName origin)
    {
        ArgumentNullException.ThrowIfNull(origin);
        return Format(Presentation.FormatName(Name, origin));
    }

    private string Format(string owner)
        => string.Create(CultureInfo.InvariantCulture, $"{owner} {Ttl} {Presentation.ClassName(Class)} {Presentation.TypeName(Type)} {Data}");

    internal void WriteTo(ref DnsWriter writer)
    {
        writer.WriteName(Name, compressible: true);
        int lengthAt = writer.BeginRecord((ushort)Type, (ushort)((ushort)Class | (CacheFlush ? 0x8000 : 0)), Ttl);
        Data.WriteTo(ref writer);
        if (!writer.TryEndLength(lengthAt))
        {
            throw Error.RDataTooLong(Type);
        }
    }
}
