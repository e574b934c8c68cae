// Seeded random record sets, each record held twice: as the page's form input ({ name, type, ttl, data }) and as
// the C# core's RecordData, so the same records can be signed on both sides and compared byte for byte.

using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Pkarr.Dns;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Web.Tests.Codec;

/// <summary>One record as both sides build it.</summary>
internal sealed record GeneratedRecord(string Name, string Type, uint Ttl, JsonObject PageData, RecordData Data)
{
    public JsonObject ToPage() => new()
    {
        ["name"] = Name,
        ["type"] = Type,
        ["ttl"] = Ttl,
        ["data"] = PageData.DeepClone(),
    };
}

/// <summary>A key, a timestamp and records that fit one packet.</summary>
internal sealed record RecordSet(byte[] Seed, ulong Timestamp, IReadOnlyList<GeneratedRecord> Records)
{
    public SignedPacket Sign() => TrySign(compress: true) ?? throw new InvalidOperationException("the set does not fit a packet");

    /// <summary>The core's packet for these records, or null when it exceeds 1000 bytes (uncompressed ones may).</summary>
    public SignedPacket? TrySign(bool compress)
    {
        using var keypair = Keypair.FromSecretKey(Seed);
        var builder = SignedPacket.Builder().Timestamp(new Timestamp(Timestamp)).Compression(compress);
        foreach (var record in Records)
        {
            builder.Record(record.Name, record.Data, record.Ttl);
        }

        return builder.TrySign(keypair, out var packet, out _) ? packet : null;
    }

    public JsonObject ToPage() => new()
    {
        ["seed"] = Convert.ToHexStringLower(Seed),
        ["timestamp"] = Timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["records"] = new JsonArray([.. Records.Select(r => (JsonNode)r.ToPage())]),
    };
}

internal sealed class RecordSets(int seed)
{
    private static readonly string[] Alpns = ["h2", "h3", "http/1.1", "h3-29", "a,b", "x\\y"];
    private static readonly string[] TextPieces = ["a", "Z", " ", "é", "漢", "😀", "\"", "\\", ";", "(", "\t", "\n", "\u0001", "\u00a0", "=", "."];

    private readonly Random _random = new(seed);

    /// <summary><paramref name="count"/> sets of 1–8 records, each trimmed until it fits 1000 bytes.</summary>
    public List<RecordSet> Generate(int count)
    {
        var sets = new List<RecordSet>(count);
        for (int i = 0; i < count; i++)
        {
            byte[] secret = new byte[32];
            _random.NextBytes(secret);
            using var keypair = Keypair.FromSecretKey(secret);
            string origin = keypair.PublicKey.ToString();
            ulong timestamp = (ulong)_random.NextInt64(0, long.MaxValue);
            var records = new List<GeneratedRecord>();
            int wanted = _random.Next(1, 9);
            for (int r = 0; r < wanted; r++)
            {
                records.Add(Record(origin));
            }

            while (records.Count > 1 && !Fits(secret, timestamp, records))
            {
                records.RemoveAt(records.Count - 1);
            }

            if (Fits(secret, timestamp, records))
            {
                sets.Add(new RecordSet(secret, timestamp, records));
            }
            else
            {
                i--; // a single record too large for a packet: draw again (rare, bounded by the draw sizes)
            }
        }

        return sets;
    }

    private static bool Fits(byte[] seed, ulong timestamp, List<GeneratedRecord> records)
    {
        using var keypair = Keypair.FromSecretKey(seed);
        var builder = SignedPacket.Builder().Timestamp(new Timestamp(timestamp));
        foreach (var record in records)
        {
            builder.Record(record.Name, record.Data, record.Ttl);
        }

        return builder.TrySign(keypair, out _, out _);
    }

    private T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

    private bool Coin(int inN = 2) => _random.Next(inN) == 0;

    private GeneratedRecord Record(string origin)
    {
        string name = Pick(["@", ".", "", "www", "_x._tcp", "a.b.c", "sub.", $"foo.{origin}", origin, $"x.{origin}.", "café", "*.wild", "foo.@"]);
        uint ttl = Pick([0u, 1u, 30u, 300u, 3600u, 86400u, uint.MaxValue, (uint)_random.NextInt64(0, uint.MaxValue + 1L)]);
        string target = Pick([".", "example.com", "example.com.", "mail.example.org", $"host.{origin}", "ns1.example.com", "_svc.x-y.example"]);
        switch (_random.Next(9))
        {
            case 0:
                {
                    var address = new IPAddress(RandomBytes(4));
                    return new(name, "A", ttl, new JsonObject { ["address"] = address.ToString() }, new AData(address));
                }

            case 1:
                {
                    var address = new IPAddress(Ipv6Bytes());
                    return new(name, "AAAA", ttl, new JsonObject { ["address"] = address.ToString() }, new AaaaData(address));
                }

            case 2:
                return new(name, "CNAME", ttl, new JsonObject { ["target"] = target }, new CnameData(DnsName.Parse(target)));
            case 3:
                return new(name, "NS", ttl, new JsonObject { ["target"] = target }, new NsData(DnsName.Parse(target)));
            case 4:
                {
                    ushort preference = (ushort)_random.Next(65536);
                    return new(name, "MX", ttl, new JsonObject { ["preference"] = preference, ["exchange"] = target }, new MxData(preference, DnsName.Parse(target)));
                }

            case 5:
            case 6:
                {
                    string text = Text();
                    return new(name, "TXT", ttl, new JsonObject { ["text"] = text }, new TxtData(text));
                }

            default:
                return ServiceBinding(name, ttl, target);
        }
    }

