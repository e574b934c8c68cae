using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Pkarr.Client;
using Pkarr.Client.Endpoints;
using Pkarr.Keys;

namespace Pkarr.Cli.Commands;

/// <summary>
/// <c>pkarr endpoints</c>: where to connect for a pkarr name, from its HTTPS records (or SVCB records of another
/// scheme), aliases followed from key to key, in the client's order of preference.
/// </summary>
internal static class EndpointsCommand
{
    internal static Command Create(CliConsole console)
    {
        var network = new NetworkOptions();
        var name = new Argument<string>("name")
        {
            Description = "A key, sub.<key>, pk:<key> or a URL such as https://<key>/path (its host counts).",
        };
        var scheme = new Option<string>("--scheme")
        {
            Description = "https and http read HTTPS records at the name; another scheme foo reads SVCB records at _foo.<name>.",
            HelpName = "SCHEME",
            DefaultValueFactory = _ => "https",
        };
        var command = new Command(
            "endpoints",
            "Resolve a pkarr name to its service endpoints in order of preference: target, port, addresses and parameters. "
            + "Exits 3 when none is found.")
        {
            name,
            scheme,
        };
        network.AddTo(command);
        command.SetAction((result, interrupt) => network.RunAsync(console, result, async run =>
        {
            string text = result.GetValue(name)!.Trim();
            if (!PublicKey.TryParse(text, out _, out var keyError))
            {
                throw CliErrors.BadName(text, keyError.Message);
            }

            await using var client = await network.CreateClientAsync(run, result).ConfigureAwait(false);
            int found = 0;
            await using (TerminalProgress.Start(console, $"resolving {text}"))
            {
                await foreach (var endpoint in client.ResolveSvcbEndpointsAsync(text, result.GetValue(scheme)!, run.Token).ConfigureAwait(false))
                {
                    console.Out.WriteLine(run.Json ? ToJson(endpoint) : ToText(endpoint));
                    found++;
                }
            }

            if (found > 0)
            {
                return ExitCodes.Success;
            }

            console.Fail(CliErrors.NoEndpoints(text));
            return ExitCodes.NotFound;
        }, interrupt));
        return command;
    }

    /// <summary>One line per endpoint, the dht commands' <c>name=value</c> style:
    /// <c>priority=1 target=. port=443 addresses=192.0.2.10,2001:db8::10 params="alpn=h2,h3 port=443" key=…</c>;
    /// <c>port</c> and <c>addresses</c> are left out when the record has none.</summary>
    internal static string ToText(Endpoint endpoint)
    {
        var fields = new List<string>
        {
            "priority=" + endpoint.Priority.ToString(CultureInfo.InvariantCulture),
            "target=" + endpoint.Target,
        };
        if (endpoint.Port is int port)
        {
            fields.Add("port=" + port.ToString(CultureInfo.InvariantCulture));
        }

        if (endpoint.Addresses.Count > 0)
        {
            fields.Add("addresses=" + string.Join(',', endpoint.Addresses));
        }

        if (endpoint.Params.Count > 0)
        {
            string parameters = string.Join(' ', endpoint.Params);
            fields.Add("params=" + (endpoint.Params.Count > 1 || parameters.Contains('"', StringComparison.Ordinal)
                ? JsonSerializer.Serialize(parameters, CliJson.Options)
                : parameters));
        }

        fields.Add("key=" + endpoint.PublicKey);
        return string.Join(' ', fields);
    }

    /// <summary>One JSON object per endpoint:
    /// <c>{"priority":1,"target":".","domain":null,"port":443,"addresses":["192.0.2.10"],"params":["alpn=h2,h3","port=443"],"public_key":"…"}</c>.</summary>
    internal static string ToJson(Endpoint endpoint) => CliJson.Write(writer =>
    {
        writer.WriteStartObject();
        writer.WriteNumber("priority", endpoint.Priority);
        writer.WriteString("target", endpoint.Target);
        writer.WriteString("domain", endpoint.Domain);
        if (endpoint.Port is int port)
        {
            writer.WriteNumber("port", port);
        }
        else
        {
            writer.WriteNull("port");
        }

        writer.WriteStartArray("addresses");
        foreach (var address in endpoint.Addresses)
        {
            writer.WriteStringValue(address.ToString());
        }

        writer.WriteEndArray();
        writer.WriteStartArray("params");
        foreach (var parameter in endpoint.Params)
        {
            writer.WriteStringValue(parameter.ToString());
        }

        writer.WriteEndArray();
        writer.WriteString("public_key", endpoint.PublicKey.ToString());
        writer.WriteEndObject();
    });
}
