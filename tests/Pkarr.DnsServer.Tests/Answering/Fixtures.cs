using System.Text;
using Pkarr.Dns;
using Pkarr.DnsServer.Answering;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.DnsServer.Tests.Answering;

/// <summary>Keys, key spellings and helpers shared by the answering tests.</summary>
internal static class Fixtures
{
    private const string Alphabet = "ybndrfg8ejkmcpqxot1uwisza345h769";

    internal static readonly Keypair Signer = Keypair.Random();
    internal static readonly Keypair Other = Keypair.Random();

    internal static string K => Signer.PublicKey.ToZ32();

    internal static string K2 => Other.PublicKey.ToZ32();

    /// <summary>The same key with the four unused bits of the last character set: decodes to the same bytes.</summary>
    internal static string NonCanonical(string key)
    {
        int index = Alphabet.IndexOf(key[^1], StringComparison.Ordinal);
        return key[..^1] + Alphabet[index + 1];
    }

    /// <summary>52 valid characters that decode to 32 bytes which are not an Ed25519 point.</summary>
    internal static string NotOnCurve()
    {
        var bytes = new byte[32];
        for (int i = 0; i < 256; i++)
        {
            bytes[0] = (byte)i;
            if (!PublicKey.TryFromBytes(bytes, out _, out _))
            {
                return SimpleBase.Base32.ZBase32.Encode(bytes, padding: false);
            }
        }

        throw new InvalidOperationException("no off-curve encoding among 256 candidates");
    }

    internal static DnsName Name(string text) => DnsName.Parse(text);

    internal static PkarrNameMatcher Matcher(string? tld = "key", bool search = true, params string[] origins)
        => new(new PkarrNameOptions { TopLevelDomain = tld, MatchSearchSuffixes = search, Origins = origins });

    internal static AnswerResult Ask(
        SignedPacket packet,
        string qname,
        RecordType type,
        AnsweringOptions? options = null,
        DnsClass @class = DnsClass.IN,
        uint age = 0)
    {
        var match = Matcher(origins: "example.net").Match(Name(qname));
        Assert.Equal(PkarrNameKind.Pkarr, match.Kind);
        return new PacketAnswerer(options ?? new AnsweringOptions()).Answer(packet, match, type, @class, age);
    }

    internal static string[] Lines(IEnumerable<ResourceRecord> records) => [.. records.Select(r => r.ToString())];

    /// <summary>A packet signed over exactly these records (any owner names, classes and types).</summary>
    internal static SignedPacket Raw(Keypair signer, IEnumerable<ResourceRecord> records, ulong micros = 1_700_000_000_000_000)
    {
        byte[] dns = DnsMessage.Response(records).Encode();
        var timestamp = new Timestamp(micros);
        byte[] payload = new byte[64 + 8 + dns.Length];
        signer.Sign(SignedPacket.Signable(timestamp, dns), payload.AsSpan(0, 64));
        timestamp.WriteBigEndian(payload.AsSpan(64, 8));
        dns.CopyTo(payload.AsSpan(72));
        Assert.True(SignedPacket.TryFromRelayPayload(signer.PublicKey, payload, out var packet, out var error), error.ToString());
        return packet;
    }

    internal static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);
}
