// A seeded corpus of malformed and mutated DNS queries for the fuzz proof: valid queries (many names, types and EDNS
// variants) taken apart in every way a hostile or broken client could: truncation, bit flips, random bytes, huge
// section counts, compression-pointer loops and out-of-range pointers, illegal label types, over-long names,
// unknown EDNS versions, duplicate or broken OPT records, responses, other opcodes. Deterministic per seed.

using System.Buffers.Binary;
using System.Text;
using Pkarr.Dns;

namespace Pkarr.DnsServer.Tests.Tools;

internal static class QueryFuzzer
{
    private static readonly RecordType[] Types =
        [RecordType.A, RecordType.AAAA, RecordType.TXT, RecordType.CNAME, RecordType.MX, RecordType.NS, RecordType.SOA,
         RecordType.HTTPS, RecordType.SVCB, (RecordType)255, (RecordType)252, (RecordType)251, (RecordType)41, (RecordType)0, (RecordType)65535];

    /// <summary><paramref name="count"/> messages built from queries for <paramref name="names"/>.</summary>
    public static List<byte[]> Corpus(int seed, int count, IReadOnlyList<string> names)
    {
        var random = new Random(seed);
        var valid = new List<byte[]>();
        foreach (string name in names)
        {
            foreach (var type in Types)
            {
                valid.Add(RawDns.Query(0, name, type, udpSize: null));
                valid.Add(RawDns.Query(0, name, type));
                valid.Add(WithOptions(RawDns.Query(0, name, type, udpSize: 4096)));
            }
        }

        var corpus = new List<byte[]>(count);
        while (corpus.Count < count)
        {
            byte[] message = Mutate(random, valid[random.Next(valid.Count)]);
            if (message.Length >= 2)
            {
                // A fresh id for each, so that every reply can be traced to a query that was sent.
                BinaryPrimitives.WriteUInt16BigEndian(message, (ushort)random.Next(65536));
            }

            corpus.Add(message);
        }

        return corpus;
    }

