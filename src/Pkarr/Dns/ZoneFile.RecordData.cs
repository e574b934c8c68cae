// Presentation formats of rdata (RFC 1035 §5.1, RFC 2782, RFC 8659 §4.1.1, RFC 9460 §2.1 and Appendix A,
// RFC 3597 §5) and the decoding of names and character-strings with their \X and \DDD escapes.

using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Pkarr.Dns;

public static partial class ZoneFile
{
    private static bool TryRecordData(
        RecordType type,
        List<Token> tokens,
        int start,
        int line,
        DnsName origin,
        [NotNullWhen(true)] out RecordData? data,
        out ZoneFileError error)
    {
        data = null;
        error = default;
        var args = tokens.Skip(start).ToList();
        string typeName = Presentation.TypeName(type);
        if (args.Count > 0 && args[0] is { Quoted: false, Text: "\\#" })
        {
            return TryGeneric(type, args, line, out data, out error);
        }

        bool Fail(string message, out ZoneFileError err)
        {
            err = Failure(ZoneFileErrorKind.InvalidRecordData, line, $"{typeName}: {message}");
            return false;
        }

        bool Count(int expected, out ZoneFileError err)
        {
            err = default;
            return args.Count == expected || Fail($"expected {expected} fields, found {args.Count}", out err);
        }

        switch (type)
        {
            case RecordType.A:
            case RecordType.AAAA:
                {
                    if (!Count(1, out error))
                    {
                        return false;
                    }

                    if (!TryAddress(args[0].Text, type == RecordType.A ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6, out var address))
                    {
                        return Fail($"'{args[0].Text}' is not a valid address", out error);
                    }

                    data = type == RecordType.A ? new AData(address) : new AaaaData(address);
                    return true;
                }

            case RecordType.NS:
            case RecordType.CNAME:
            case RecordType.PTR:
                {
                    if (!Count(1, out error) || !TryName(args[0], origin, out var name, out error))
                    {
                        return false;
                    }

                    data = type switch
                    {
                        RecordType.NS => new NsData(name),
                        RecordType.CNAME => new CnameData(name),
                        _ => new PtrData(name),
                    };
                    return true;
                }

            case RecordType.MX:
                {
                    if (!Count(2, out error))
                    {
                        return false;
                    }

                    if (!TryUInt16(args[0].Text, out ushort preference))
                    {
                        return Fail($"'{args[0].Text}' is not a preference (0-65535)", out error);
                    }

                    if (!TryName(args[1], origin, out var exchange, out error))
                    {
                        return false;
                    }

                    data = new MxData(preference, exchange);
                    return true;
                }

            case RecordType.TXT:
                {
                    if (args.Count == 0)
                    {
                        return Fail("expected at least one character-string", out error);
                    }

                    var strings = new List<byte[]>();
                    foreach (var arg in args)
                    {
                        if (!TryCharacterString(arg.Text, out byte[]? bytes) || bytes.Length > TxtData.MaxStringLength)
                        {
                            return Fail("a character-string is malformed or longer than 255 bytes", out error);
                        }

                        strings.Add(bytes);
                    }

                    data = new TxtData(strings);
                    return true;
                }

            case RecordType.SRV:
                {
                    if (!Count(4, out error))
                    {
                        return false;
                    }

                    if (!TryUInt16(args[0].Text, out ushort priority) || !TryUInt16(args[1].Text, out ushort weight)
                        || !TryUInt16(args[2].Text, out ushort port))
                    {
                        return Fail("priority, weight and port must be numbers 0-65535", out error);
                    }

                    if (!TryName(args[3], origin, out var target, out error))
                    {
                        return false;
                    }

                    data = new SrvData(priority, weight, port, target);
                    return true;
                }

            case RecordType.CAA:
                {
                    if (!Count(3, out error))
                    {
                        return false;
                    }

                    if (!byte.TryParse(args[0].Text, NumberStyles.None, CultureInfo.InvariantCulture, out byte flags))
                    {
                        return Fail($"'{args[0].Text}' is not a flags byte", out error);
                    }

                    string tag = args[1].Text;
                    if (tag.Length is 0 or > 255 || !tag.All(char.IsAsciiLetterOrDigit))
                    {
                        return Fail($"'{tag}' is not a valid tag", out error);
                    }

                    if (!TryCharacterString(args[2].Text, out byte[]? value) || value.Length > ushort.MaxValue - 257)
                    {
                        return Fail("malformed value", out error);
                    }

                    data = new CaaData(flags, tag, value);
                    return true;
                }

            case RecordType.SOA:
                {
                    if (!Count(7, out error))
                    {
                        return false;
                    }

                    if (!TryName(args[0], origin, out var primary, out error) || !TryName(args[1], origin, out var mailbox, out error))
                    {
                        return false;
                    }

                    uint[] numbers = new uint[5];
                    for (int i = 0; i < 5; i++)
                    {
                        if (!TryTtl(args[2 + i].Text, out numbers[i]))
                        {
                            return Fail($"'{args[2 + i].Text}' is not a 32-bit number", out error);
                        }
                    }

                    data = new SoaData(primary, mailbox, numbers[0], numbers[1], numbers[2], numbers[3], numbers[4]);
                    return true;
                }

            case RecordType.SVCB:
            case RecordType.HTTPS:
                return TryServiceBinding(type, args, line, origin, out data, out error);

            default:
                error = Failure(ZoneFileErrorKind.UnsupportedType, line, $"{typeName}: no presentation form is supported (use the generic form TYPEnnn \\# length hex)");
                return false;
        }
    }

