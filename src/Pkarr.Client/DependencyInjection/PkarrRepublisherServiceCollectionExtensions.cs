// Registration of the republisher in a host: options bound from configuration ("Pkarr:Republisher" by default) and
// validated at start, a singleton over the registered PkarrClient, and a hosted service that runs its background
// loop with the host. Register the client first (AddPkarrClient): hosted services stop in reverse order, so the
// republisher's loop ends before the client is disposed.

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pkarr.Client;
using Pkarr.Client.Republishing;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="Republisher"/> in a service collection.</summary>
public static class PkarrRepublisherServiceCollectionExtensions
{
    /// <summary>
    /// Adds a singleton <see cref="Republisher"/> over the registered <see cref="PkarrClient"/> (call
    /// <c>AddPkarrClient</c> first), with options bound from the configuration section
    /// <paramref name="configSectionPath"/> (default <c>Pkarr:Republisher</c>) and then <paramref name="configure"/>,
    /// validated when the host starts; and a hosted service that runs its background loop while the host runs.
    /// Add keys by resolving the republisher (<c>AddKey</c>, <c>AddSecretFile</c>) or through its key-set file.
    /// </summary>
    public static IServiceCollection AddPkarrRepublisher(
        this IServiceCollection services, Action<RepublisherOptions>? configure = null, string configSectionPath = "Pkarr:Republisher")
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddBoundOptions(configSectionPath, configure);

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RepublisherOptions>, RepublisherOptionsValidator>());
        services.TryAddSingleton(provider => new Republisher(
            provider.GetRequiredService<PkarrClient>(),
            provider.GetRequiredService<IOptions<RepublisherOptions>>().Value,
            provider.GetService<ILogger<Republisher>>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, RepublisherHostedService>());
        return services;
    }
}

/// <summary>Checks <see cref="RepublisherOptions"/> once, when a host starts, with messages that name the setting.</summary>
internal sealed class RepublisherOptionsValidator : IValidateOptions<RepublisherOptions>
{
    public ValidateOptionsResult Validate(string? name, RepublisherOptions options) =>
        options.Failures() is { Count: > 0 } failures ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;
}

/// <summary>Runs the republisher's background loop while the host runs.</summary>
internal sealed class RepublisherHostedService(Republisher republisher) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => republisher.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => republisher.StopAsync(cancellationToken);
}
