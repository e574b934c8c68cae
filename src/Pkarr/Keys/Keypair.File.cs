// Secret-key files as the reference reads and writes them (spec §1.2): the 32-byte seed as 64 lowercase hex
// characters, no newline, mode 0600 on Unix; reading trims surrounding whitespace and accepts either case.

using System.Security.Cryptography;
using System.Text;

namespace Pkarr.Keys;

public sealed partial class Keypair
{
    /// <summary>Reads a secret-key file (hex seed).</summary>
    /// <exception cref="InvalidDataException">The file does not hold a 32-byte hex seed; the message says why.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static Keypair FromSecretKeyFile(string path)
    {
        string text = File.ReadAllText(path, Encoding.UTF8);
        return TryParseSecretKeyText(text, out var keypair, out string? reason)
            ? keypair
            : throw Error.SecretKeyFile(path, reason);
    }

    /// <summary>Parses the content of a secret-key file. Never throws.</summary>
    internal static bool TryParseSecretKeyText(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Keypair? keypair, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? reason)
    {
        keypair = null;
        var hex = text.AsSpan().Trim();
        if (hex.Length % 2 != 0)
        {
            reason = "Invalid hex string length";
            return false;
        }

        byte[] seed = new byte[hex.Length / 2];
        try
        {
            if (Convert.FromHexString(hex, seed, out _, out _) != System.Buffers.OperationStatus.Done)
            {
                reason = "Invalid hex string";
                return false;
            }

            if (seed.Length != SecretKeyLength)
            {
                reason = "Invalid secret key length";
                return false;
            }

            keypair = FromSecretKey(seed);
            reason = null;
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>Writes the secret key to <paramref name="path"/> as 64 lowercase hex characters, mode 0600, replacing any file.</summary>
    public void WriteSecretKeyFile(string path)
    {
        byte[] seed = SecretKey();
        try
        {
            var options = new FileStreamOptions
            {
                Mode = FileMode.Create,
                Access = FileAccess.Write,
                Share = FileShare.None,
            };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var stream = new FileStream(path, options))
            {
                stream.Write(Encoding.ASCII.GetBytes(Convert.ToHexStringLower(seed)));
            }

            // UnixCreateMode applies only to new files; an existing file keeps its mode unless we set it.
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }
}