    /// <summary>RFC 3597 §5: <c>\# length hex…</c> (hex may be split over several tokens).</summary>
    private static bool TryGeneric(RecordType type, List<Token> args, int line, [NotNullWhen(true)] out RecordData? data, out ZoneFileError error)
    {
        data = null;
        error = default;
        if (args.Count < 2 || !int.TryParse(args[1].Text, NumberStyles.None, CultureInfo.InvariantCulture, out int length)
            || length > ushort.MaxValue)
        {
            error = Failure(ZoneFileErrorKind.InvalidRecordData, line, "generic rdata needs '\\# <length> <hex>'");
            return false;
        }

        string hex = string.Concat(args.Skip(2).Select(t => t.Text));
        byte[] bytes;
        try
        {
            bytes = Convert.FromHexString(hex);
        }
        catch (FormatException)
        {
            error = Failure(ZoneFileErrorKind.InvalidRecordData, line, "generic rdata is not hexadecimal");
            return false;
        }

        if (bytes.Length != length)
        {
            error = Failure(ZoneFileErrorKind.InvalidRecordData, line, $"generic rdata has {bytes.Length} bytes, not {length}");
            return false;
        }

        data = new UnknownData(type, bytes);
        return true;
    }

    private static bool TryServiceBinding(
        RecordType type,
        List<Token> args,
        int line,
        DnsName origin,
        [NotNullWhen(true)] out RecordData? data,
        out ZoneFileError error)
    {
        data = null;
        if (args.Count < 2 || !TryUInt16(args[0].Text, out ushort priority))
        {
            error = Failure(ZoneFileErrorKind.InvalidRecordData, line, $"{type}: expected '<priority> <target> [key=value ...]'");
            return false;
        }

        if (!TryName(args[1], origin, out var target, out error))
        {
            return false;
        }

        var svcb = new SvcbData(type, priority, target);
        var seen = new HashSet<ushort>();
        foreach (var arg in args.Skip(2))
        {
            int eq = arg.Text.IndexOf('=', StringComparison.Ordinal);
            string keyName = eq < 0 ? arg.Text : arg.Text[..eq];
            string? value = eq < 0 ? null : arg.Text[(eq + 1)..];
            if (SvcParamPresentation.KeyOf(keyName, out bool generic) is not { } key)
            {
                error = Failure(ZoneFileErrorKind.InvalidRecordData, line, $"{type}: unknown SvcParamKey '{keyName}'");
                return false;
            }

            if (!seen.Add(key))
            {
                error = Failure(ZoneFileErrorKind.InvalidRecordData, line, $"{type}: SvcParamKey '{keyName}' appears twice");
                return false;
            }

            if (!TrySvcParamValue(key, generic, value, out byte[]? wire)
                || SvcbData.CheckParam(key, wire, out _) != DnsErrorKind.None)
            {
                error = Failure(ZoneFileErrorKind.InvalidRecordData, line, $"{type}: invalid value for '{keyName}'");
                return false;
            }

            svcb = svcb.WithValidatedParam(key, wire);
        }

        data = svcb;
        return true;
    }

