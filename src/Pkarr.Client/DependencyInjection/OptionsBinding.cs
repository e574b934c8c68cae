using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>The one way the client's registrations bind their options.</summary>
internal static class OptionsBinding
{
    /// <summary>Binds <typeparamref name="T"/> from the configuration section <paramref name="sectionPath"/> when the
    /// host has configuration and the section exists, then applies <paramref name="configure"/>; validated at start.</summary>
    public static OptionsBuilder<T> AddBoundOptions<T>(this IServiceCollection services, string sectionPath, Action<T>? configure)
        where T : class
    {
        var options = services.AddOptions<T>();
        options.Configure<IServiceProvider>((o, provider) =>
        {
            if (provider.GetService<IConfiguration>()?.GetSection(sectionPath) is { } section && section.Exists())
            {
                section.Bind(o);
            }
        });
        if (configure is not null)
        {
            options.Configure(configure);
        }

        return options.ValidateOnStart();
    }
}
