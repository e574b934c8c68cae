using System.Net;
using System.Text.Json;
using Pkarr.Dns;
using Pkarr.Packets;

namespace Pkarr.Tests.Packets;

/// <summary>Turns the records of a <c>signed_packets</c> vector into builder calls, as the reference tests do.</summary>
internal static class VectorRecords
{
    internal static SignedPacketBuilder Builder(JsonElement vector)
    {
        var builder = SignedPacket.Builder()
            .Timestamp(new Timestamp(vector.GetProperty("timestamp").GetUInt64()))
            .Compression(vector.GetProperty("compressed").GetBoolean());
        foreach (var record in vector.GetProperty("records").EnumerateArray())
        {
            Add(builder, record);
        }

        return builder;
    }

    private static void Add(SignedPacketBuilder builder, JsonElement record)
    {
        string name = record.GetProperty("name").GetString()!;
        uint ttl = record.GetProperty("ttl").GetUInt32();
        var rdata = record.GetProperty("rdata");
        switch (record.GetProperty("type").GetString())
        {
            case "A":
            case "AAAA":
                builder.Address(name, IPAddress.Parse(rdata.GetString()!), ttl);
                break;
            case "CNAME":
                builder.Cname(name, rdata.GetString()!, ttl);
                break;
            case "TXT":
                builder.Txt(name, rdata.GetString()!, ttl);
                break;
            case "NS":
                builder.Ns(name, rdata.GetString()!, ttl);
                break;
            case "MX":
                builder.Mx(name, rdata.GetProperty("preference").GetUInt16(), rdata.GetProperty("exchange").GetString()!, ttl);
                break;
            case "HTTPS":
                builder.Https(name, Svcb(RecordType.HTTPS, rdata), ttl);
                break;
            case "SVCB":
                builder.Svcb(name, Svcb(RecordType.SVCB, rdata), ttl);
                break;
            default:
                throw new InvalidOperationException($"vector record type {record.GetProperty("type")} is not mapped");
        }
    }

    private static SvcbData Svcb(RecordType type, JsonElement rdata)
    {
        var data = new SvcbData(type, rdata.GetProperty("priority").GetUInt16(), DnsName.Parse(rdata.GetProperty("target").GetString()!));
        if (rdata.TryGetProperty("params", out var parameters))
        {
            foreach (var param in parameters.EnumerateObject())
            {
                data = param.Name switch
                {
                    "alpn" => data.WithAlpn(param.Value.EnumerateArray().Select(p => p.GetString()!)),
                    "port" => data.WithPort(param.Value.GetUInt16()),
                    _ => throw new InvalidOperationException($"vector SvcParam {param.Name} is not mapped"),
                };
            }
        }

        return data;
    }
}
