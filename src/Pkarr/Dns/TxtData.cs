// TXT record (RFC 1035 §3.3.14): one or more character-strings (length byte + up to 255 bytes).
// Building from text follows the reference (shared spec §3.4.2, §11.18): UTF-8 cut into chunks of 254
// bytes; the empty string gives zero strings, which are written as one empty character-string (a single
// 00 byte) because TXT rdata cannot be empty.

using System.Text;

namespace Pkarr.Dns;

/// <summary>The data of a TXT record: a list of character-strings.</summary>
public sealed class TxtData : RecordData
{
    /// <summary>Chunk size used when building from text, as the reference does (not 255).</summary>
    public const int TextChunkLength = 254;

    /// <summary>Longest character-string in bytes.</summary>
    public const int MaxStringLength = 255;

    // From text: the text itself, encoded to UTF-8 and cut into 254-byte strings as it is written (the list of
    // strings is only built when asked for): a builder adding TXT records copies nothing. Otherwise the strings.
    private readonly string? _text;
    private readonly int _textLength;
    private ReadOnlyMemory<byte>[]? _strings;

    /// <summary>Builds TXT data from text: UTF-8 cut into 254-byte character-strings; "" gives none.</summary>
    /// <param name="text">The text.</param>
    /// <exception cref="ArgumentException">The text does not fit one record (65535 bytes of rdata).</exception>
    public TxtData(string text)
    {
        _textLength = CheckText(text);
        _text = text;
    }

    /// <summary>The UTF-8 length of <paramref name="text"/>, which must fit one record once cut into strings.</summary>
    /// <exception cref="ArgumentException">The text does not fit one record (65535 bytes of rdata).</exception>
    internal static int CheckText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int length = Encoding.UTF8.GetByteCount(text);
        int count = (length + TextChunkLength - 1) / TextChunkLength;
        return length + count > ushort.MaxValue ? throw Error.RDataTooLong(RecordType.TXT) : length;
    }

    /// <summary>Writes the TXT data of <paramref name="text"/>, checked by <see cref="CheckText"/> that returned <paramref name="length"/>, as an instance made from it would.</summary>
    internal static void WriteText(ref DnsWriter writer, string text, int length)
    {
        if (length <= TextChunkLength)
        {
            writer.WriteCharacterString(text, length);
            return;
        }

        new TxtData(text).WriteTo(ref writer);
    }

    /// <summary>Builds TXT data from explicit character-strings.</summary>
    /// <param name="strings">The character-strings, each at most 255 bytes.</param>
    /// <exception cref="ArgumentException">A string is longer than 255 bytes or the total exceeds 65535 bytes.</exception>
    public TxtData(IEnumerable<byte[]> strings)
    {
        ArgumentNullException.ThrowIfNull(strings);
        var list = new List<ReadOnlyMemory<byte>>();
        int total = 0;
        foreach (byte[] s in strings)
        {
            ArgumentNullException.ThrowIfNull(s, nameof(strings));
            if (s.Length > MaxStringLength)
            {
                throw Error.CharacterStringTooLong(nameof(strings));
            }

            total += 1 + s.Length;
            if (total > ushort.MaxValue)
            {
                throw Error.RDataTooLong(RecordType.TXT);
            }

            list.Add(s.ToArray());
        }

        _strings = [.. list];
    }

    private TxtData(ReadOnlyMemory<byte>[] strings) => _strings = strings;

    /// <summary>Builds TXT data with one character-string per argument (each UTF-8, at most 255 bytes).</summary>
    /// <param name="strings">The strings.</param>
    /// <returns>The TXT data.</returns>
    public static TxtData FromStrings(params IEnumerable<string> strings)
    {
        ArgumentNullException.ThrowIfNull(strings);
        return new TxtData(strings.Select(s => Encoding.UTF8.GetBytes(s)));
    }

    /// <summary>The character-strings, in order.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Strings => StringArray;

    private ReadOnlyMemory<byte>[] StringArray => _strings ??= Chunk(Encoding.UTF8.GetBytes(_text!));

    /// <summary>All character-strings concatenated and decoded as UTF-8 (invalid bytes become U+FFFD).</summary>
    public string Text
    {
        get
        {
            if (_text is not null)
            {
                // As decoding the bytes would give: invalid UTF-16 (lone surrogates) became U+FFFD on encoding.
                return Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(_text));
            }

            int total = 0;
            foreach (var s in StringArray)
            {
                total += s.Length;
            }

            byte[] all = new byte[total];
            int at = 0;
            foreach (var s in StringArray)
            {
                s.Span.CopyTo(all.AsSpan(at));
                at += s.Length;
            }

            return Encoding.UTF8.GetString(all);
        }
    }

    /// <inheritdoc/>
    public override RecordType Type => RecordType.TXT;

    /// <inheritdoc/>
    public override string ToString()
    {
        var strings = StringArray;
        if (strings.Length == 0)
        {
            return "\"\"";
        }

        var builder = new StringBuilder();
        foreach (var s in strings)
        {
            if (builder.Length > 0)
            {
                builder.Append(' ');
            }

            Presentation.AppendQuoted(builder, s.Span);
        }

        return builder.ToString();
    }

    /// <summary>Creates TXT data from strings the parser has already checked (no copies).</summary>
    internal static TxtData FromValidated(ReadOnlyMemory<byte>[] strings) => new(strings);

    internal override void WriteTo(ref DnsWriter writer)
    {
        if (_text is not null && _textLength <= TextChunkLength)
        {
            // One string, encoded into the output (the common case; "" gives the single 00 byte, as below).
            writer.WriteCharacterString(_text, _textLength);
            return;
        }

        var strings = StringArray;
        if (strings.Length == 0)
        {
            writer.WriteByte(0);
            return;
        }

        foreach (var s in strings)
        {
            writer.WriteCharacterString(s.Span);
        }
    }

    private static ReadOnlyMemory<byte>[] Chunk(byte[] bytes)
    {
        var strings = new ReadOnlyMemory<byte>[(bytes.Length + TextChunkLength - 1) / TextChunkLength];
        for (int i = 0; i < strings.Length; i++)
        {
            int start = i * TextChunkLength;
            strings[i] = bytes.AsMemory(start, Math.Min(TextChunkLength, bytes.Length - start));
        }

        return strings;
    }
}
