// Every exception the core throws is built here, so messages stay consistent and call sites stay short
// (`throw Error.PacketTooLarge(size);`).

using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr;

internal static class Error
{
    internal static ArgumentException SecretKeyLength(int actual, string paramName) =>
        new($"An Ed25519 secret key (seed) is 32 bytes, got {actual}.", paramName);

    internal static InvalidDataException SecretKeyFile(string path, string reason) =>
        new($"{reason}: '{path}' must hold a 32-byte secret key as 64 hex characters (pkarr keygen writes one).");

    internal static InvalidSignedPacketException SignedPacket(SignedPacketError error) => new(error);

    internal static InvalidPublicKeyException PublicKey(PublicKeyError error) => new(error);

    internal static ArgumentException InvalidName(string name, string reason) =>
        new($"'{name}' is not a valid DNS name: {reason}.", nameof(name));

    internal static ArgumentException WrongSvcbType(Dns.RecordType expected, string paramName) =>
        new($"The record data must be of type {expected}; create it with SvcbData.{(expected == Dns.RecordType.HTTPS ? "Https" : "Svcb")}(...).", paramName);

    internal static InvalidOperationException ValidatedDnsFailed(Dns.DnsError error) =>
        new($"A DNS message validated earlier failed to parse ({error.Message}); this is a bug in the DNS reader.");

    internal static ArgumentOutOfRangeException MinAboveMax(uint min, uint max) =>
        new(nameof(min), $"The minimum TTL ({min}) is above the maximum ({max}).");
}
