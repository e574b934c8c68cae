// HttpClient integration in a host: a named or typed HttpClient whose primary handler reaches pkarr hosts through
// the registered PkarrClient (see PkarrHttpHandler).

using Pkarr.Client;
using Pkarr.Client.Http;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Lets clients from <c>IHttpClientFactory</c> reach pkarr hosts.</summary>
public static class PkarrHttpClientBuilderExtensions
{
    /// <summary>
    /// Makes <see cref="PkarrHttpHandler.Create(PkarrClient)"/>, over the <see cref="PkarrClient"/> of the service
    /// provider (register it with <c>AddPkarrClient</c>), the primary handler of this HttpClient: requests to
    /// <c>http://&lt;key&gt;/</c> connect through the key's HTTPS endpoints, other hosts as usual.
    /// </summary>
    /// <param name="builder">The HttpClient's builder.</param>
    /// <returns>The builder, for chaining.</returns>
    public static IHttpClientBuilder UsePkarr(this IHttpClientBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.ConfigurePrimaryHttpMessageHandler(services => PkarrHttpHandler.Create(services.GetRequiredService<PkarrClient>()));
    }
}
