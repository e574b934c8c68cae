// Write tokens (shared spec §10.2). token = HMAC-SHA256(secret, requester IPv4 ‖ target)[0..4].
// Two 20-byte secrets, rotated lazily every 5 minutes; a token matching the current or the previous secret is
// valid, i.e. for 5–10 minutes. Binding to the target (as libtorrent does) stops cross-target reuse.
using System.Net;
using System.Security.Cryptography;
using Mainline.Rpc;

namespace Mainline.Server;

internal sealed class Tokens
{
    public const long RotationMs = 5 * 60 * 1000;
    public const int TokenSize = 4;

    private const int SecretSize = 20;

    private readonly IEntropy _entropy;
    private byte[] _current;
    private byte[] _previous;
    private long _rotatedAt;

    /// <summary>Secrets drawn from <paramref name="entropy"/> (the OS's generator when null), the first rotation due
    /// 5 minutes after <paramref name="now"/>.</summary>
    public Tokens(long now, IEntropy? entropy = null)
    {
        _entropy = entropy ?? SystemEntropy.Instance;
        _current = NewSecret();
        _previous = NewSecret();
        _rotatedAt = now;
    }

    /// <summary>Rotates the secrets when the current one is older than 5 minutes.</summary>
    public void MaybeRotate(long now)
    {
        if (now - _rotatedAt < RotationMs)
        {
            return;
        }

        _previous = _current;
        _current = NewSecret();
        _rotatedAt = now;
    }

    /// <summary>Forces a rotation (tests).</summary>
    public void Rotate(long now)
    {
        _rotatedAt = long.MinValue / 2;
        MaybeRotate(now);
    }

    private byte[] NewSecret()
    {
        var secret = new byte[SecretSize];
        _entropy.Fill(secret);
        return secret;
    }

    public byte[] Create(IPAddress requester, NodeId target) => Compute(_current, requester, target);

    public bool IsValid(ReadOnlySpan<byte> token, IPAddress requester, NodeId target) =>
        token.Length == TokenSize
        && (CryptographicOperations.FixedTimeEquals(token, Compute(_current, requester, target))
            || CryptographicOperations.FixedTimeEquals(token, Compute(_previous, requester, target)));

    private static byte[] Compute(byte[] secret, IPAddress requester, NodeId target)
    {
        Span<byte> input = stackalloc byte[16 + NodeId.Size];
        requester.TryWriteBytes(input, out var written);
        target.Bytes.CopyTo(input[written..]);
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(secret, input[..(written + NodeId.Size)], mac);
        return mac[..TokenSize].ToArray();
    }
}
