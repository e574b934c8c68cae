// The HTTP layer's exceptions.

namespace Pkarr.Relay;

internal static partial class Error
{
    internal static DirectoryNotFoundException WebRootMissing(string folder) =>
        new($"The web app folder '{folder}' ([web] root) does not exist.");
}