    private static byte[] Mutate(Random random, byte[] valid)
    {
        byte[] message = (byte[])valid.Clone();
        switch (random.Next(12))
        {
            case 0:
                return message;
            case 1:
                return message[..random.Next(message.Length)];
            case 2:
                for (int i = random.Next(1, 9); i > 0; i--)
                {
                    message[random.Next(message.Length)] ^= (byte)(1 << random.Next(8));
                }

                return message;
            case 3:
                for (int i = random.Next(1, 17); i > 0; i--)
                {
                    message[random.Next(message.Length)] = (byte)random.Next(256);
                }

                return message;
            case 4:
                // Huge or wrong section counts.
                for (int section = 0; section < 4; section++)
                {
                    if (random.Next(2) == 0)
                    {
                        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(4 + (2 * section)), random.Next(3) switch { 0 => (ushort)0xFFFF, 1 => (ushort)0, _ => (ushort)random.Next(65536) });
                    }
                }

                return message;
            case 5:
                return PointerTrap(random, message);
            case 6:
                var bytes = new byte[random.Next(0, 600)];
                random.NextBytes(bytes);
                return bytes;
            case 7:
                return OddName(random, message);
            case 8:
                return OddEdns(random, message);
            case 9:
                // Header bits: QR (a response), opcodes, Z, TC, RCODE set in a query.
                message[2] = (byte)random.Next(256);
                message[3] = (byte)random.Next(256);
                return message;
            case 10:
                // Bytes inserted or removed in the middle, so every later offset is off.
                int at = random.Next(message.Length);
                return random.Next(2) == 0
                    ? [.. message[..at], .. RandomBytes(random, random.Next(1, 40)), .. message[at..]]
                    : [.. message[..at], .. message[Math.Min(message.Length, at + random.Next(1, 20))..]];
            default:
                // Trailing garbage after a valid message.
                return [.. message, .. RandomBytes(random, random.Next(1, 200))];
        }
    }

    private static byte[] PointerTrap(Random random, byte[] message)
    {
        byte[] header = message[..12];
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(4), 1);
        byte[] name = random.Next(5) switch
        {
            0 => [0xC0, 0x0C],                                     // points at itself
            1 => [0xC0, 0x0E, 0xC0, 0x0C],                         // two pointers pointing at each other
            2 => [0x01, (byte)'a', 0xC0, 0x0C],                    // a label, then back to the start
            3 => [0xC0, (byte)random.Next(256)],                   // anywhere, also beyond the end
            _ => [0x3F, .. Enumerable.Repeat((byte)'x', 63), 0xC0, 0x0C], // a long label, then a loop
        };
        return [.. header, .. name, 0x00, 0x01, 0x00, 0x01];
    }

    private static byte[] OddName(Random random, byte[] message)
    {
        byte[] header = message[..12];
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(10), 0);
        var name = new List<byte>();
        switch (random.Next(6))
        {
            case 0:
                // 0x40 and 0x80 label types (RFC 6891 §5 extended, reserved).
                name.AddRange([(byte)(0x40 | random.Next(64)), (byte)'a', 0]);
                break;
            case 1:
                // Longer than 255 bytes.
                for (int i = 0; i < 6; i++)
                {
                    name.Add(63);
                    name.AddRange(Enumerable.Repeat((byte)'z', 63));
                }

                name.Add(0);
                break;
            case 2:
                // Label bytes no hostname has: zero, dot, space, high bytes, '*' and '-' where pkdns crashed.
                foreach (string label in new[] { "\0x", "a.b", "a b", "\u00ff\u00fe", "*", "-", "_", "x-" })
                {
                    byte[] latin = Encoding.Latin1.GetBytes(label);
                    name.Add((byte)latin.Length);
                    name.AddRange(latin);
                }

                name.Add(0);
                break;
            case 3:
                // No terminating zero: the name runs off the end.
                name.AddRange([5, (byte)'a', (byte)'b']);
                return [.. header, .. name];
            case 4:
                // The root name.
                name.Add(0);
                break;
            default:
                // Many one-byte labels.
                for (int i = 0; i < 127; i++)
                {
                    name.AddRange([1, (byte)('a' + (i % 26))]);
                }

                name.Add(0);
                break;
        }

        return [.. header, .. name, 0x00, (byte)random.Next(256), 0x00, random.Next(4) == 0 ? (byte)random.Next(256) : (byte)1];
    }

    private static byte[] OddEdns(Random random, byte[] message)
    {
        byte[] query = RawDns.Query(BinaryPrimitives.ReadUInt16BigEndian(message), "www.example.test", RecordType.A, udpSize: null);
        byte version = (byte)random.Next(256);
        byte[] opt = [0, 0, 41, (byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256), version, (byte)random.Next(256), (byte)random.Next(256)];
        byte[] options = random.Next(4) switch
        {
            0 => [0, 0],                                                       // no options
            1 => [0, 4, 0, 10, 0, 3, 1, 2],                                    // cookie option longer than its data
            2 => [0, 12, 0, 0, 0, 8, 0, 2, 0, 0],                              // ECS, padding, truncated
            _ => [.. BitConverter.GetBytes((ushort)random.Next(65536)), .. RandomBytes(random, random.Next(0, 30))],
        };
        byte[] record = [.. opt, .. options];
        int optCount = random.Next(3) == 0 ? 2 : 1;
        BinaryPrimitives.WriteUInt16BigEndian(query.AsSpan(10), (ushort)optCount);
        byte[] result = query;
        for (int i = 0; i < optCount; i++)
        {
            // A non-root owner now and then (RFC 6891 §6.1.1: OPT's owner must be root).
            result = random.Next(5) == 0 ? [.. result, 1, (byte)'x', .. record] : [.. result, .. record];
        }

        return result;
    }

    // An OPT record with NSID, a client cookie and padding (what dig +nsid +cookie +padding sends).
    private static byte[] WithOptions(byte[] query)
    {
        byte[] options = [0, 3, 0, 0, 0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 12, 0, 4, 0, 0, 0, 0];
        int optAt = query.Length - 11;
        byte[] result = [.. query, .. options];
        BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(optAt + 9), (ushort)options.Length);
        return result;
    }

    private static byte[] RandomBytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }
}
