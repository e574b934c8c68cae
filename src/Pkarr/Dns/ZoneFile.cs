// Zone-file text for `pkarr sign --zone` (shared spec §9.4, the pkdns "simple zone"): an RFC 1035 master-file
// body without SOA or $ORIGIN, read as if "$ORIGIN <key>." and "$TTL 300" came first. So '@' is the apex,
// relative names are under the key, absolute names end with '.', $TTL lines and per-record TTLs work, TTL and
// class may come in either order, a blank owner repeats the previous one, and parentheses continue a record
// over several lines.
//
// Supported types: A, AAAA, NS, CNAME, PTR, MX, TXT, SRV, CAA, SOA, HTTPS, SVCB (RFC 9460 presentation), and
// any type in RFC 3597 generic form ("TYPE123 \# 3 abcdef"), which is also what RecordData.ToString() prints
// for opaque data. Anything else is an error naming the line.

using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Pkarr.Dns;

/// <summary>Parses zone-file text into resource records.</summary>
public static partial class ZoneFile
{
    /// <summary>TTL used when neither the record nor a <c>$TTL</c> line gives one (pkdns prepends <c>$TTL 300</c>).</summary>
    public const uint DefaultTtl = 300;

    /// <summary>Parses zone-file text.</summary>
    /// <param name="text">The zone text.</param>
    /// <param name="origin">The origin (the z-base32 key); relative names are placed under it, '@' is it.</param>
    /// <param name="records">The records, in file order, with absolute owner names (no trailing dot).</param>
    /// <param name="error">Why the text is refused and on which line, or <c>default</c>.</param>
    /// <returns>Whether the text was valid.</returns>
    public static bool TryParse(
        string text,
        string origin,
        [NotNullWhen(true)] out IReadOnlyList<ResourceRecord>? records,
        out ZoneFileError error)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(origin);
        records = null;
        if (!DnsName.TryParse(origin, out var originName))
        {
            error = Failure(ZoneFileErrorKind.InvalidOrigin, 0, $"the origin '{origin}' is not a valid DNS name");
            return false;
        }

        if (!TryTokenize(text, out var entries, out error))
        {
            return false;
        }

        var result = new List<ResourceRecord>();
        uint defaultTtl = DefaultTtl;
        DnsName? previousOwner = null;
        foreach (var entry in entries)
        {
            var tokens = entry.Tokens;
            if (entry.HasOwner && !tokens[0].Quoted && tokens[0].Text.StartsWith('$'))
            {
                if (!TryDirective(entry, ref defaultTtl, ref originName, out error))
                {
                    return false;
                }

                continue;
            }

            int next = 0;
            DnsName owner;
            if (entry.HasOwner)
            {
                if (!TryName(tokens[0], originName, out owner, out error))
                {
                    return false;
                }

                next = 1;
            }
            else if (previousOwner is not null)
            {
                owner = previousOwner;
            }
            else
            {
                error = Failure(ZoneFileErrorKind.MissingOwner, entry.Line, "the first record has no owner name (only later lines may start with a blank)");
                return false;
            }

            if (!TryRecord(entry, tokens, next, owner, originName, defaultTtl, out var record, out error))
            {
                return false;
            }

            result.Add(record);
            previousOwner = owner;
        }

