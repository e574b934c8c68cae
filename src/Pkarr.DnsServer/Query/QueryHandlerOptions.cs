namespace Pkarr.DnsServer.Query;

/// <summary>How <see cref="DnsQueryHandler"/> sizes responses and follows CNAMEs and delegations.</summary>
internal sealed class QueryHandlerOptions
{
    /// <summary>Our cap for UDP responses to EDNS queries, bytes (DNS flag day 2020: 1232); 512 without EDNS.
    /// Values below 512 count as 512 (RFC 6891 §6.2.5).</summary>
    public int MaxUdpPayload { get; init; } = 1232;

    /// <summary>CNAME steps followed per query that leave a packet (to another key, or to an ICANN name through the
    /// forwarder); 0 follows none and answers the CNAME alone, for the client to follow.</summary>
    public int MaxRecursionDepth { get; init; } = 15;

    /// <summary>What ANY queries get; the handler itself only realises <see cref="AnyQueryMode.Refused"/> (the host
    /// builds the answerer with HINFO for <see cref="AnyQueryMode.Hinfo"/>).</summary>
    public AnyQueryMode AnyQueries { get; init; } = AnyQueryMode.Minimal;

    /// <summary>The port delegated servers are asked on when a referral in a packet is followed. NS records carry no
    /// port, so real delegations use 53 (the host passes 53); other values are for tests and local set-ups.</summary>
    public int DelegationPort { get; init; } = 53;

    /// <summary>Whether delegated servers at internal addresses (loopback, private, link-local, …) may be asked: off,
    /// since a published packet's glue must not reach the networks behind this server (see DnsQueryHandler.Askable).</summary>
    public bool DelegateToPrivateAddresses { get; init; }
}
