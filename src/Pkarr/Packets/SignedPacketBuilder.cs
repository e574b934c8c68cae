// Builds and signs a packet (spec §3.4): owner names normalised under the signer's key, one DNS response
// (ID 0, flags 0x8000, all records as answers in the order given), name compression, the 1000-byte limit.

using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using Pkarr.Dns;
using Pkarr.Keys;

namespace Pkarr.Packets;

/// <summary>
/// A fluent builder of signed packets. Names are relative to the signer's key: <c>"@"</c> or <c>"."</c> is the
/// apex, <c>"www"</c> becomes <c>www.&lt;key&gt;</c>, and a name already ending in the key is kept.
/// </summary>
public sealed class SignedPacketBuilder
{
    /// <summary>The flags of every packet the builder makes: a response (QR) and nothing else.</summary>
    public const ushort ResponseFlags = DnsMessage.ResponseFlags;

    // The signable is encoded into one buffer per thread (signing is synchronous), so signing allocates only the
    // packet itself.
    [ThreadStatic]
    private static byte[]? t_signable;

    // What the caller added, kept as it was given: the owner names' wire labels one after the other in one array
    // (no name object per record), and for A, AAAA and TXT records the caller's address or text (no record data
    // object for the common records). The first arrays hold a full packet's worth, so they rarely grow.
    private Entry[] _records = new Entry[16];
    private int _count;
    private byte[] _names = new byte[256];
    private int _namesLength;
    private Timestamp? _timestamp;
    private bool _compress = true;

    internal SignedPacketBuilder()
    {
    }