    private static bool TrySvcParamValue(ushort key, bool generic, string? value, [NotNullWhen(true)] out byte[]? wire)
    {
        wire = null;
        if (generic)
        {
            wire = value is null ? [] : TryCharacterString(value, out byte[]? raw) ? raw : null;
            return wire is not null && wire.Length <= ushort.MaxValue;
        }

        if ((SvcParamKey)key == SvcParamKey.NoDefaultAlpn)
        {
            wire = value is null or "" ? [] : null;
            return wire is not null;
        }

        if (value is null || !TryCharacterString(value, out byte[]? text))
        {
            return false;
        }

        var items = SplitValueList(text);
        var output = new List<byte>();
        switch ((SvcParamKey)key)
        {
            case SvcParamKey.Mandatory:
                {
                    var keys = new SortedSet<ushort>();
                    foreach (byte[] item in items)
                    {
                        if (SvcParamPresentation.KeyOf(Encoding.UTF8.GetString(item), out _) is not { } k || !keys.Add(k))
                        {
                            return false;
                        }
                    }

                    foreach (ushort k in keys)
                    {
                        output.Add((byte)(k >> 8));
                        output.Add((byte)k);
                    }

                    break;
                }

            case SvcParamKey.Alpn:
                foreach (byte[] item in items)
                {
                    if (item.Length is 0 or > 255)
                    {
                        return false;
                    }

                    output.Add((byte)item.Length);
                    output.AddRange(item);
                }

                break;
            case SvcParamKey.Port:
                if (!TryUInt16(Encoding.UTF8.GetString(text), out ushort port))
                {
                    return false;
                }

                output.Add((byte)(port >> 8));
                output.Add((byte)port);
                break;
            case SvcParamKey.Ipv4Hint:
            case SvcParamKey.Ipv6Hint:
                {
                    var family = (SvcParamKey)key == SvcParamKey.Ipv4Hint ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
                    foreach (byte[] item in items)
                    {
                        if (!TryAddress(Encoding.UTF8.GetString(item), family, out var address))
                        {
                            return false;
                        }

                        output.AddRange(address.GetAddressBytes());
                    }

                    break;
                }

            case SvcParamKey.Ech:
                {
                    byte[] decoded = new byte[text.Length];
                    if (!Convert.TryFromBase64String(Encoding.ASCII.GetString(text), decoded, out int written))
                    {
                        return false;
                    }

                    output.AddRange(decoded.AsSpan(0, written));
                    break;
                }

            default:
                return false;
        }

        wire = [.. output];
        return wire.Length <= ushort.MaxValue;
    }

    /// <summary>RFC 9460 Appendix A.1 value-list: items separated by ',', where "\," and "\\" escape inside an item.</summary>
    private static List<byte[]> SplitValueList(byte[] text)
    {
        var items = new List<byte[]>();
        var current = new List<byte>();
        for (int i = 0; i < text.Length; i++)
        {
            byte b = text[i];
            if (b == '\\' && i + 1 < text.Length)
            {
                current.Add(text[++i]);
            }
            else if (b == ',')
            {
                items.Add([.. current]);
                current.Clear();
            }
            else
            {
                current.Add(b);
            }
        }

        items.Add([.. current]);
        return items;
    }

