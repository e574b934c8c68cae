// Every exception the DNS codec throws is built here, so messages stay consistent and call sites read
// `throw DnsExceptions.NameTooLong();`. Parsing never throws: it reports a DnsError instead.

using System.Globalization;

namespace Pkarr.Dns;

internal static class DnsExceptions
{
    public static FormatException InvalidName(string text)
        => new(string.Create(CultureInfo.InvariantCulture, $"'{text}' is not a valid DNS name: labels are limited to 63 bytes and names to 255 bytes."));

    public static ArgumentException InvalidLabel(int length)
        => new(string.Create(CultureInfo.InvariantCulture, $"A DNS label must be 1 to 63 bytes long, not {length}."));

    public static ArgumentException NameTooLong()
        => new("A DNS name must not exceed 255 bytes on the wire.");

    public static ArgumentException WrongAddressFamily(string paramName, string expected)
        => new($"Expected an {expected} address.", paramName);

    public static ArgumentException CharacterStringTooLong(string paramName)
        => new("A DNS character-string holds at most 255 bytes.", paramName);

    public static ArgumentException RDataTooLong(RecordType type)
        => new(string.Create(CultureInfo.InvariantCulture, $"The rdata of a {type} record would exceed 65535 bytes."));

    public static ArgumentException NotServiceBindingType(RecordType type)
        => new(string.Create(CultureInfo.InvariantCulture, $"Service-binding data must be of type SVCB or HTTPS, not {type}."), nameof(type));

    public static ArgumentException InvalidSvcParam(ushort key)
        => new(string.Create(CultureInfo.InvariantCulture, $"The value is not valid for SVCB parameter key {key}."));

    public static ArgumentException InvalidCaaTag(string paramName)
        => new("A CAA tag must be 1 to 255 characters in the range U+0000..U+00FF.", paramName);

    public static InvalidOperationException TooManyEntries(string section)
        => new($"The {section} section holds more than 65535 entries.");

    public static FormatException InvalidMessage(DnsError error)
        => new($"Invalid DNS message: {error.Message}.");
}
