// The built-in web app: the static files of wwwroot/ (HTML, CSS, JavaScript modules and the vendored Ed25519 library),
// embedded in this assembly so that every way of running the relay (the pkarr tool, a published binary, a container)
// serves the same files without a folder beside it. The resource names are "wwwroot." plus the path with '/' as '.'
// and '-' as '_' in folder names (Pkarr.Relay.csproj), which is how the embedded file provider looks paths up.

using System.Reflection;
using Microsoft.Extensions.FileProviders;

namespace Pkarr.Relay.Http;

internal static class WebApp
{
    /// <summary>The files of wwwroot/, by their path under it.</summary>
    public static IFileProvider Files { get; } = new EmbeddedFileProvider(typeof(WebApp).Assembly, "wwwroot");
}
