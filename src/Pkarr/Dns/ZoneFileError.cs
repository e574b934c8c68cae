using System.Globalization;

namespace Pkarr.Dns;

/// <summary>What is wrong with zone-file text (<see cref="ZoneFile"/>).</summary>
public enum ZoneFileErrorKind
{
    /// <summary>No error.</summary>
    None,

    /// <summary>The origin passed to the parser is not a DNS name.</summary>
    InvalidOrigin,

    /// <summary>The text cannot be cut into entries: unbalanced parentheses, an unterminated quote, a trailing backslash.</summary>
    Syntax,

    /// <summary>The first record starts with a blank, so it has no owner name to repeat.</summary>
    MissingOwner,

    /// <summary>A <c>$</c> line other than <c>$TTL &lt;ttl&gt;</c> or <c>$ORIGIN &lt;name&gt;</c>.</summary>
    UnsupportedDirective,

    /// <summary>A record line without a type.</summary>
    MissingType,

    /// <summary>A type the parser has no presentation form for (the generic <c>TYPEnnn \# …</c> form works for any).</summary>
    UnsupportedType,

    /// <summary>A name with a bad escape, a label over 63 bytes, or over 255 bytes in all.</summary>
    InvalidName,

    /// <summary>The data does not fit its type: wrong field count, a bad address, number, string or parameter.</summary>
    InvalidRecordData,
}

/// <summary>A refused zone file: what is wrong, on which line, with the offending text.</summary>
/// <param name="Kind">What is wrong.</param>
/// <param name="Line">The 1-based line of the entry, or 0 when the error is not in the text (the origin).</param>
/// <param name="Detail">What is wrong in words, quoting the offending text.</param>
public readonly record struct ZoneFileError(ZoneFileErrorKind Kind, int Line, string Detail)
{
    /// <summary>A one-line description for users: <c>line N: detail</c>.</summary>
    public string Message => Line > 0
        ? string.Create(CultureInfo.InvariantCulture, $"line {Line}: {Detail}")
        : Detail ?? string.Empty;

    /// <inheritdoc />
    public override string ToString() => Message;
}

/// <summary>Thrown by <see cref="ZoneFile.Parse"/> when the text is not a valid zone; <see cref="Error"/> says where and why.</summary>
public sealed class InvalidZoneFileException : FormatException
{
    internal InvalidZoneFileException(ZoneFileError error)
        : base(error.Message)
    {
        Error = error;
    }

    /// <summary>What is wrong and on which line.</summary>
    public ZoneFileError Error { get; }
}
