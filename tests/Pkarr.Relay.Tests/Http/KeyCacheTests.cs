using Pkarr.Keys;
using Pkarr.Relay.Http;

namespace Pkarr.Relay.Tests.Http;

public sealed class KeyCacheTests
{
    [Fact]
    public void Parses_keys_once_refuses_non_keys_and_stays_bounded()
    {
        var cache = new KeyCache(capacity: 4);
        var keys = Enumerable.Range(0, 10).Select(_ => Keypair.Random().PublicKey).ToArray();

        foreach (var key in keys)
        {
            Assert.True(cache.TryParse(key.ToZ32(), out var parsed, out _));
            Assert.Equal(key, parsed);
            Assert.True(cache.TryParse(key.ToZ32(), out var again, out _));
            Assert.Equal(key, again);
            Assert.True(cache.TryParse("pk:" + key.ToZ32(), out var uri, out _));
            Assert.Equal(key, uri);
        }

        Assert.False(cache.TryParse("not-a-key", out _, out var error));
        Assert.Equal(PublicKeyErrorKind.InvalidPublicKeyEncoding, error.Kind);
        // A well-formed 52-character text that is not a curve point is refused every time, never remembered.
        string offCurve = SimpleBase.Base32.ZBase32.Encode(Convert.FromHexString("6482a31e25b0007a31038ae9a2d3835afa10df86366fb3c4bacaf70a1e9f5867"));
        Assert.Equal(52, offCurve.Length);
        Assert.False(cache.TryParse(offCurve, out _, out var pointError));
        Assert.Equal(PublicKeyErrorKind.InvalidEd25519PublicKey, pointError.Kind);
        Assert.False(cache.TryParse(offCurve, out _, out _));
        Assert.True(cache.Count <= 4);
    }
}