    /// <summary>Adds a record with any data at <paramref name="name"/>.</summary>
    public SignedPacketBuilder Record(string name, RecordData data, uint ttl = SignedPacket.DefaultMinimumTtl)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Add(name, data.Type, ttl, new Entry { Data = data });
    }

    /// <summary>Adds a complete record; its owner name is normalised like any other.</summary>
    public SignedPacketBuilder Record(ResourceRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var wire = record.Name.Wire;
        wire.CopyTo(ReserveName(wire.Length));
        return Add(new Entry(_namesLength, wire.Length, record.Name.LastLabelOffset, record.Ttl, record.Data.Type, record.Class) { Data = record.Data });
    }

    /// <summary>Adds an A or AAAA record, by the address family.</summary>
    public SignedPacketBuilder Address(string name, IPAddress address, uint ttl = SignedPacket.DefaultMinimumTtl)
    {
        ArgumentNullException.ThrowIfNull(address);
        return address.AddressFamily == AddressFamily.InterNetworkV6 ? Aaaa(name, address, ttl) : A(name, address, ttl);
    }

    /// <summary>Adds an A record.</summary>
    public SignedPacketBuilder A(string name, IPAddress address, uint ttl = SignedPacket.DefaultMinimumTtl)
    {
        ArgumentNullException.ThrowIfNull(address);
        return address.AddressFamily == AddressFamily.InterNetwork
            ? Add(name, RecordType.A, ttl, new Entry { Address = address })
            : throw Error.WrongAddressFamily(nameof(address), "IPv4");
    }

    /// <summary>Adds an AAAA record.</summary>
    public SignedPacketBuilder Aaaa(string name, IPAddress address, uint ttl = SignedPacket.DefaultMinimumTtl)
    {
        ArgumentNullException.ThrowIfNull(address);
        return address.AddressFamily == AddressFamily.InterNetworkV6
            ? Add(name, RecordType.AAAA, ttl, new Entry { Address = address })
            : throw Error.WrongAddressFamily(nameof(address), "IPv6");
    }

    /// <summary>Adds a CNAME record; the target is used as given (not normalised).</summary>
    public SignedPacketBuilder Cname(string name, string target, uint ttl = SignedPacket.DefaultMinimumTtl) =>
        Record(name, new CnameData(DnsName.Parse(target)), ttl);

    /// <summary>Adds a TXT record; the UTF-8 text is cut into 254-byte character-strings.</summary>
    public SignedPacketBuilder Txt(string name, string text, uint ttl = SignedPacket.DefaultMinimumTtl)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Add(name, RecordType.TXT, ttl, new Entry { Text = text, TextLength = TxtData.CheckText(text) });
    }

    /// <summary>Adds an NS record.</summary>
    public SignedPacketBuilder Ns(string name, string nameServer, uint ttl = SignedPacket.DefaultMinimumTtl) =>
        Record(name, new NsData(DnsName.Parse(nameServer)), ttl);

    /// <summary>Adds an MX record.</summary>
    public SignedPacketBuilder Mx(string name, ushort preference, string exchange, uint ttl = SignedPacket.DefaultMinimumTtl) =>
        Record(name, new MxData(preference, DnsName.Parse(exchange)), ttl);

    /// <summary>Adds an HTTPS record (RFC 9460), e.g. <c>SvcbData.Https(1, DnsName.Root).WithAlpn("h2", "h3")</c>.</summary>
    /// <exception cref="ArgumentException"><paramref name="data"/> is SVCB data, not HTTPS.</exception>
    public SignedPacketBuilder Https(string name, SvcbData data, uint ttl = SignedPacket.DefaultMinimumTtl)
    {
        ArgumentNullException.ThrowIfNull(data);
        return data.Type == RecordType.HTTPS ? Record(name, data, ttl) : throw Error.WrongSvcbType(RecordType.HTTPS, nameof(data));
    }

    /// <summary>Adds an SVCB record (RFC 9460), e.g. <c>SvcbData.Svcb(0, DnsName.Parse("example.com"))</c>.</summary>
    /// <exception cref="ArgumentException"><paramref name="data"/> is HTTPS data, not SVCB.</exception>
    public SignedPacketBuilder Svcb(string name, SvcbData data, uint ttl = SignedPacket.DefaultMinimumTtl)
    {
        ArgumentNullException.ThrowIfNull(data);
        return data.Type == RecordType.SVCB ? Record(name, data, ttl) : throw Error.WrongSvcbType(RecordType.SVCB, nameof(data));
    }

    /// <summary>Sets the packet's timestamp; by default <see cref="Packets.Timestamp.Now"/> at signing.</summary>
    public SignedPacketBuilder Timestamp(Timestamp timestamp)
    {
        _timestamp = timestamp;
        return this;
    }

    /// <summary>
    /// Turns name compression off or on (default on, as the reference). Uncompressed packets are equally valid
    /// but larger, with different bytes and signatures; the npm implementation writes them.
    /// </summary>
    public SignedPacketBuilder Compression(bool enabled)
    {
        _compress = enabled;
        return this;
    }

    /// <summary>Encodes and signs the packet.</summary>
    /// <exception cref="InvalidSignedPacketException">The DNS message is over 1000 bytes (<see cref="SignedPacketErrorKind.PacketTooLarge"/>).</exception>
    /// <exception cref="FormatException">An owner name becomes longer than 255 bytes under the key.</exception>
    public SignedPacket Sign(Keypair keypair) =>
        TrySign(keypair, out var packet, out var error) ? packet : throw Error.SignedPacket(error);

    /// <summary>Encodes and signs the packet; returns false with <see cref="SignedPacketErrorKind.PacketTooLarge"/> when it does not fit.</summary>
    /// <exception cref="FormatException">An owner name becomes longer than 255 bytes under the key.</exception>
    public bool TrySign(Keypair keypair, [NotNullWhen(true)] out SignedPacket? packet, out SignedPacketError error)
    {
        ArgumentNullException.ThrowIfNull(keypair);
        packet = null;
        var origin = keypair.Origin;

        // The DNS message is encoded straight into the signable, behind room for the longest prefix; the prefix
        // (which depends on the length) is then written just in front of it: one buffer, no copy before signing.
        byte[] scratch = t_signable ??= new byte[SignedPacket.SignablePrefixMax + SignedPacket.MaxDnsLength];
        var dns = scratch.AsSpan(SignedPacket.SignablePrefixMax);
        int length = Encode(origin, dns);
        if (length > dns.Length)
        {
            error = new SignedPacketError(SignedPacketErrorKind.PacketTooLarge, length);
            return false;
        }

        var timestamp = _timestamp ?? Packets.Timestamp.Now();
        Span<byte> prefix = stackalloc byte[SignedPacket.SignablePrefixMax];
        int prefixLength = SignedPacket.WriteSignablePrefix(timestamp.Microseconds, length, prefix);
        int start = SignedPacket.SignablePrefixMax - prefixLength;
        prefix[..prefixLength].CopyTo(scratch.AsSpan(start));

        byte[] canonical = new byte[SignedPacket.HeaderLength + length];
        keypair.PublicKey.Bytes.CopyTo(canonical);
        timestamp.WriteBigEndian(canonical.AsSpan(96, 8));
        dns[..length].CopyTo(canonical.AsSpan(SignedPacket.HeaderLength));
        keypair.Sign(scratch.AsSpan(start, prefixLength + length), canonical.AsSpan(PublicKey.Length, Keypair.SignatureLength));

        packet = SignedPacket.FromSigned(canonical, keypair.PublicKey);
        error = default;
        return true;
    }

    /// <summary>The DNS message this builder signs for <paramref name="keypair"/>, without signing (benchmarks).</summary>
    internal int EncodeFor(Keypair keypair, Span<byte> destination) => Encode(keypair.Origin, destination);

    /// <summary>
    /// Writes the DNS response (ID 0, flags QR, every record an answer, in order) with owner names under
    /// <paramref name="origin"/>; returns its length, which is more than the span's when it does not fit (the
    /// writer keeps counting). An owner name under the key is written as its labels followed by the key's, with
    /// the same bytes and compression as the joined name, so no joined name is ever built.
    /// </summary>
    private int Encode(DnsName origin, Span<byte> destination)
    {
        var writer = new DnsWriter(destination, _compress);
        try
        {
            // More than 65535 records never fit in 1000 bytes: the count is clamped, the length check refuses them.
            writer.WriteHeader(0, ResponseFlags, questions: 0, answers: (ushort)Math.Min(_count, ushort.MaxValue), authorities: 0, additionals: 0);
            foreach (ref readonly var record in _records.AsSpan(0, _count))
            {
                WriteOwnerName(ref writer, origin, record);
                int lengthAt = writer.BeginRecord((ushort)record.Type, (ushort)record.Class, record.Ttl);
                if (record.Address is not null)
                {
                    writer.WriteAddress(record.Address);
                }
                else if (record.Text is not null)
                {
                    TxtData.WriteText(ref writer, record.Text, record.TextLength);
                }
                else
                {
                    record.Data!.WriteTo(ref writer);
                }

                if (!writer.TryEndLength(lengthAt))
                {
                    throw Error.RDataTooLong(record.Type);
                }
            }
        }
        finally
        {
            writer.Dispose();
        }

        return writer.Position;
    }

    /// <summary>Writes a record's owner name normalised under the key (spec §3.4.1, <see cref="Names.Classify"/>).</summary>
    private void WriteOwnerName(ref DnsWriter writer, DnsName origin, in Entry record)
    {
        switch (Names.Classify(_names.AsSpan(record.NameStart, record.NameLength), record.LastLabel, origin.Label(0)))
        {
            case OwnerName.Apex:
                writer.WriteName(origin, compressible: true);
                break;
            case OwnerName.AsGiven:
                writer.WriteName(_names, record.NameStart, record.NameLength, null, compressible: true);
                break;
            default:
                if (record.NameLength + origin.WireLength > DnsName.MaxWireLength)
                {
                    throw Error.NameTooLongUnderKey(DnsName.FromWire(_names.AsSpan(record.NameStart, record.NameLength)).ToString());
                }

                writer.WriteName(_names, record.NameStart, record.NameLength, origin, compressible: true);
                break;
        }
    }

    /// <summary>Adds a record at <paramref name="name"/> whose data is set in <paramref name="data"/>.</summary>
    private SignedPacketBuilder Add(string name, RecordType type, uint ttl, Entry data)
    {
        ArgumentNullException.ThrowIfNull(name);
        // A UTF-16 character takes at most 3 bytes of UTF-8, and the labels one length byte more than their dots.
        var room = ReserveName(Math.Min(DnsName.MaxWireLength - 1, (3 * name.Length) + 1));
        if (!DnsName.TryWriteWire(name, room, out int length, out int last))
        {
            throw Error.InvalidName(name);
        }

        return Add(data with
        {
            NameStart = _namesLength,
            NameLength = length,
            LastLabel = last,
            Ttl = ttl,
            Type = type,
            Class = DnsClass.IN,
        });
    }

    /// <summary>Adds a record whose owner name was just written after the others.</summary>
    private SignedPacketBuilder Add(in Entry record)
    {
        if (_count == _records.Length)
        {
            Array.Resize(ref _records, _count * 2);
        }

        _records[_count++] = record;
        _namesLength += record.NameLength;
        return this;
    }

    /// <summary>Room for <paramref name="length"/> more bytes of owner names, after those already added.</summary>
    private Span<byte> ReserveName(int length)
    {
        if (_namesLength + length > _names.Length)
        {
            Array.Resize(ref _names, Math.Max(_names.Length * 2, _namesLength + length));
        }

        return _names.AsSpan(_namesLength, length);
    }

    /// <summary>
    /// A record as added: its owner name is <c>NameLength</c> bytes of wire labels at <c>NameStart</c> in the names
    /// array, the last label's length byte <c>LastLabel</c> bytes in. Its data is one of: <c>Address</c> (A, AAAA),
    /// <c>Text</c> (TXT, <c>TextLength</c> bytes of UTF-8) or <c>Data</c> (any other).
    /// </summary>
    private readonly record struct Entry(int NameStart, int NameLength, int LastLabel, uint Ttl, RecordType Type, DnsClass Class)
    {
        public IPAddress? Address { get; init; }

        public string? Text { get; init; }

        public int TextLength { get; init; }

        public RecordData? Data { get; init; }
    }
}
