// Every exception the DNS server throws is built by this class, so messages stay consistent and call sites stay
// short. Each area keeps its factories in its own part (Error.<Area>.cs beside its code).

namespace Pkarr.DnsServer;

internal static partial class Error
{
    internal static ArgumentNullException ArgumentNull(string paramName) => new(paramName);
}
