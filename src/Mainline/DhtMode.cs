namespace Mainline;

/// <summary>How a node takes part in the DHT (shared spec §10.4).</summary>
public enum DhtMode
{
    /// <summary>Start read-only; become a server at a 15-minute refresh once reachable (not firewalled). The default.</summary>
    Adaptive,

    /// <summary>Read-only (BEP 43): never answer queries, send <c>ro=1</c>.</summary>
    Client,

    /// <summary>Answer queries and store data from the start.</summary>
    Server,
}
