// SVCB and HTTPS records (RFC 9460 §2.2). Same wire form for both types:
//
//   | SvcPriority (2) | TargetName (uncompressed name) | SvcParams ... |
//   SvcParam = | key (2) | length (2) | value (length bytes) |      keys strictly ascending
//
// The target is never compressed and never a compression target (RFC 9460 §2.2, shared spec §3.4.3,
// §11.6). The `ech` value is an ECHConfigList, whose own u16 length prefix is part of the value — as in
// the reference library, which rejects an ech value whose prefix disagrees with the parameter length.

using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Pkarr.Dns;

/// <summary>The data of an SVCB or HTTPS record. Immutable: the <c>With…</c> methods return a modified copy.</summary>
public sealed class SvcbData : RecordData
{
    private readonly SvcParam[] _params;

    /// <summary>Creates service-binding data without parameters.</summary>
    /// <param name="type"><see cref="RecordType.SVCB"/> or <see cref="RecordType.HTTPS"/>.</param>
    /// <param name="priority">0 for AliasMode, otherwise ServiceMode priority (lower is preferred).</param>
    /// <param name="target">The target name; the root means "the owner name" in ServiceMode.</param>
    /// <exception cref="ArgumentException"><paramref name="type"/> is neither SVCB nor HTTPS.</exception>
    public SvcbData(RecordType type, ushort priority, DnsName target)
        : this(type, priority, target, [])
    {
    }

    private SvcbData(RecordType type, ushort priority, DnsName target, SvcParam[] parameters)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (type is not (RecordType.SVCB or RecordType.HTTPS))
        {
            throw Error.NotServiceBindingType(type);
        }

