// Every exception the core throws is built here, so messages stay consistent and call sites stay short
// (`throw Error.RDataTooLong(type);`). Parsing never throws: it returns a typed error (SignedPacketError,
// PublicKeyError, DnsError, ZoneFileError), and the throwing Parse/From methods wrap that error.

using System.Globalization;
using Pkarr.Dns;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr;

internal static class Error
{
    internal static ArgumentNullException ArgumentNull(string paramName) => new(paramName);

    internal static ArgumentException SecretKeyLength(int actual, string paramName) =>
        new(Invariant($"An Ed25519 secret key (seed) is 32 bytes, got {actual}."), paramName);

    internal static InvalidDataException SecretKeyFile(string path, string reason) =>
        new($"{reason}: '{path}' must hold a 32-byte secret key as 64 hex characters (pkarr keygen writes one).");

    internal static InvalidSignedPacketException SignedPacket(SignedPacketError error) => new(error);

    internal static InvalidPublicKeyException PublicKey(PublicKeyError error) => new(error);

    internal static InvalidZoneFileException ZoneFile(ZoneFileError error) => new(error);

    internal static FormatException InvalidDnsMessage(DnsError error) => new($"Invalid DNS message: {error.Message}.");

    /// <summary>A name given as text that does not fit DNS: a label over 63 bytes or a name over 255.</summary>
    internal static FormatException InvalidName(string name) =>
        new($"'{name}' is not a valid DNS name: labels are limited to 63 bytes and names to 255 bytes.");

    /// <summary>An owner name that fits DNS on its own but not once the signer's key is appended.</summary>
    internal static FormatException NameTooLongUnderKey(string name) =>
        new($"'{name}' is not a valid owner name: it is longer than 255 bytes under the key.");

    internal static ArgumentException InvalidLabel(int length) =>
        new(Invariant($"A DNS label must be 1 to 63 bytes long, not {length}."));

    internal static ArgumentException NameTooLong() => new("A DNS name must not exceed 255 bytes on the wire.");

    internal static ArgumentException WrongAddressFamily(string paramName, string expected) =>
        new($"Expected an {expected} address.", paramName);

    internal static ArgumentException CharacterStringTooLong(string paramName) =>
        new("A DNS character-string holds at most 255 bytes.", paramName);

    internal static ArgumentException RDataTooLong(RecordType type) =>
        new(Invariant($"The rdata of a {type} record would exceed 65535 bytes."));

    internal static ArgumentException NotServiceBindingType(RecordType type) =>
        new(Invariant($"Service-binding data must be of type SVCB or HTTPS, not {type}."), nameof(type));

    internal static ArgumentException WrongSvcbType(RecordType expected, string paramName) =>
        new($"The record data must be of type {expected}; create it with SvcbData.{(expected == RecordType.HTTPS ? "Https" : "Svcb")}(...).", paramName);

    internal static ArgumentException InvalidSvcParam(ushort key) =>
        new(Invariant($"The value is not valid for SVCB parameter key {key}."));

    internal static ArgumentException InvalidCaaTag(string paramName) =>
        new("A CAA tag must be 1 to 255 characters in the range U+0000..U+00FF.", paramName);

    internal static InvalidOperationException TooManyEntries(string section) =>
        new($"The {section} section holds more than 65535 entries.");

    internal static InvalidOperationException ValidatedDnsFailed(DnsError error) =>
        new($"A DNS message validated earlier failed to parse ({error.Message}); this is a bug in the DNS reader.");

    internal static ArgumentOutOfRangeException MinAboveMax(uint min, uint max) =>
        new(nameof(min), Invariant($"The minimum TTL ({min}) is above the maximum ({max})."));

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
