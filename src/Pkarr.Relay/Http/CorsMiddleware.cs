// The reference relay's "very permissive" CORS policy (shared spec pkarr.md §6.4), byte for byte in its headers:
// every OPTIONS request is an empty 200 before routing; every other response echoes the Origin (when there is one),
// allows credentials, varies on the three request headers that change the answer, and exposes the pkarr headers.
// Memento-Datetime is exposed too (the reference does not), so browsers see when the relay last saw a packet.

using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Pkarr.Relay.Http;

internal sealed class CorsMiddleware(RequestDelegate next)
{
    internal const string ExposedHeaders = "pkarr-invalid-signed-packet-seq,pkarr-dht-stored-nodes,memento-datetime,pkarr-source";
    private const string VaryValue = "origin, access-control-request-method, access-control-request-headers";

    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        var headers = context.Response.Headers;
        headers.Vary = VaryValue;
        headers.AccessControlAllowCredentials = "true";
        if (request.Headers.Origin is { Count: > 0 } origin)
        {
            headers.AccessControlAllowOrigin = origin;
        }

        if (HttpMethods.IsOptions(request.Method))
        {
            // Pre-flight: echo what the browser asks to send; no max-age, as the reference.
            if (request.Headers.AccessControlRequestMethod is { Count: > 0 } method)
            {
                headers.AccessControlAllowMethods = method;
            }

            if (request.Headers.AccessControlRequestHeaders is { Count: > 0 } requested)
            {
                headers.AccessControlAllowHeaders = requested;
            }

            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentLength = 0;
            return Task.CompletedTask;
        }

        headers.AccessControlExposeHeaders = new StringValues(ExposedHeaders);
        return next(context);
    }
}
