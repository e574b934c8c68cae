using System.Globalization;
using Mainline;
using Microsoft.Extensions.Options;

namespace Pkarr.Client;

/// <summary>Checks <see cref="PkarrClientOptions"/> once, when a host starts, with messages that name the setting.</summary>
public sealed class PkarrClientOptionsValidator : IValidateOptions<PkarrClientOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, PkarrClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        bool relays = options.UseRelays && (options.Relays is null || options.Relays.Count > 0 || options.ExtraRelays.Count > 0);
        if (!options.UseDht && !relays)
        {
            failures.Add("Pkarr: neither the DHT (UseDht) nor any relay (UseRelays, Relays) is enabled; the client would have no network.");
        }

        if (options.UseRelays && options.Relays is { Count: 0 } && options.ExtraRelays.Count == 0)
        {
            failures.Add("Pkarr:Relays is empty while UseRelays is true: list at least one relay URL or set UseRelays to false.");
        }

        foreach (var relay in (options.Relays ?? []).Concat(options.ExtraRelays))
        {
            if (Relays.RelayClient.Problem(relay) is { } problem)
            {
                failures.Add(string.Create(CultureInfo.InvariantCulture, $"Pkarr:Relays: '{relay}' is not a usable relay URL: {problem}."));
            }
        }

        foreach (string node in (options.Bootstrap ?? []).Concat(options.ExtraBootstrap))
        {
            if (!DhtEndPoint.TryParse(node, out _))
            {
                failures.Add($"Pkarr:Bootstrap: '{node}' is not host:port.");
            }
        }

        if (options.DhtPort is < 0 or > 65535)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"Pkarr:DhtPort must be 0 to 65535, not {options.DhtPort}."));
        }

        if (options.CacheSize < 0)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"Pkarr:CacheSize must be 0 or more, not {options.CacheSize}."));
        }

        if (options.RequestTimeout <= TimeSpan.Zero)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"Pkarr:RequestTimeout must be positive, not {options.RequestTimeout}."));
        }

        if (options.MaxRecursionDepth < 1)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"Pkarr:MaxRecursionDepth must be at least 1, not {options.MaxRecursionDepth}."));
        }

        if (options.UpdateRetries < 0)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"Pkarr:UpdateRetries must be 0 or more, not {options.UpdateRetries}."));
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
