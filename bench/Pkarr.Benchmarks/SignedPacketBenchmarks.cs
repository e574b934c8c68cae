// Signed-packet hot paths against the physical limit measured in the same run: raw libsodium (NSec) Ed25519
// sign and verify of the same signable. Run: see docs/benchmarks.md.

using BenchmarkDotNet.Attributes;
using NSec.Cryptography;
using Pkarr.Dns;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Benchmarks;

[MemoryDiagnoser]
public class SignedPacketBenchmarks
{
    private Keypair _keypair = null!;
    private Key _nsecKey = null!;
    private NSec.Cryptography.PublicKey _nsecPublicKey = null!;
    private SignedPacket _packet = null!;
    private byte[] _bytes = null!;
    private byte[] _dns = null!;
    private byte[] _signable = null!;
    private byte[] _signature = null!;
    private DnsMessage _message = null!;
    private SignedPacketBuilder _filled = null!;
    private readonly byte[] _encodeBuffer = new byte[SignedPacket.MaxDnsLength];
    private readonly byte[] _signatureBuffer = new byte[64];

    /// <summary>Small: one TXT record (~90 bytes of DNS). Large: many records, just under 1000 bytes.</summary>
    [Params("small", "large")]
    public string Size { get; set; } = "small";

    [GlobalSetup]
    public void Setup()
    {
        byte[] seed = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        _keypair = Keypair.FromSecretKey(seed);
        _nsecKey = Key.Import(SignatureAlgorithm.Ed25519, seed, KeyBlobFormat.RawPrivateKey);
        _nsecPublicKey = _nsecKey.PublicKey;
        _filled = Build();
        _packet = _filled.Sign(_keypair);
        _bytes = _packet.Bytes.ToArray();
        _dns = _packet.EncodedPacket.ToArray();
        _signable = SignedPacket.Signable(_packet.Timestamp, _dns);
        _signature = _packet.Signature.ToArray();
        _message = _packet.Message;
        if (Size == "large" && _dns.Length < 900)
        {
            throw new InvalidOperationException($"the large packet is only {_dns.Length} bytes");
        }
    }

    private SignedPacketBuilder Build()
    {
        var builder = SignedPacket.Builder().Timestamp(new Timestamp(1_700_000_000_000_000));
        if (Size == "small")
        {
            return builder.Txt("_hello", "world=1", 300);
        }

        // 14 records of mixed types land just under the 1000-byte limit (989 bytes) with compression.
        for (int i = 0; i < 6; i++)
        {
            builder.A($"host{i}.service", System.Net.IPAddress.Parse($"192.0.2.{i + 1}"), 300);
            builder.Txt($"_txt{i}.service", new string((char)('a' + i), 100), 300);
        }

        builder.Aaaa("@", System.Net.IPAddress.Parse("2001:db8::1"), 300);
        return builder.Cname("www", "host0.service.example.com", 300);
    }

    [Benchmark(Description = "build+sign")]
    public SignedPacket BuildAndSign() => Build().Sign(_keypair);

    /// <summary>The library's part of signing: owner names normalised under the key, encoding, signature.</summary>
    [Benchmark(Description = "sign a filled builder")]
    public SignedPacket SignFilledBuilder() => _filled.Sign(_keypair);

    [Benchmark(Description = "raw NSec sign (limit)")]
    public byte[] RawSign()
    {
        SignatureAlgorithm.Ed25519.Sign(_nsecKey, _signable, _signatureBuffer);
        return _signatureBuffer;
    }

    [Benchmark(Description = "decode+verify")]
    public SignedPacket DecodeAndVerify() => SignedPacket.FromBytes(_bytes);

    [Benchmark(Description = "raw NSec verify (limit)")]
    public bool RawVerify() => SignatureAlgorithm.Ed25519.Verify(_nsecPublicKey, _signable, _signature);

    [Benchmark(Description = "DNS encode only")]
    public int EncodeOnly() => _message.TryEncode(_encodeBuffer, compress: true, out int written) ? written : -1;

    [Benchmark(Description = "DNS parse only")]
    public int ParseOnly() => DnsMessage.TryParse(_dns, out var message, out _) ? message.Answers.Count : -1;

    [Benchmark(Description = "DNS validate only")]
    public bool ValidateOnly() => DnsMessage.TryValidate(_dns, out _);

    [GlobalCleanup]
    public void Cleanup()
    {
        _keypair.Dispose();
        _nsecKey.Dispose();
    }
}

[MemoryDiagnoser]
public class ZBase32Benchmarks
{
    private readonly Pkarr.Keys.PublicKey _key = Pkarr.Keys.PublicKey.Parse("yg4gxe7z1r7mr6orids9fh95y7gxhdsxjqi6nngsxxtakqaxr5no");
    private readonly string _text = "yg4gxe7z1r7mr6orids9fh95y7gxhdsxjqi6nngsxxtakqaxr5no";
    private readonly byte[] _buffer = new byte[32];

    [Benchmark(Description = "z-base32 encode")]
    public string Encode() => _key.ToString();

    [Benchmark(Description = "z-base32 decode")]
    public bool Decode() => ZBase32.TryDecode(_text, _buffer, out _);

    [Benchmark(Description = "PublicKey.Parse (decode + point check)")]
    public Pkarr.Keys.PublicKey Parse() => Pkarr.Keys.PublicKey.Parse(_text);
}
