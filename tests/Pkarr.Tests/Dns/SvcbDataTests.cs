using System.Net;
using Pkarr.Dns;

namespace Pkarr.Tests.Dns;

public class SvcbDataTests
{
    [Fact]
    public void Factories_choose_the_type()
    {
        Assert.Equal(RecordType.SVCB, SvcbData.Svcb(1, DnsName.Root).Type);
        Assert.Equal(RecordType.HTTPS, SvcbData.Https(1, DnsName.Root).Type);
        Assert.Throws<ArgumentException>(() => new SvcbData(RecordType.A, 1, DnsName.Root));
        Assert.True(SvcbData.Https(0, DnsName.Parse("x")).IsAliasMode);
    }

    [Fact]
    public void Params_are_kept_in_ascending_key_order_whatever_the_call_order()
    {
        var data = SvcbData.Https(1, DnsName.Root).WithPort(443).WithParam(9, [1]).WithAlpn("h3").WithMandatory(3, 1);
        Assert.Equal([(ushort)0, (ushort)1, (ushort)3, (ushort)9], data.Params.Select(p => p.Key));
        Assert.Equal(
            "0001 00 0000 0004 00010003 0001 0003 026833 0003 0002 01bb 0009 0001 01".Replace(" ", "", StringComparison.Ordinal),
            Convert.ToHexStringLower(data.ToWire()));
    }

    [Fact]
    public void Each_param_prints_its_zone_file_form()
    {
        var data = SvcbData.Https(1, DnsName.Root).WithPort(443).WithAlpn("h2", "h3").WithParam(9, [1]);
        Assert.Equal(["alpn=\"h2,h3\"", "port=443", "key9=\"\\001\""], data.Params.Select(p => p.ToString()));
        Assert.Equal("1 . " + string.Join(' ', data.Params), data.ToString());
    }

    [Fact]
    public void Setting_a_param_again_replaces_it_and_copies_are_independent()
    {
        var first = SvcbData.Https(1, DnsName.Root).WithPort(443);
        var second = first.WithPort(8443);
        Assert.Equal((ushort)443, first.Port);
        Assert.Equal((ushort)8443, second.Port);
        Assert.Single(second.Params);
        Assert.Null(second.WithoutParam(3).Port);
        Assert.Same(second, second.WithoutParam(4));
    }

    [Fact]
    public void Typed_accessors_read_back_what_was_set()
    {
        var data = SvcbData.Svcb(2, DnsName.Parse("svc.example"))
            .WithMandatory(4, 1, 4)
            .WithAlpn("h2", "http/1.1")
            .WithNoDefaultAlpn()
            .WithIpv4Hint(IPAddress.Parse("192.0.2.1"))
            .WithEch([0xfe, 0x0d])
            .WithIpv6Hint(IPAddress.Parse("2001:db8::2"));

        Assert.Equal([(ushort)1, (ushort)4], data.Mandatory);
        Assert.Equal(["h2", "http/1.1"], data.Alpn);
        Assert.True(data.NoDefaultAlpn);
        Assert.Null(data.Port);
        Assert.Equal([IPAddress.Parse("192.0.2.1")], data.Ipv4Hint);
        Assert.Equal([0xfe, 0x0d], data.Ech!.Value.ToArray());
        Assert.Equal([0x00, 0x02, 0xfe, 0x0d], data.GetParam(5)!.Value.ToArray());
        Assert.Equal([IPAddress.Parse("2001:db8::2")], data.Ipv6Hint);
    }

    [Fact]
    public void Absent_params_read_as_null()
    {
        var data = SvcbData.Https(1, DnsName.Root);
        Assert.Null(data.Mandatory);
        Assert.Null(data.Alpn);
        Assert.False(data.NoDefaultAlpn);
        Assert.Null(data.Ipv4Hint);
        Assert.Null(data.Ech);
        Assert.Null(data.Ipv6Hint);
        Assert.Null(data.GetParam(1234));
    }

    [Fact]
    public void Malformed_values_for_known_keys_are_refused()
    {
        var data = SvcbData.Https(1, DnsName.Root);
        Assert.Throws<ArgumentException>(() => data.WithParam(3, [1]));
        Assert.Throws<ArgumentException>(() => data.WithParam(0, [1, 2, 3]));
        Assert.Throws<ArgumentException>(() => data.WithParam(1, [5, (byte)'a']));
        Assert.Throws<ArgumentException>(() => data.WithParam(5, [0, 5, 1]));
        Assert.Throws<ArgumentException>(() => data.WithAlpn(""));
        Assert.Throws<ArgumentException>(() => data.WithIpv4Hint(IPAddress.IPv6Loopback));
        Assert.Throws<ArgumentException>(() => data.WithIpv6Hint(IPAddress.Loopback));
    }

    [Fact]
    public void Target_is_never_compressed()
    {
        var owner = DnsName.Parse("example.com");
        var message = DnsMessage.Response(
        [
            new ResourceRecord(owner, DnsClass.IN, 60, new CnameData(owner)),
            new ResourceRecord(owner, DnsClass.IN, 60, SvcbData.Svcb(1, owner)),
            new ResourceRecord(owner, DnsClass.IN, 60, new SrvData(0, 0, 1, owner)),
        ]);

        string hex = Convert.ToHexStringLower(message.Encode());
        // The name is written in full once for the owner, then again inside SVCB and SRV, never for the CNAME.
        Assert.Equal(3, hex.Split("076578616d706c6503636f6d00").Length - 1);
    }
}