        Type = type;
        Priority = priority;
        Target = target;
        _params = parameters;
    }

    /// <summary>Creates SVCB data without parameters.</summary>
    /// <param name="priority">0 for AliasMode, otherwise ServiceMode priority.</param>
    /// <param name="target">The target name.</param>
    /// <returns>The data.</returns>
    public static SvcbData Svcb(ushort priority, DnsName target) => new(RecordType.SVCB, priority, target);

    /// <summary>Creates HTTPS data without parameters.</summary>
    /// <param name="priority">0 for AliasMode, otherwise ServiceMode priority.</param>
    /// <param name="target">The target name.</param>
    /// <returns>The data.</returns>
    public static SvcbData Https(ushort priority, DnsName target) => new(RecordType.HTTPS, priority, target);

    /// <inheritdoc/>
    public override RecordType Type { get; }

    /// <summary>0 for AliasMode, otherwise the ServiceMode priority (lower is preferred).</summary>
    public ushort Priority { get; }

    /// <summary>Whether this is an AliasMode record (priority 0).</summary>
    public bool IsAliasMode => Priority == 0;

    /// <summary>The target name (the root is written as a single zero byte).</summary>
    public DnsName Target { get; }

    /// <summary>The parameters in ascending key order.</summary>
    public IReadOnlyList<SvcParam> Params => _params;

    /// <summary>The <c>mandatory</c> keys, or null when absent.</summary>
    public IReadOnlyList<ushort>? Mandatory
    {
        get
        {
            if (GetParam((ushort)SvcParamKey.Mandatory) is not { } value)
            {
                return null;
            }

            var keys = new ushort[value.Length / 2];
            for (int i = 0; i < keys.Length; i++)
            {
                keys[i] = BinaryPrimitives.ReadUInt16BigEndian(value.Span.Slice(i * 2));
            }

            return keys;
        }
    }

    /// <summary>The <c>alpn</c> protocol ids (UTF-8 decoded), or null when absent.</summary>
    public IReadOnlyList<string>? Alpn
        => GetParam((ushort)SvcParamKey.Alpn) is { } value
            ? [.. SplitCharacterStrings(value).Select(s => Encoding.UTF8.GetString(s.Span))]
            : null;

    /// <summary>Whether <c>no-default-alpn</c> is present.</summary>
    public bool NoDefaultAlpn => GetParam((ushort)SvcParamKey.NoDefaultAlpn) is not null;

    /// <summary>The <c>port</c>, or null when absent.</summary>
    public ushort? Port
        => GetParam((ushort)SvcParamKey.Port) is { } value ? BinaryPrimitives.ReadUInt16BigEndian(value.Span) : null;

    /// <summary>The <c>ipv4hint</c> addresses, or null when absent.</summary>
    public IReadOnlyList<IPAddress>? Ipv4Hint => Addresses(SvcParamKey.Ipv4Hint, 4);

    /// <summary>The <c>ech</c> ECHConfig entries (without the ECHConfigList length prefix), or null when absent.</summary>
    public ReadOnlyMemory<byte>? Ech => GetParam((ushort)SvcParamKey.Ech) is { } value ? value[2..] : (ReadOnlyMemory<byte>?)null;

    /// <summary>The <c>ipv6hint</c> addresses, or null when absent.</summary>
    public IReadOnlyList<IPAddress>? Ipv6Hint => Addresses(SvcParamKey.Ipv6Hint, 16);

    /// <summary>The raw value of parameter <paramref name="key"/>, or null when absent.</summary>
    /// <param name="key">The SvcParamKey.</param>
    /// <returns>The value bytes as on the wire.</returns>
    public ReadOnlyMemory<byte>? GetParam(ushort key)
    {
        int index = IndexOf(key);
        return index >= 0 ? _params[index].Value : (ReadOnlyMemory<byte>?)null;
    }

    /// <summary>Sets a parameter from its raw wire value, replacing any previous value of that key.</summary>
    /// <param name="key">The SvcParamKey.</param>
    /// <param name="value">The value bytes; checked against the rules of the known keys.</param>
    /// <returns>A copy with the parameter set.</returns>
    /// <exception cref="ArgumentException">The value is malformed for a known key or longer than 65535 bytes.</exception>
    public SvcbData WithParam(ushort key, ReadOnlySpan<byte> value)
    {
        if (value.Length > ushort.MaxValue || CheckParam(key, value, out _) != DnsErrorKind.None)
        {
            throw Error.InvalidSvcParam(key);
        }

        return WithValidatedParam(key, value.ToArray());
    }

    /// <summary>Removes a parameter.</summary>
    /// <param name="key">The SvcParamKey.</param>
    /// <returns>A copy without that parameter.</returns>
    public SvcbData WithoutParam(ushort key)
    {
        int index = IndexOf(key);
        if (index < 0)
        {
            return this;
        }

        return new SvcbData(Type, Priority, Target, [.. _params[..index], .. _params[(index + 1)..]]);
    }

    /// <summary>Sets <c>mandatory</c>; keys are sorted and de-duplicated as RFC 9460 §8 requires.</summary>
    /// <param name="keys">The keys the client must understand.</param>
    /// <returns>A copy with the parameter set.</returns>
    public SvcbData WithMandatory(params IEnumerable<ushort> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ushort[] sorted = [.. keys.Distinct().Order()];
        byte[] value = new byte[sorted.Length * 2];
        for (int i = 0; i < sorted.Length; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(value.AsSpan(i * 2), sorted[i]);
        }

        return WithParam((ushort)SvcParamKey.Mandatory, value);
    }

    /// <summary>Sets <c>alpn</c>.</summary>
    /// <param name="protocolIds">ALPN ids such as "h2", "h3"; each 1–255 UTF-8 bytes.</param>
    /// <returns>A copy with the parameter set.</returns>
    public SvcbData WithAlpn(params IEnumerable<string> protocolIds)
    {
        ArgumentNullException.ThrowIfNull(protocolIds);
        var value = new List<byte>();
        foreach (string id in protocolIds)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(id);
            if (bytes.Length is 0 or > 255)
            {
                throw Error.CharacterStringTooLong(nameof(protocolIds));
            }

            value.Add((byte)bytes.Length);
            value.AddRange(bytes);
        }

        return WithParam((ushort)SvcParamKey.Alpn, value.ToArray());
    }

    /// <summary>Sets <c>no-default-alpn</c>.</summary>
    /// <returns>A copy with the parameter set.</returns>
    public SvcbData WithNoDefaultAlpn() => WithParam((ushort)SvcParamKey.NoDefaultAlpn, []);

    /// <summary>Sets <c>port</c>.</summary>
    /// <param name="port">The port.</param>
    /// <returns>A copy with the parameter set.</returns>
    public SvcbData WithPort(ushort port)
    {
        Span<byte> value = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(value, port);
        return WithParam((ushort)SvcParamKey.Port, value);
    }

    /// <summary>Sets <c>ipv4hint</c>.</summary>
    /// <param name="addresses">IPv4 addresses.</param>
    /// <returns>A copy with the parameter set.</returns>
    public SvcbData WithIpv4Hint(params IEnumerable<IPAddress> addresses)
        => WithParam((ushort)SvcParamKey.Ipv4Hint, AddressBytes(addresses, AddressFamily.InterNetwork));

    /// <summary>Sets <c>ech</c> from the ECHConfig entries; the ECHConfigList length prefix is added.</summary>
    /// <param name="echConfigs">The ECHConfig entries (without the list's u16 length).</param>
    /// <returns>A copy with the parameter set.</returns>
    public SvcbData WithEch(ReadOnlySpan<byte> echConfigs)
    {
        if (echConfigs.Length > ushort.MaxValue - 2)
        {
            throw Error.InvalidSvcParam((ushort)SvcParamKey.Ech);
        }

        byte[] value = new byte[2 + echConfigs.Length];
        BinaryPrimitives.WriteUInt16BigEndian(value, (ushort)echConfigs.Length);
        echConfigs.CopyTo(value.AsSpan(2));
        return WithParam((ushort)SvcParamKey.Ech, value);
    }

    /// <summary>Sets <c>ipv6hint</c>.</summary>
    /// <param name="addresses">IPv6 addresses.</param>
    /// <returns>A copy with the parameter set.</returns>
    public SvcbData WithIpv6Hint(params IEnumerable<IPAddress> addresses)
        => WithParam((ushort)SvcParamKey.Ipv6Hint, AddressBytes(addresses, AddressFamily.InterNetworkV6));

    /// <inheritdoc/>
    public override string ToString()
    {
        var builder = new StringBuilder();
        builder.Append(Priority.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(Presentation.FormatName(Target));
        foreach (var p in _params)
        {
            builder.Append(' ');
            SvcParamPresentation.Append(builder, p.Key, p.Value.Span);
        }

        return builder.ToString();
    }

    /// <summary>
    /// Checks a parameter value against its key's wire rules, exactly as the parser does (shared spec §3.5):
    /// mandatory = whole u16s; alpn = character-strings that stay inside the value; port ≥ 2 bytes (extra
    /// ignored); ipv4hint / ipv6hint = whole 4- / 16-byte addresses; ech = u16 length equal to the rest.
    /// no-default-alpn and unknown keys accept anything.
    /// </summary>
    /// <returns><see cref="DnsErrorKind.None"/>, or the problem with <paramref name="errorOffset"/> inside the value.</returns>
    internal static DnsErrorKind CheckParam(ushort key, ReadOnlySpan<byte> value, out int errorOffset)
    {
        errorOffset = 0;
        switch ((SvcParamKey)key)
        {
            case SvcParamKey.Mandatory:
                return value.Length % 2 == 0 ? DnsErrorKind.None : DnsErrorKind.InvalidSvcParam;
            case SvcParamKey.Alpn:
                for (int at = 0; at < value.Length; at += 1 + value[at])
                {
                    if (at + 1 + value[at] > value.Length)
                    {
                        errorOffset = at;
                        return DnsErrorKind.InvalidCharacterString;
                    }
                }

                return DnsErrorKind.None;
            case SvcParamKey.Port:
                return value.Length >= 2 ? DnsErrorKind.None : DnsErrorKind.InvalidSvcParam;
            case SvcParamKey.Ipv4Hint:
                return value.Length % 4 == 0 ? DnsErrorKind.None : DnsErrorKind.InvalidSvcParam;
            case SvcParamKey.Ech:
                return value.Length >= 2 && BinaryPrimitives.ReadUInt16BigEndian(value) == value.Length - 2
                    ? DnsErrorKind.None
                    : DnsErrorKind.InvalidSvcParam;
            case SvcParamKey.Ipv6Hint:
                return value.Length % 16 == 0 ? DnsErrorKind.None : DnsErrorKind.InvalidSvcParam;
            default:
                return DnsErrorKind.None;
        }
    }

    /// <summary>Creates data from parameters the parser has already checked and ordered.</summary>
    internal static SvcbData FromValidated(RecordType type, ushort priority, DnsName target, SvcParam[] parameters)
        => new(type, priority, target, parameters);

    /// <summary>Sets a parameter whose value is already checked; keeps keys ascending.</summary>
    internal SvcbData WithValidatedParam(ushort key, byte[] value)
    {
        int index = IndexOf(key);
        var param = new SvcParam(key, value);
        SvcParam[] copy;
        if (index >= 0)
        {
            copy = [.. _params];
            copy[index] = param;
        }
        else
        {
            int insertAt = ~index;
            copy = [.. _params[..insertAt], param, .. _params[insertAt..]];
        }

        return new SvcbData(Type, Priority, Target, copy);
    }

    internal static List<ReadOnlyMemory<byte>> SplitCharacterStrings(ReadOnlyMemory<byte> value)
    {
        var result = new List<ReadOnlyMemory<byte>>();
        for (int at = 0; at < value.Length; at += 1 + value.Span[at])
        {
            result.Add(value.Slice(at + 1, value.Span[at]));
        }

        return result;
    }

    internal override void WriteTo(ref DnsWriter writer)
    {
        writer.WriteUInt16(Priority);
        writer.WriteName(Target, compressible: false);
        foreach (var p in _params)
        {
            writer.WriteUInt16(p.Key);
            writer.WriteUInt16((ushort)p.Value.Length);
            writer.WriteBytes(p.Value.Span);
        }
    }

    /// <summary>Binary search by key: the index, or the bitwise complement of the insertion point.</summary>
    private int IndexOf(ushort key)
    {
        int low = 0;
        int high = _params.Length - 1;
        while (low <= high)
        {
            int mid = (low + high) >>> 1;
            int cmp = _params[mid].Key.CompareTo(key);
            if (cmp == 0)
            {
                return mid;
            }

            if (cmp < 0)
            {
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }

        return ~low;
    }

    private IPAddress[]? Addresses(SvcParamKey key, int size)
    {
        if (GetParam((ushort)key) is not { } value)
        {
            return null;
        }

        var addresses = new IPAddress[value.Length / size];
        for (int i = 0; i < addresses.Length; i++)
        {
            addresses[i] = new IPAddress(value.Span.Slice(i * size, size));
        }

        return addresses;
    }

    private static byte[] AddressBytes(IEnumerable<IPAddress> addresses, AddressFamily family)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        int size = family == AddressFamily.InterNetwork ? 4 : 16;
        var value = new List<byte>();
        foreach (var address in addresses)
        {
            ArgumentNullException.ThrowIfNull(address, nameof(addresses));
            if (address.AddressFamily != family)
            {
                throw Error.WrongAddressFamily(nameof(addresses), size == 4 ? "IPv4" : "IPv6");
            }

            value.AddRange(address.GetAddressBytes());
        }

        return [.. value];
    }
}
