namespace Pkarr.Keys;

/// <summary>Why a text or byte string is not a pkarr public key (spec §1.4; the reference's three variants).</summary>
public enum PublicKeyErrorKind
{
    /// <summary>The input decoded to a byte count other than 32.</summary>
    InvalidPublicKeyLength,

    /// <summary>The 32 bytes are not an Ed25519 curve point.</summary>
    InvalidEd25519PublicKey,

    /// <summary>The text is not lowercase z-base32.</summary>
    InvalidPublicKeyEncoding,
}

/// <summary>A failed public-key parse: the kind and, for length errors, the decoded byte count.</summary>
/// <param name="Kind">Which rule rejected the input.</param>
/// <param name="ActualLength">The decoded length for <see cref="PublicKeyErrorKind.InvalidPublicKeyLength"/>.</param>
public readonly record struct PublicKeyError(PublicKeyErrorKind Kind, int ActualLength = 0)
{
    /// <summary>A one-line description, in the reference's words.</summary>
    public string Message => Kind switch
    {
        PublicKeyErrorKind.InvalidPublicKeyLength =>
            $"Invalid PublicKey length, expected 32 bytes but got: {ActualLength}",
        PublicKeyErrorKind.InvalidEd25519PublicKey => "Invalid Ed25519 public key",
        _ => "Invalid PublicKey encoding (expected 52 lowercase z-base32 characters)",
    };

    /// <inheritdoc />
    public override string ToString() => Kind == PublicKeyErrorKind.InvalidPublicKeyLength
        ? $"InvalidPublicKeyLength({ActualLength})"
        : Kind.ToString();
}

/// <summary>Thrown by <see cref="PublicKey.Parse(string)"/> and friends; <see cref="Error"/> says why.</summary>
public sealed class InvalidPublicKeyException : FormatException
{
    internal InvalidPublicKeyException(PublicKeyError error)
        : base(error.Message)
    {
        Error = error;
    }

    /// <summary>The reason the input was rejected.</summary>
    public PublicKeyError Error { get; }
}
