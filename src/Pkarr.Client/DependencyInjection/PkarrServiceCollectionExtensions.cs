// Registration of the client in a host: options bound from configuration and validated at start, relay requests on
// an HttpClient from IHttpClientFactory, the host's logger factory and TimeProvider, and a hosted service that
// starts the DHT node with the host and stops it with the host.

using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pkarr.Client;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="PkarrClient"/> in a service collection.</summary>
public static class PkarrServiceCollectionExtensions
{
    /// <summary>The name of the <see cref="HttpClient"/> the client uses for relays (configure it with <c>AddHttpClient(name)</c>).</summary>
    public const string RelayHttpClientName = "Pkarr.Relays";

    /// <summary>
    /// Adds a singleton <see cref="PkarrClient"/> with options bound from the configuration section
    /// <paramref name="configSectionPath"/> (default <c>Pkarr</c>) and then <paramref name="configure"/>, validated
    /// when the host starts; and a hosted service that starts its DHT node with the host.
    /// </summary>
    public static IServiceCollection AddPkarrClient(
        this IServiceCollection services, Action<PkarrClientOptions>? configure = null, string configSectionPath = "Pkarr")
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddBoundOptions(configSectionPath, configure);
        options.PostConfigure<IServiceProvider>((o, provider) =>
        {
            o.LoggerFactory ??= provider.GetService<ILoggerFactory>();
            if (o.TimeProvider == TimeProvider.System && provider.GetService<TimeProvider>() is { } time)
            {
                o.TimeProvider = time;
            }
        });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PkarrClientOptions>, PkarrClientOptionsValidator>());

        services.AddHttpClient(RelayHttpClientName, http => http.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) });

        services.TryAddSingleton(provider =>
        {
            var o = provider.GetRequiredService<IOptions<PkarrClientOptions>>().Value;
            if (o.HttpClient is null && o.UseRelays)
            {
                o.HttpClient = provider.GetRequiredService<IHttpClientFactory>().CreateClient(RelayHttpClientName);
            }

            return new PkarrClient(o);
        });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, PkarrClientHostedService>());
        return services;
    }
}

/// <summary>Starts the client's DHT node when the host starts and stops the client when the host stops.</summary>
internal sealed class PkarrClientHostedService(PkarrClient client) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => client.StartAsync(cancellationToken);

    public async Task StopAsync(CancellationToken cancellationToken) => await client.DisposeAsync().ConfigureAwait(false);
}
