// The client's DHT node: started once, on first use or by StartAsync, from the client's options; or a node given
// by the host (a relay shares its own), which the client uses but never stops.

using System.Net;
using Mainline;
using Microsoft.Extensions.Logging;

namespace Pkarr.Client;

/// <summary>Starts the DHT node once and hands it out.</summary>
internal sealed class DhtNodeHolder : IAsyncDisposable
{
    private readonly Lazy<Task<Dht>> _node;
    private readonly bool _owned;

    public DhtNodeHolder(PkarrClientOptions options, ILoggerFactory loggers)
    {
        if (options.Dht is { } shared)
        {
            _node = new Lazy<Task<Dht>>(Task.FromResult(shared));
            return;
        }

        _owned = true;
        var dhtOptions = BuildOptions(options, loggers);
        _node = new Lazy<Task<Dht>>(() => Dht.CreateAsync(dhtOptions), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The running node.</summary>
    public Task<Dht> GetAsync(CancellationToken cancellationToken) => _node.Value.WaitAsync(cancellationToken);

    /// <summary>The Mainline options for <paramref name="options"/>: bootstrap list, port, mode and the client's request timeout.</summary>
    internal static DhtOptions BuildOptions(PkarrClientOptions options, ILoggerFactory loggers)
    {
        var dht = new DhtOptions
        {
            Bootstrap = options.Bootstrap is null ? null : [.. options.Bootstrap.Select(Parse)],
            ExtraBootstrap = [.. options.ExtraBootstrap.Select(Parse)],
            Port = options.DhtPort,
            BindAddress = options.DhtBindAddress,
            Mode = options.DhtMode,
            RequestTimeout = options.RequestTimeout,
            LoggerFactory = loggers,
            TimeProvider = options.TimeProvider,
        };
        options.ConfigureDht?.Invoke(dht);
        return dht;

        static EndPoint Parse(string text) =>
            DhtEndPoint.TryParse(text, out var endPoint) ? endPoint : throw Error.InvalidBootstrap(text);
    }

    public async ValueTask DisposeAsync()
    {
        if (_owned && _node.IsValueCreated && _node.Value.IsCompletedSuccessfully)
        {
            await _node.Value.Result.DisposeAsync().ConfigureAwait(false);
        }
    }
}
