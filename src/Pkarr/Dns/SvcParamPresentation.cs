// Presentation of SvcParams (RFC 9460 §2.1, Appendix A): "key=value" with the registered key names and
// value syntaxes; a value that the named syntax cannot reproduce byte-for-byte (e.g. an unsorted mandatory
// list, a 3-byte port accepted leniently from the wire) is written in the generic "keyNNNNN=\"...\"" form,
// which ZoneFile reads back as raw bytes.

using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Text;

namespace Pkarr.Dns;

internal static class SvcParamPresentation
{
    private static readonly string[] Names = ["mandatory", "alpn", "no-default-alpn", "port", "ipv4hint", "ech", "ipv6hint"];

    public static string? NameOf(ushort key) => key < Names.Length ? Names[key] : null;

    /// <summary>The key for a presentation name ("alpn", "key1", …), or null.</summary>
    public static ushort? KeyOf(string name, out bool generic)
    {
        generic = false;
        int index = Array.IndexOf(Names, name);
        if (index >= 0)
        {
            return (ushort)index;
        }

        if (name.StartsWith("key", StringComparison.Ordinal) && name.Length is > 3 and <= 8
            && !name.AsSpan(3).ContainsAnyExceptInRange('0', '9')
            && (name.Length == 4 || name[3] != '0')
            && ushort.TryParse(name.AsSpan(3), NumberStyles.None, CultureInfo.InvariantCulture, out ushort key))
        {
            generic = true;
            return key;
        }

        return null;
    }

    public static void Append(StringBuilder builder, ushort key, ReadOnlySpan<byte> value)
    {
        if (!TryAppendNamed(builder, key, value))
        {
            builder.Append(CultureInfo.InvariantCulture, $"key{key}=");
            Presentation.AppendQuoted(builder, value);
        }
    }

    private static bool TryAppendNamed(StringBuilder builder, ushort key, ReadOnlySpan<byte> value)
    {
        switch ((SvcParamKey)key)
        {
            case SvcParamKey.Mandatory:
                {
                    if (value.IsEmpty || value.Length % 2 != 0)
                    {
                        return false;
                    }

                    var parts = new List<string>();
                    int previous = -1;
                    for (int i = 0; i < value.Length; i += 2)
                    {
                        ushort k = BinaryPrimitives.ReadUInt16BigEndian(value[i..]);
                        if (k <= previous)
                        {
                            return false;
                        }

                        previous = k;
                        parts.Add(NameOf(k) ?? string.Create(CultureInfo.InvariantCulture, $"key{k}"));
                    }

                    builder.Append("mandatory=").AppendJoin(',', parts);
                    return true;
                }

            case SvcParamKey.Alpn:
                {
                    if (value.IsEmpty || SvcbData.CheckParam(key, value, out _) != DnsErrorKind.None)
                    {
                        return false;
                    }

                    var items = new StringBuilder();
                    for (int at = 0; at < value.Length; at += 1 + value[at])
                    {
                        var id = value.Slice(at + 1, value[at]);
                        if (id.IsEmpty)
                        {
                            return false;
                        }

                        if (items.Length > 0)
                        {
                            items.Append(',');
                        }

                        // Inside a value-list, ',' and '\' in an item are escaped with a backslash (RFC 9460 §A.1);
                        // the presentation escape then doubles that backslash.
                        var escapedItem = new List<byte>(id.Length);
                        foreach (byte b in id)
                        {
                            if (b is (byte)',' or (byte)'\\')
                            {
                                escapedItem.Add((byte)'\\');
                            }

                            escapedItem.Add(b);
                        }

                        Presentation.AppendEscaped(items, [.. escapedItem], inQuotes: true, escapeDots: false);
                    }

                    builder.Append("alpn=\"").Append(items).Append('"');
                    return true;
                }

            case SvcParamKey.NoDefaultAlpn:
                if (!value.IsEmpty)
                {
                    return false;
                }

                builder.Append("no-default-alpn");
                return true;
            case SvcParamKey.Port:
                if (value.Length != 2)
                {
                    return false;
                }

                builder.Append(CultureInfo.InvariantCulture, $"port={BinaryPrimitives.ReadUInt16BigEndian(value)}");
                return true;
            case SvcParamKey.Ipv4Hint:
            case SvcParamKey.Ipv6Hint:
                {
                    int size = key == (ushort)SvcParamKey.Ipv4Hint ? 4 : 16;
                    if (value.IsEmpty || value.Length % size != 0)
                    {
                        return false;
                    }

                    builder.Append(Names[key]).Append('=');
                    for (int i = 0; i < value.Length; i += size)
                    {
                        if (i > 0)
                        {
                            builder.Append(',');
                        }

                        builder.Append(new IPAddress(value.Slice(i, size)).ToString());
                    }

                    return true;
                }

            case SvcParamKey.Ech:
                if (SvcbData.CheckParam(key, value, out _) != DnsErrorKind.None)
                {
                    return false;
                }

                builder.Append("ech=").Append(Convert.ToBase64String(value));
                return true;
            default:
                return false;
        }
    }
}
