// Placeholder until the status page lands.

using Microsoft.AspNetCore.Http;

namespace Pkarr.Relay.Http;

internal static class StatusPage
{
    public static Task WriteAsync(HttpContext http, RelayContext relay) =>
        RelayApi.TextAsync(http, StatusCodes.Status200OK, "Pkarr relay " + relay.Options.Http.Port);
}
