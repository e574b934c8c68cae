// Text forms shared by the rdata types and the zone-file parser (RFC 1035 §5.1 escapes, RFC 3597 generic
// rdata). Names are printed absolute (trailing dot) so that ZoneFile reads them back unchanged; bytes that
// would confuse the tokenizer are escaped as \X or \DDD; valid UTF-8 is printed as text.

using System.Globalization;
using System.Text;

namespace Pkarr.Dns;

internal static class Presentation
{
    /// <summary>An absolute name: escaped labels joined with '.', a trailing '.'; the root is ".".</summary>
    public static string FormatName(DnsName name)
    {
        if (name.IsRoot)
        {
            return ".";
        }

        var builder = new StringBuilder(name.WireLength + 8);
        for (int i = 0; i < name.LabelCount; i++)
        {
            AppendEscaped(builder, name.Label(i), inQuotes: false, escapeDots: true);
            builder.Append('.');
        }

        return builder.ToString();
    }

    /// <summary>
    /// A name as a zone file writes it under <c>$ORIGIN <paramref name="origin"/></c>: <c>@</c> for the origin itself,
    /// the escaped labels before the origin (no trailing dot) for a name under it, and the absolute form otherwise.
    /// </summary>
    public static string FormatName(DnsName name, DnsName origin)
    {
        if (!name.EndsWith(origin))
        {
            return FormatName(name);
        }

        int relative = name.LabelCount - origin.LabelCount;
        if (relative == 0)
        {
            return "@";
        }

        var builder = new StringBuilder(name.WireLength);
        for (int i = 0; i < relative; i++)
        {
            if (i > 0)
            {
                builder.Append('.');
            }

            AppendEscaped(builder, name.Label(i), inQuotes: false, escapeDots: true);
        }

        return builder.ToString();
    }

    /// <summary>A character-string in double quotes with escapes.</summary>
    public static string FormatCharacterString(ReadOnlySpan<byte> value)
    {
        var builder = new StringBuilder(value.Length + 2);
        AppendQuoted(builder, value);
        return builder.ToString();
    }

    public static void AppendQuoted(StringBuilder builder, ReadOnlySpan<byte> value)
    {
        builder.Append('"');
        AppendEscaped(builder, value, inQuotes: true, escapeDots: false);
        builder.Append('"');
    }

    /// <summary>RFC 3597 generic rdata: <c>\# length hex</c>.</summary>
    public static string FormatGeneric(ReadOnlySpan<byte> data)
        => data.IsEmpty
            ? "\\# 0"
            : string.Create(CultureInfo.InvariantCulture, $"\\# {data.Length} {Convert.ToHexStringLower(data)}");

    public static string TypeName(RecordType type)
        => Enum.IsDefined(type) ? type.ToString() : string.Create(CultureInfo.InvariantCulture, $"TYPE{(ushort)type}");

    public static string ClassName(DnsClass dnsClass)
        => Enum.IsDefined(dnsClass) ? dnsClass.ToString() : string.Create(CultureInfo.InvariantCulture, $"CLASS{(ushort)dnsClass}");

    /// <summary>
    /// Appends bytes as presentation text. Valid UTF-8 outside ASCII is kept as characters; control bytes,
    /// space (outside quotes), invalid UTF-8 and DEL become \DDD; the zone-file specials get a backslash.
    /// </summary>
    public static void AppendEscaped(StringBuilder builder, ReadOnlySpan<byte> value, bool inQuotes, bool escapeDots)
    {
        while (!value.IsEmpty)
        {
            byte b = value[0];
            if (b >= 0x80)
            {
                if (System.Text.Rune.DecodeFromUtf8(value, out var rune, out int consumed) == System.Buffers.OperationStatus.Done
                    && !System.Text.Rune.IsControl(rune) && !System.Text.Rune.IsWhiteSpace(rune))
                {
                    builder.Append(rune.ToString());
                    value = value[consumed..];
                    continue;
                }

                AppendDecimalEscape(builder, b);
            }
            else if (b < 0x20 || b == 0x7F || (b == ' ' && !inQuotes))
            {
                AppendDecimalEscape(builder, b);
            }
            else if (b is (byte)'"' or (byte)'\\' || (!inQuotes && IsUnquotedSpecial(b)) || (escapeDots && b == '.'))
            {
                builder.Append('\\').Append((char)b);
            }
            else
            {
                builder.Append((char)b);
            }

            value = value[1..];
        }
    }

    private static bool IsUnquotedSpecial(byte b) => b is (byte)';' or (byte)'(' or (byte)')' or (byte)'@' or (byte)'$' or (byte)',';

    private static void AppendDecimalEscape(StringBuilder builder, byte b)
        => builder.Append('\\').Append(((int)b).ToString("D3", CultureInfo.InvariantCulture));
}