        records = result;
        error = default;
        return true;
    }

    /// <summary>Parses zone-file text.</summary>
    /// <param name="text">The zone text.</param>
    /// <param name="origin">The origin (the z-base32 key).</param>
    /// <returns>The records.</returns>
    /// <exception cref="InvalidZoneFileException">The text is not valid; its <see cref="InvalidZoneFileException.Error"/> says where and why.</exception>
    public static IReadOnlyList<ResourceRecord> Parse(string text, string origin)
        => TryParse(text, origin, out var records, out var error) ? records : throw Pkarr.Error.ZoneFile(error);

    /// <summary>Parses the presentation form of one rdata, as <see cref="RecordData.ToString"/> prints it.</summary>
    /// <param name="type">The record type.</param>
    /// <param name="presentation">The rdata text, e.g. <c>10 mail.example.com.</c>.</param>
    /// <param name="origin">Origin for relative names in the text.</param>
    /// <param name="data">The rdata.</param>
    /// <param name="error">Why the text was refused, or <c>default</c>.</param>
    /// <returns>Whether the text was valid.</returns>
    public static bool TryParseRecordData(
        RecordType type,
        string presentation,
        DnsName origin,
        [NotNullWhen(true)] out RecordData? data,
        out ZoneFileError error)
    {
        ArgumentNullException.ThrowIfNull(presentation);
        ArgumentNullException.ThrowIfNull(origin);
        data = null;
        if (!TryTokenize(" " + presentation.ReplaceLineEndings(" "), out var entries, out error))
        {
            return false;
        }

        var tokens = entries.Count == 1 ? entries[0].Tokens : [];
        return TryRecordData(type, tokens, 0, 1, origin, out data, out error);
    }

    private static bool TryDirective(Entry entry, ref uint defaultTtl, ref DnsName origin, out ZoneFileError error)
    {
        error = default;
        var tokens = entry.Tokens;
        string directive = tokens[0].Text.ToUpperInvariant();
        switch (directive)
        {
            case "$TTL" when tokens.Count == 2 && TryTtl(tokens[1].Text, out uint ttl):
                defaultTtl = ttl;
                return true;
            case "$ORIGIN" when tokens.Count == 2:
                return TryName(tokens[1], origin, out origin, out error);
            default:
                error = Failure(ZoneFileErrorKind.UnsupportedDirective, entry.Line, $"unsupported or malformed directive '{tokens[0].Text}' (only $TTL <ttl> and $ORIGIN <name>)");
                return false;
        }
    }

    private static bool TryRecord(
        Entry entry,
        List<Token> tokens,
        int next,
        DnsName owner,
        DnsName origin,
        uint defaultTtl,
        [NotNullWhen(true)] out ResourceRecord? record,
        out ZoneFileError error)
    {
        record = null;
        uint? ttl = null;
        DnsClass? dnsClass = null;
        for (int column = 0; column < 2 && next < tokens.Count; column++)
        {
            string text = tokens[next].Text;
            if (ttl is null && TryTtl(text, out uint value))
            {
                ttl = value;
                next++;
            }
            else if (dnsClass is null && TryClass(text, out var parsedClass))
            {
                dnsClass = parsedClass;
                next++;
            }
        }

        if (next >= tokens.Count)
        {
            error = Failure(ZoneFileErrorKind.MissingType, entry.Line, "missing record type");
            return false;
        }

        if (!TryType(tokens[next].Text, out var type))
        {
            error = Failure(ZoneFileErrorKind.UnsupportedType, entry.Line, $"unsupported record type '{tokens[next].Text}'");
            return false;
        }

        if (!TryRecordData(type, tokens, next + 1, entry.Line, origin, out var data, out error))
        {
            return false;
        }

        record = new ResourceRecord(owner, dnsClass ?? DnsClass.IN, ttl ?? defaultTtl, data);
        return true;
    }

    /// <summary>A TTL: decimal seconds, or BIND-style units such as 1h30m (s, m, h, d, w).</summary>
    internal static bool TryTtl(string text, out uint ttl)
    {
        ttl = 0;
        if (text.Length == 0 || !char.IsAsciiDigit(text[0]))
        {
            return false;
        }

        if (uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ttl))
        {
            return true;
        }

        ulong total = 0;
        ulong number = 0;
        bool digits = false;
        foreach (char c in text)
        {
            if (char.IsAsciiDigit(c))
            {
                number = (number * 10) + (ulong)(c - '0');
                digits = true;
                if (number > uint.MaxValue)
                {
                    return false;
                }

                continue;
            }

            ulong unit = char.ToLowerInvariant(c) switch
            {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86400,
                'w' => 604800,
                _ => 0,
            };
            if (unit == 0 || !digits)
            {
                return false;
            }

            total += number * unit;
            number = 0;
            digits = false;
            if (total > uint.MaxValue)
            {
                return false;
            }
        }

        if (digits)
        {
            return false;
        }

        ttl = (uint)total;
        return true;
    }

    private static bool TryClass(string text, out DnsClass dnsClass)
    {
        dnsClass = default;
        string upper = text.ToUpperInvariant();
        if (upper is "IN" or "CS" or "CH" or "HS" or "NONE")
        {
            dnsClass = Enum.Parse<DnsClass>(upper);
            return true;
        }

        if (upper.StartsWith("CLASS", StringComparison.Ordinal)
            && ushort.TryParse(upper.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out ushort value)
            && value is 1 or 2 or 3 or 4 or 254)
        {
            dnsClass = (DnsClass)value;
            return true;
        }

        return false;
    }

    private static bool TryType(string text, out RecordType type)
    {
        type = default;
        string upper = text.ToUpperInvariant();
        if (upper.StartsWith("TYPE", StringComparison.Ordinal)
            && ushort.TryParse(upper.AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out ushort code))
        {
            type = (RecordType)code;
            return type != RecordType.OPT;
        }

        return upper is not ("OPT" or "ANY") && Enum.TryParse(upper, ignoreCase: false, out type)
            && Enum.IsDefined(type) && !char.IsAsciiDigit(upper[0]);
    }
}
