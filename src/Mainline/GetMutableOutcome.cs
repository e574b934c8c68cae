namespace Mainline;

/// <summary>The result of <see cref="Dht.GetMutableDetailedAsync"/>.</summary>
/// <param name="Items">Every distinct verified item, in arrival order.</param>
/// <param name="MostRecent">The highest seq (then greatest value), or null.</param>
/// <param name="Diagnostics">What the queried nodes answered.</param>
public sealed record GetMutableOutcome(IReadOnlyList<MutableItem> Items, MutableItem? MostRecent, GetDiagnostics Diagnostics);