    /// <summary>Short and empty text, and long text (more than one 254-byte string) with multibyte UTF-8.</summary>
    private string Text()
    {
        int pieces = _random.Next(4) switch
        {
            0 => 0,
            1 => _random.Next(1, 20),
            2 => _random.Next(60, 120),
            _ => _random.Next(120, 260),
        };
        var text = new StringBuilder();
        for (int i = 0; i < pieces; i++)
        {
            text.Append(Coin(3) ? Pick(TextPieces) : ((char)('a' + _random.Next(26))).ToString());
        }

        return text.ToString();
    }

    private byte[] RandomBytes(int count)
    {
        byte[] bytes = new byte[count];
        _random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>IPv6 addresses with the forms .NET prints specially: zero runs, IPv4-mapped/compatible, ISATAP.</summary>
    private byte[] Ipv6Bytes()
    {
        byte[] bytes = RandomBytes(16);
        switch (_random.Next(6))
        {
            case 0:
                // Each group zero with some chance, so runs of every length and position occur.
                for (int i = 0; i < 16; i += 2)
                {
                    if (Coin())
                    {
                        bytes[i] = bytes[i + 1] = 0;
                    }
                }

                break;
            case 1:
                Array.Clear(bytes, 0, 10);
                bytes[10] = bytes[11] = 0xff; // ::ffff:a.b.c.d
                break;
            case 2:
                Array.Clear(bytes, 0, 12); // ::a.b.c.d (or ::x when the address is small)
                if (Coin())
                {
                    Array.Clear(bytes, 12, Coin() ? 2 : 3);
                }

                break;
            case 3:
                Array.Clear(bytes, 8, 2);
                bytes[10] = 0x5e;
                bytes[11] = 0xfe; // ISATAP
                if (Coin())
                {
                    Array.Clear(bytes, 2, 6);
                }

                break;
            case 4:
                Array.Clear(bytes, 0, 16);
                bytes[15] = (byte)_random.Next(2); // :: and ::1
                break;
            default:
                break;
        }

        return bytes;
    }

    private GeneratedRecord ServiceBinding(string name, uint ttl, string target)
    {
        bool https = Coin();
        ushort priority = (ushort)_random.Next(4);
        var data = https ? SvcbData.Https(priority, DnsName.Parse(target)) : SvcbData.Svcb(priority, DnsName.Parse(target));
        var parameters = new JsonObject();
        if (Coin(3))
        {
            string[] names = [.. new[] { "alpn", "port", "ipv4hint", "ech", "ipv6hint", "no-default-alpn", "key65001" }.Where(_ => Coin())];
            if (names.Length > 0)
            {
                parameters["mandatory"] = new JsonArray([.. names.Select(n => (JsonNode)n)]);
                data = data.WithMandatory(names.Select(KeyNumber));
            }
        }

        if (Coin())
        {
            string[] ids = [.. Alpns.Where(_ => Coin(3))];
            ids = ids.Length == 0 ? ["h2"] : ids;
            parameters["alpn"] = new JsonArray([.. ids.Select(id => (JsonNode)id)]);
            data = data.WithAlpn(ids);
        }

        if (Coin(3))
        {
            parameters["no-default-alpn"] = true;
            data = data.WithNoDefaultAlpn();
        }

        if (Coin())
        {
            ushort port = (ushort)_random.Next(65536);
            parameters["port"] = port;
            data = data.WithPort(port);
        }

        if (Coin(3))
        {
            var addresses = Enumerable.Range(0, _random.Next(1, 4)).Select(_ => new IPAddress(RandomBytes(4))).ToArray();
            parameters["ipv4hint"] = new JsonArray([.. addresses.Select(a => (JsonNode)a.ToString())]);
            data = data.WithIpv4Hint(addresses);
        }

        if (Coin(3))
        {
            byte[] configs = RandomBytes(_random.Next(0, 40));
            data = data.WithEch(configs);
            parameters["ech"] = Convert.ToBase64String(data.GetParam(5)!.Value.Span);
        }

        if (Coin(3))
        {
            var addresses = Enumerable.Range(0, _random.Next(1, 3)).Select(_ => new IPAddress(Ipv6Bytes())).ToArray();
            parameters["ipv6hint"] = new JsonArray([.. addresses.Select(a => (JsonNode)a.ToString())]);
            data = data.WithIpv6Hint(addresses);
        }

        if (Coin(4))
        {
            ushort key = (ushort)_random.Next(7, 65535);
            byte[] value = RandomBytes(_random.Next(0, 12));
            parameters[$"key{key}"] = new JsonObject { ["$hex"] = Convert.ToHexStringLower(value) };
            data = data.WithParam(key, value);
        }

        return new(name, https ? "HTTPS" : "SVCB", ttl, new JsonObject { ["priority"] = priority, ["target"] = target, ["params"] = parameters }, data);
    }

    private static ushort KeyNumber(string name) => name switch
    {
        "mandatory" => 0,
        "alpn" => 1,
        "no-default-alpn" => 2,
        "port" => 3,
        "ipv4hint" => 4,
        "ech" => 5,
        "ipv6hint" => 6,
        _ => ushort.Parse(name.AsSpan(3), System.Globalization.CultureInfo.InvariantCulture),
    };
}
