// The built-in web app: the static files of wwwroot/ (HTML, CSS, JavaScript modules and the vendored Ed25519 library),
// embedded in this assembly so that every way of running the relay (the pkarr tool, a published binary, a container)
// serves the same files without a folder beside it. The resource names are "wwwroot." plus the path with '/' as '.'
// and '-' as '_' in folder names (Pkarr.Relay.csproj), which is how the embedded file provider looks paths up.

using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;

namespace Pkarr.Relay.Http;

internal static class WebApp
{
    /// <summary>The files of wwwroot/, by their path under it.</summary>
    public static IFileProvider Files { get; } = new EmbeddedFileProvider(typeof(WebApp).Assembly, "wwwroot");

    /// <summary>The usual types by extension, and text for the vendored libraries' extensionless LICENSE files. The
    /// static file middleware asks this before it looks a path up, so a request for /{key} (no extension) passes on to
    /// the API without a file lookup.</summary>
    public static IContentTypeProvider ContentTypes { get; } = new WebContentTypes();

    private sealed class WebContentTypes : IContentTypeProvider
    {
        private readonly FileExtensionContentTypeProvider _byExtension = new();

        public bool TryGetContentType(string subpath, [MaybeNullWhen(false)] out string contentType)
        {
            if (_byExtension.TryGetContentType(subpath, out contentType))
            {
                return true;
            }

            contentType = subpath.EndsWith("/LICENSE", StringComparison.Ordinal) ? "text/plain; charset=utf-8" : null;
            return contentType is not null;
        }
    }
}
