using Pkarr.Keys;

namespace Pkarr.Client;

/// <summary>A publish failed; <see cref="Result"/> says how, per backend.</summary>
public sealed class PublishException : Exception
{
    /// <summary>Creates the exception for a failed <paramref name="result"/>.</summary>
    public PublishException(PublishResult result)
        : base($"Publishing the packet of {result?.PublicKey} failed: {result?.Error}.") =>
        Result = result ?? throw Error.ArgumentNull(nameof(result));

    /// <summary>The failed publish.</summary>
    public PublishResult Result { get; }

    /// <summary>The combined error.</summary>
    public PublishError PublishError => Result.Error!;
}

/// <summary>A resolve failed for another reason than "not found".</summary>
public sealed class ResolveException : Exception
{
    /// <summary>Creates the exception for <paramref name="key"/> and <paramref name="error"/>.</summary>
    public ResolveException(PublicKey key, ResolveError error)
        : base($"Resolving {key} failed: {error}.")
    {
        PublicKey = key;
        ResolveError = error ?? throw Error.ArgumentNull(nameof(error));
    }

    /// <summary>The key that was resolved.</summary>
    public PublicKey PublicKey { get; }

    /// <summary>Why no packet was returned.</summary>
    public ResolveError ResolveError { get; }
}
