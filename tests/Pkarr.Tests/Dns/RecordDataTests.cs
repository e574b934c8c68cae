using System.Net;
using Pkarr.Dns;

namespace Pkarr.Tests.Dns;

public class RecordDataTests
{
    [Fact]
    public void Equality_is_wire_equality()
    {
        Assert.Equal<RecordData>(new AData(IPAddress.Parse("1.2.3.4")), new UnknownData(RecordType.A, [1, 2, 3, 4]));
        Assert.Equal(new AData(IPAddress.Parse("1.2.3.4")).GetHashCode(), new UnknownData(RecordType.A, [1, 2, 3, 4]).GetHashCode());
        Assert.NotEqual<RecordData>(new CnameData(DnsName.Parse("x")), new NsData(DnsName.Parse("x")));
        Assert.NotEqual<RecordData>(new AData(IPAddress.Parse("1.2.3.4")), new AData(IPAddress.Parse("1.2.3.5")));
    }

    [Fact]
    public void Address_families_are_checked()
    {
        Assert.Throws<ArgumentException>(() => new AData(IPAddress.IPv6Loopback));
        Assert.Throws<ArgumentException>(() => new AaaaData(IPAddress.Loopback));
        var scoped = new AaaaData(IPAddress.Parse("fe80::1%3"));
        Assert.Equal(0, scoped.Address.ScopeId);
    }

    [Fact]
    public void Caa_checks_its_tag()
    {
        Assert.Throws<ArgumentException>(() => new CaaData(0, "", []));
        Assert.Throws<ArgumentException>(() => new CaaData(0, "ta\u0100g", []));
        Assert.Equal("0 issue \"\"", new CaaData(0, "issue", []).ToString());
    }

    [Fact]
    public void Unknown_data_is_limited_to_65535_bytes()
    {
        Assert.Throws<ArgumentException>(() => new UnknownData((RecordType)999, new byte[65536]));
        Assert.Equal(65535, new UnknownData((RecordType)999, new byte[65535]).ToWire().Length);
    }

    [Fact]
    public void Null_arguments_are_refused()
    {
        Assert.Throws<ArgumentNullException>(() => new CnameData(null!));
        Assert.Throws<ArgumentNullException>(() => new ResourceRecord(null!, DnsClass.IN, 1, new TxtData("x")));
        Assert.Throws<ArgumentNullException>(() => new ResourceRecord(DnsName.Root, DnsClass.IN, 1, null!));
        var record = new ResourceRecord(DnsName.Root, DnsClass.IN, 1, new TxtData("x"));
        Assert.Throws<ArgumentNullException>(() => record with { Name = null! });
        Assert.Throws<ArgumentNullException>(() => new DnsMessage { Answers = null! });
    }

    [Fact]
    public void Record_type_comes_from_the_data()
    {
        var record = new ResourceRecord(DnsName.Root, DnsClass.IN, 1, SvcbData.Https(1, DnsName.Root));
        Assert.Equal(RecordType.HTTPS, record.Type);
    }
}