    /// <summary>A name token: '@' is the origin; absolute names end with an unescaped '.'; others get the origin appended.</summary>
    internal static bool TryName(Token token, DnsName origin, out DnsName name, out ZoneFileError error)
    {
        name = DnsName.Root;
        error = default;
        string text = token.Text;
        if (text == "@" && !token.Quoted)
        {
            name = origin;
            return true;
        }

        var labels = new List<byte[]>();
        var label = new List<byte>();
        bool absolute = false;
        Span<byte> utf8 = stackalloc byte[4];
        for (int i = 0; i < text.Length; i++)
        {
            absolute = false;
            char c = text[i];
            if (c == '\\')
            {
                if (!TryEscape(text, ref i, out byte[]? bytes))
                {
                    error = Failure(ZoneFileErrorKind.InvalidName, token.Line, $"bad escape in name '{text}'");
                    return false;
                }

                label.AddRange(bytes);
            }
            else if (c == '.')
            {
                if (label.Count > 0)
                {
                    labels.Add([.. label]);
                    label.Clear();
                }

                absolute = true;
            }
            else
            {
                int length = char.IsHighSurrogate(c) && i + 1 < text.Length
                    ? Encoding.UTF8.GetBytes(text.AsSpan(i++, 2), utf8)
                    : Encoding.UTF8.GetBytes(text.AsSpan(i, 1), utf8);
                label.AddRange(utf8[..length]);
            }

            if (label.Count > DnsName.MaxLabelLength)
            {
                error = Failure(ZoneFileErrorKind.InvalidName, token.Line, $"label longer than 63 bytes in '{text}'");
                return false;
            }
        }

        if (label.Count > 0)
        {
            labels.Add([.. label]);
        }

        if (labels.Sum(l => l.Length + 1) + 1 > DnsName.MaxWireLength)
        {
            error = Failure(ZoneFileErrorKind.InvalidName, token.Line, $"name '{text}' is longer than 255 bytes");
            return false;
        }

        name = DnsName.FromLabels(labels);
        if (!absolute && !name.TryAppend(origin, out name))
        {
            error = Failure(ZoneFileErrorKind.InvalidName, token.Line, $"name '{text}' under the origin is longer than 255 bytes");
            return false;
        }

        return true;
    }

    /// <summary>Decodes a character-string token: \DDD is a byte, \X is X, other text is UTF-8.</summary>
    private static bool TryCharacterString(string text, [NotNullWhen(true)] out byte[]? bytes)
    {
        bytes = null;
        var output = new List<byte>(text.Length);
        int runStart = 0;
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] != '\\')
            {
                continue;
            }

            output.AddRange(Encoding.UTF8.GetBytes(text[runStart..i]));
            if (!TryEscape(text, ref i, out byte[]? escaped))
            {
                return false;
            }

            output.AddRange(escaped);
            runStart = i + 1;
        }

        output.AddRange(Encoding.UTF8.GetBytes(text[runStart..]));
        bytes = [.. output];
        return true;
    }

    /// <summary>Decodes the escape starting at text[i] (a backslash); leaves i on its last character.</summary>
    private static bool TryEscape(string text, ref int i, [NotNullWhen(true)] out byte[]? bytes)
    {
        bytes = null;
        if (i + 1 >= text.Length)
        {
            return false;
        }

        if (char.IsAsciiDigit(text[i + 1]))
        {
            if (i + 3 >= text.Length)
            {
                return false;
            }

            if (!int.TryParse(text.AsSpan(i + 1, 3), NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value > 255)
            {
                return false;
            }

            bytes = [(byte)value];
            i += 3;
            return true;
        }

        int length = char.IsHighSurrogate(text[i + 1]) && i + 2 < text.Length ? 2 : 1;
        bytes = Encoding.UTF8.GetBytes(text.Substring(i + 1, length));
        i += length;
        return true;
    }

    private static bool TryUInt16(string text, out ushort value)
        => ushort.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    private static bool TryAddress(string text, AddressFamily family, [NotNullWhen(true)] out IPAddress? address)
    {
        address = null;
        if (family == AddressFamily.InterNetwork)
        {
            // Only the dotted quad: IPAddress.TryParse would also take "1" or "0x7f.1".
            string[] parts = text.Split('.');
            if (parts.Length != 4 || !parts.All(p => p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit)))
            {
                return false;
            }
        }
        else if (text.Contains('%', StringComparison.Ordinal) || !text.Contains(':', StringComparison.Ordinal))
        {
            return false;
        }

        return IPAddress.TryParse(text, out address) && address.AddressFamily == family;
    }
}
