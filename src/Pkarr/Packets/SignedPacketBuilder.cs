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

    // Per thread: signing is synchronous, and a 1 KB buffer per packet would double the garbage of a sign.
    [ThreadStatic]
    private static byte[]? t_signable;

    // What the caller added, kept close to how it was given: the owner names' wire forms one after the other in
    // one array (no name object per record), and the data as a RecordData, or the text of a TXT record, or the
    // address of an A or AAAA record (no data object for the common records). A builder filling 14 records
    // allocated 30 objects more than this, and that garbage was a tenth of a large build+sign.
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
        return Add(name, data.Type, data, ttl);
    }

    /// <summary>Adds a complete record; its owner name is normalised like any other.</summary>
    public SignedPacketBuilder Record(ResourceRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var wire = record.Name.Wire;
        wire.CopyTo(ReserveName(wire.Length));
        return Add(new Entry(record.Data, _namesLength, wire.Length, record.Name.LastLabelOffset, record.Ttl, record.Data.Type, record.Class, 0));
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
            ? Add(name, RecordType.A, address, ttl)
            : throw Error.WrongAddressFamily(nameof(address), "IPv4");
    }

    /// <summary>Adds an AAAA record.</summary>
    public SignedPacketBuilder Aaaa(string name, IPAddress address, uint ttl = SignedPacket.DefaultMinimumTtl)
    {
        ArgumentNullException.ThrowIfNull(address);
        return address.AddressFamily == AddressFamily.InterNetworkV6
            ? Add(name, RecordType.AAAA, address, ttl)
            : throw Error.WrongAddressFamily(nameof(address), "IPv6");
    }

    /// <summary>Adds a CNAME record; the target is used as given (not normalised).</summary>
    public SignedPacketBuilder Cname(string name, string target, uint ttl = SignedPacket.DefaultMinimumTtl) =>
        Record(name, new CnameData(DnsName.Parse(target)), ttl);

    /// <summary>Adds a TXT record; the UTF-8 text is cut into 254-byte character-strings.</summary>
    public SignedPacketBuilder Txt(string name, string text, uint ttl = SignedPacket.DefaultMinimumTtl)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Add(name, RecordType.TXT, text, ttl, TxtData.CheckText(text));
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
    /// writer keeps counting). Owner names are written as name + origin, never joined into new names.
    /// </summary>
    private int Encode(DnsName origin, Span<byte> destination)
    {
        var writer = new DnsWriter(destination, _compress);
        try
        {
            writer.WriteUInt16(0);
            writer.WriteUInt16(ResponseFlags);
            writer.WriteUInt16(0);
            writer.WriteUInt16((ushort)Math.Min(_count, ushort.MaxValue)); // more never fits in 1000 bytes
            writer.WriteUInt16(0);
            writer.WriteUInt16(0);
            foreach (ref readonly var record in _records.AsSpan(0, _count))
            {
                switch (Normalize(origin, record))
                {
                    case Owner.Apex:
                        writer.WriteName(origin, compressible: true);
                        break;
                    case Owner.AsGiven:
                        writer.WriteName(_names, record.NameStart, record.NameLength, null, compressible: true);
                        break;
                    default:
                        writer.WriteName(_names, record.NameStart, record.NameLength, origin, compressible: true);
                        break;
                }

                int lengthAt = writer.BeginRecord((ushort)record.Type, (ushort)record.Class, record.Ttl);
                switch (record.Data)
                {
                    case RecordData data:
                        data.WriteTo(ref writer);
                        break;
                    case string text:
                        TxtData.WriteText(ref writer, text, record.TextLength);
                        break;
                    default:
                        writer.WriteAddress((IPAddress)record.Data);
                        break;
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

    /// <summary>Adds a record whose data is a <see cref="RecordData"/>, a TXT text or an address (see <see cref="Entry"/>).</summary>
    private SignedPacketBuilder Add(string name, RecordType type, object data, uint ttl, int textLength = 0)
    {
        ArgumentNullException.ThrowIfNull(name);
        // A UTF-16 character takes at most 3 bytes of UTF-8, and the labels one length byte more than their dots.
        var room = ReserveName(Math.Min(DnsName.MaxWireLength - 1, (3 * name.Length) + 1));
        if (!DnsName.TryWriteWire(name, room, out int length, out int last))
        {
            throw Error.InvalidName(name);
        }

        return Add(new Entry(data, _namesLength, length, last, ttl, type, DnsClass.IN, (ushort)textLength));
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

    private enum Owner
    {
        Apex,
        AsGiven,
        UnderOrigin,
    }

    /// <summary>
    /// Owner-name normalisation (spec §3.4.1, the same rule as <see cref="Names.Normalize"/>) on wire labels,
    /// whose empty labels are already collapsed: only the last label counts; the key itself keeps the name,
    /// <c>@</c> (or the root) means the apex, anything else gets the key appended (by the writer).
    /// </summary>
    private Owner Normalize(DnsName origin, in Entry record)
    {
        var wire = _names.AsSpan(record.NameStart, record.NameLength);
        if (wire.IsEmpty)
        {
            return Owner.Apex;
        }

        var label = wire.Slice(record.LastLabel + 1, wire[record.LastLabel]);
        if (label.SequenceEqual("@"u8))
        {
            return Owner.Apex;
        }

        if (label.SequenceEqual(origin.Label(0)))
        {
            return Owner.AsGiven;
        }

        return wire.Length + origin.WireLength <= DnsName.MaxWireLength
            ? Owner.UnderOrigin
            : throw Error.NameTooLongUnderKey(DnsName.FromWire(wire).ToString());
    }

    /// <summary>
    /// A record as added: its owner name is <c>NameLength</c> bytes of wire labels at <c>NameStart</c> in the names
    /// array, the last label's length byte <c>LastLabel</c> bytes in; <c>Data</c> is a <see cref="RecordData"/>, the
    /// text of a TXT record (<c>TextLength</c> bytes of UTF-8) or the address of an A/AAAA record. 24 bytes.
    /// </summary>
    private readonly struct Entry(object data, int nameStart, int nameLength, int lastLabel, uint ttl, RecordType type, DnsClass @class, ushort textLength)
    {
        public object Data { get; } = data;

        public int NameStart { get; } = nameStart;

        public uint Ttl { get; } = ttl;

        public RecordType Type { get; } = type;

        public DnsClass Class { get; } = @class;

        public ushort TextLength { get; } = textLength;

        private readonly byte _nameLength = (byte)nameLength;
        private readonly byte _lastLabel = (byte)lastLabel;

        public int NameLength => _nameLength;

        public int LastLabel => _lastLabel;
    }
}
