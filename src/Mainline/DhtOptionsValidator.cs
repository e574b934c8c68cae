using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Mainline;

/// <summary>
/// Checks <see cref="DhtOptions"/> (and its <see cref="ServerSettings"/>) once, reporting every broken rule:
/// register it with <c>services.AddSingleton&lt;IValidateOptions&lt;DhtOptions&gt;, DhtOptionsValidator&gt;()</c>
/// and <c>ValidateOnStart()</c>. <see cref="Dht.CreateAsync"/> applies the same rules.
/// </summary>
public sealed class DhtOptionsValidator : IValidateOptions<DhtOptions>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, DhtOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = Failures(options);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Every rule <paramref name="options"/> breaks, one sentence each; empty when they are valid.</summary>
    internal static List<string> Failures(DhtOptions options)
    {
        var failures = new List<string>();
        void Require(bool ok, string failure)
        {
            if (!ok)
            {
                failures.Add(failure);
            }
        }

        Require(options.Port is null or (>= 0 and <= 65535), $"Port must be 0..65535 or null, got {options.Port}.");
        Require(options.BindAddress is { AddressFamily: AddressFamily.InterNetwork },
            $"BindAddress must be an IPv4 address, got {options.BindAddress?.ToString() ?? "null"}.");
        Require(options.RequestTimeout > TimeSpan.Zero, $"RequestTimeout must be positive, got {options.RequestTimeout}.");
        Require(Enum.IsDefined(options.Mode), $"Mode must be Adaptive, Client or Server, got {options.Mode}.");
        Require(options.PublicIp is null or { AddressFamily: AddressFamily.InterNetwork },
            $"PublicIp must be an IPv4 address or null, got {options.PublicIp}.");
        Require(options.RateLimitPerIp >= 0 && double.IsFinite(options.RateLimitPerIp),
            $"RateLimitPerIp must be 0 (off) or a positive number, got {options.RateLimitPerIp}.");
        Require(options.RateLimitBurst >= 1 && double.IsFinite(options.RateLimitBurst),
            $"RateLimitBurst must be at least 1, got {options.RateLimitBurst}.");
        Require(options.RateLimitPerSubnet >= 0 && double.IsFinite(options.RateLimitPerSubnet),
            $"RateLimitPerSubnet must be 0 (off) or a positive number, got {options.RateLimitPerSubnet}.");
        Require(options.ReplyBytesPerSecond == 0 || options.ReplyBytesPerSecond >= Server.RateLimiter.MinReplyBytesPerSecond,
            $"ReplyBytesPerSecond must be 0 (off) or at least {Server.RateLimiter.MinReplyBytesPerSecond}, got {options.ReplyBytesPerSecond}.");
        Require(options.TimeProvider is not null, "TimeProvider must not be null.");
        Require(options.RefreshInterval > TimeSpan.Zero, $"RefreshInterval must be positive, got {options.RefreshInterval}.");
        Require(options.PurgeInterval > TimeSpan.Zero, $"PurgeInterval must be positive, got {options.PurgeInterval}.");
        CheckBootstrap(options.Bootstrap ?? [], nameof(DhtOptions.Bootstrap), failures);
        if (options.ExtraBootstrap is null)
        {
            failures.Add("ExtraBootstrap must not be null (use an empty list).");
        }
        else
        {
            CheckBootstrap(options.ExtraBootstrap, nameof(DhtOptions.ExtraBootstrap), failures);
        }

        if (options.Server is not { } server)
        {
            failures.Add("Server must not be null.");
            return failures;
        }

        Require(server.MaxInfoHashes >= 1, $"Server.MaxInfoHashes must be at least 1, got {server.MaxInfoHashes}.");
        Require(server.MaxPeersPerInfoHash >= 1, $"Server.MaxPeersPerInfoHash must be at least 1, got {server.MaxPeersPerInfoHash}.");
        Require(server.MaxImmutableValues >= 1, $"Server.MaxImmutableValues must be at least 1, got {server.MaxImmutableValues}.");
        Require(server.MaxMutableValues >= 1, $"Server.MaxMutableValues must be at least 1, got {server.MaxMutableValues}.");
        Require(server.MaxItemsPerIp >= 1, $"Server.MaxItemsPerIp must be at least 1, got {server.MaxItemsPerIp}.");
        Require(server.MaxPeersPerIp >= 1, $"Server.MaxPeersPerIp must be at least 1, got {server.MaxPeersPerIp}.");
        Require(server.ItemLifetime > TimeSpan.Zero, $"Server.ItemLifetime must be positive, got {server.ItemLifetime}.");
        Require(server.PeerLifetime > TimeSpan.Zero, $"Server.PeerLifetime must be positive, got {server.PeerLifetime}.");
        return failures;
    }

    private static void CheckBootstrap(IList<EndPoint> entries, string name, List<string> failures)
    {
        foreach (var entry in entries)
        {
            bool ok = entry switch
            {
                IPEndPoint ip => ip.Port is >= 1 and <= 65535,
                DnsEndPoint dns => dns.Port is >= 1 and <= 65535 && dns.Host.Length > 0,
                _ => false,
            };
            if (!ok)
            {
                failures.Add($"{name} entries must be IP or DNS endpoints with a port 1..65535, got '{entry?.ToString() ?? "null"}'.");
            }
        }
    }
}
