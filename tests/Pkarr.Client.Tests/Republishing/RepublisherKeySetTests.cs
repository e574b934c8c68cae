using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Pkarr.Client.Republishing;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Tests.Republishing;

/// <summary>The persisted key set and the DI registration.</summary>
public sealed class RepublisherKeySetTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("pkarr-republisher-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string KeySet => Path.Combine(_folder, "keys.json");

    private Republisher Create() =>
        RepublisherTests.Create(new FakeRepublishNetwork(), TimeProvider.System, new RepublisherOptions { KeySetPath = KeySet });

    [Fact]
    public async Task The_key_set_survives_a_new_republisher_on_the_same_file_without_any_secret_in_it()
    {
        using var publicOnly = Keypair.Random();
        using var fromFile = Keypair.Random();
        using var inMemory = Keypair.Random();
        string secretFile = Path.Combine(_folder, "secret.key");
        fromFile.WriteSecretKeyFile(secretFile);
        var packet = SignedPacket.Builder().Txt("_t", "kept").Sign(publicOnly);

        await using (var first = Create())
        {
            first.AddKey(publicOnly.PublicKey, packet);
            Assert.Equal(fromFile.PublicKey, first.AddSecretFile(secretFile));
            first.AddKey(inMemory);
            Assert.True(first.HoldsSecret(inMemory.PublicKey));
        }

        string text = await File.ReadAllTextAsync(KeySet);
        foreach (var secret in new[] { fromFile, inMemory })
        {
            Assert.DoesNotContain(Convert.ToHexStringLower(secret.SecretKey()), text, StringComparison.OrdinalIgnoreCase);
        }

        Assert.Contains(secretFile, text, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_folder, "*.tmp")); // each write's temporary file was renamed over the set

        await using (var second = Create())
        {
            Assert.Equal([publicOnly.PublicKey, fromFile.PublicKey, inMemory.PublicKey], second.Keys);
            Assert.True(second.LatestPacket(publicOnly.PublicKey)!.IsSameAs(packet));
            Assert.True(second.HoldsSecret(fromFile.PublicKey)); // read again from its file
            Assert.False(second.HoldsSecret(inMemory.PublicKey)); // never written: republished unchanged from now on
            Assert.False(second.HoldsSecret(publicOnly.PublicKey));
            Assert.True(second.Remove(inMemory.PublicKey));
            Assert.False(second.Remove(inMemory.PublicKey));
        }

        await using var third = Create();
        Assert.Equal([publicOnly.PublicKey, fromFile.PublicKey], third.Keys);
    }

    [Fact]
    public async Task A_packet_learned_in_a_pass_is_written_to_the_key_set()
    {
        using var keypair = Keypair.Random();
        var packet = SignedPacket.Builder().Txt("_t", "learned").Sign(keypair);
        var network = new FakeRepublishNetwork();
        network.Store(packet);
        await using (var first = RepublisherTests.Create(network, TimeProvider.System, new RepublisherOptions { KeySetPath = KeySet }))
        {
            first.AddKey(keypair.PublicKey);
            Assert.Null(first.LatestPacket(keypair.PublicKey));
            Assert.Equal(RepublishOutcome.Republished, Assert.Single((await first.RunCycleAsync()).Keys).Outcome);
        }

        await using var second = Create();
        Assert.True(second.LatestPacket(keypair.PublicKey)!.IsSameAs(packet));
    }

    [Theory]
    [InlineData("{ not json", "not valid JSON")]
    [InlineData("null", "null")]
    [InlineData("""{ "version": 2, "keys": [] }""", "version is 2")]
    [InlineData("""{ "version": 1, "keys": [ { "publicKey": "not a key" } ] }""", "key 0 has no valid publicKey")]
    [InlineData("""{ "version": 1, "keys": [ { "publicKey": "o4dksfbqk85ogzdb5osziw6befigbuxmuxkuxq8434q89uj56uyy", "packet": "%%%" } ] }""", "not base64")]
    [InlineData("""{ "version": 1, "keys": [ { "publicKey": "o4dksfbqk85ogzdb5osziw6befigbuxmuxkuxq8434q89uj56uyy", "packet": "AAAA" } ] }""", "not a signed packet")]
    public async Task A_corrupt_key_set_gives_a_clear_error_naming_the_file_and_the_fault(string content, string reason)
    {
        await File.WriteAllTextAsync(KeySet, content);
        var e = Assert.Throws<InvalidDataException>(Create);
        Assert.Contains(KeySet, e.Message, StringComparison.Ordinal);
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_valid_empty_key_set_and_a_missing_file_both_load_as_empty()
    {
        await using (var missing = Create())
        {
            Assert.Empty(missing.Keys);
        }

        await File.WriteAllTextAsync(KeySet, """{ "version": 1, "keys": [] }""");
        await using var empty = Create();
        Assert.Empty(empty.Keys);
    }

    [Fact]
    public async Task AddPkarrRepublisher_binds_the_Pkarr_Republisher_section_and_validates_it()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Pkarr:Republisher:Interval"] = "00:30:00",
            ["Pkarr:Republisher:MinimumHolders"] = "5",
            ["Pkarr:Republisher:ResignAfter"] = "7.00:00:00",
        }).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        services.AddPkarrClient(o =>
        {
            o.UseDht = false;
            o.Relays = [new Uri("http://127.0.0.1:9")];
        });
        services.AddPkarrRepublisher(o => o.MaxConcurrency = 3);
        await using (var provider = services.BuildServiceProvider())
        {
            var republisher = provider.GetRequiredService<Republisher>();
            Assert.Equal(TimeSpan.FromMinutes(30), republisher.Options.Interval);
            Assert.Equal(5, republisher.Options.MinimumHolders);
            Assert.Equal(3, republisher.Options.MaxConcurrency);
            Assert.Equal(TimeSpan.FromDays(7), republisher.Options.ResignAfter);
            Assert.Equal(0.1, republisher.Options.Jitter);
        }

        var bad = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        bad.AddPkarrRepublisher(o => o.MaxAttempts = 0);
        await using var badProvider = bad.BuildServiceProvider();
        var e = Assert.Throws<OptionsValidationException>(() => badProvider.GetRequiredService<IOptions<RepublisherOptions>>().Value);
        Assert.Contains("MaxAttempts", e.Message, StringComparison.Ordinal);
    }
}
