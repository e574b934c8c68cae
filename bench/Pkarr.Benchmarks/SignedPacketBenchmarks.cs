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

    // The caller's inputs, made once: what is timed is the library (builder calls, names parsed, signing), not the
    // benchmark's own string formatting and IPAddress.Parse.
    private static readonly string[] HostNames = [.. Enumerable.Range(0, 6).Select(i => $"host{i}.service")];
    private static readonly string[] TxtNames = [.. Enumerable.Range(0, 6).Select(i => $"_txt{i}.service")];
    private static readonly System.Net.IPAddress[] Addresses = [.. Enumerable.Range(0, 6).Select(i => System.Net.IPAddress.Parse($"192.0.2.{i + 1}"))];
    private static readonly string[] Texts = [.. Enumerable.Range(0, 6).Select(i => new string((char)('a' + i), 100))];
    private static readonly System.Net.IPAddress Ipv6 = System.Net.IPAddress.Parse("2001:db8::1");

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
            builder.A(HostNames[i], Addresses[i], 300);
            builder.Txt(TxtNames[i], Texts[i], 300);
        }

        builder.Aaaa("@", Ipv6, 300);
        return builder.Cname("www", "host0.service.example.com", 300);
    }

    /// <summary>The caller's part of build+sign: filling a builder (names parsed, addresses and texts converted).</summary>
    [Benchmark(Description = "fill a builder")]
    public SignedPacketBuilder FillBuilder() => Build();

    [Benchmark(Description = "build+sign")]
    public SignedPacket BuildAndSign() => Build().Sign(_keypair);

    /// <summary>The library's part of signing: owner names normalised under the key, encoding, signature.</summary>
    [Benchmark(Description = "sign a filled builder")]
    public SignedPacket SignFilledBuilder() => _filled.Sign(_keypair);

    /// <summary>The encoding part of signing a filled builder: owner names under the key, compression.</summary>
    [Benchmark(Description = "encode a filled builder")]
    public int EncodeFilledBuilder() => _filled.EncodeFor(_keypair, _encodeBuffer);

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

    [Benchmark(Description = "DNS encode only, no compression")]
    public int EncodeUncompressed() => _message.TryEncode(_encodeBuffer, compress: false, out int written) ? written : -1;

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

[MemoryDiagnoser]
public class BuilderPartsBenchmarks
{
    private readonly System.Net.IPAddress _address = System.Net.IPAddress.Parse("192.0.2.1");
    private readonly string _text = new('a', 100);

    [Benchmark(Description = "DnsName.TryParse host0.service")]
    public DnsName ParseName() => DnsName.TryParse("host0.service", out var name) ? name : DnsName.Root;

    [Benchmark(Description = "new TxtData(100 chars)")]
    public TxtData Txt() => new(_text);

    [Benchmark(Description = "new AData")]
    public AData A() => new(_address);

    [Benchmark(Description = "builder with one A record")]
    public SignedPacketBuilder OneA() => SignedPacket.Builder().A("host0.service", _address, 300);
}
