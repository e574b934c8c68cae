// The safe update (shared spec pkarr.md §5.6, "recommended update procedure"): read the network's most recent
// packet, let the caller edit the records, sign with a timestamp above anything seen, publish with that packet's
// timestamp as compare-and-swap, and start again when someone else published in between. Updates of one key are
// serialised inside this process, so two of its callers never race each other.

using Microsoft.Extensions.Logging;
using Pkarr.Dns;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client;

public sealed partial class PkarrClient
{
    /// <summary>
    /// Replaces the records of <paramref name="keypair"/>'s key with those <paramref name="edit"/> adds to an empty
    /// builder, given the current packet (null when none is published), without losing a concurrent edit: resolves
    /// <see cref="ResolvePolicy.NetworkOnly"/>, signs with a timestamp greater than every timestamp seen for the key
    /// (including an invalid value's seq), publishes with compare-and-swap, and on "not most recent" starts again
    /// from a fresh resolve, up to <see cref="PkarrClientOptions.UpdateRetries"/> times.
    /// </summary>
    /// <param name="keypair">The key to update.</param>
    /// <param name="edit">Adds the complete new record set to the builder, usually the current packet's records
    /// (<see cref="SignedPacket.AllResourceRecords"/>, through <see cref="SignedPacketBuilder.Record(ResourceRecord)"/>)
    /// with a change. It may run more than once; it must not set the timestamp.</param>
    /// <param name="cancellationToken">Cancels the update.</param>
    /// <returns>The last publish's result; on success its packet is the one published.</returns>
    /// <exception cref="ResolveException">The current packet could not be read (no responses…): publishing blind could
    /// lose someone's edit.</exception>
    /// <exception cref="InvalidOperationException">Every attempt met a newer packet, or the key's newest timestamp
    /// leaves no room for a newer one below 2^63 (the largest BEP 44 seq).</exception>
    public async Task<PublishResult> UpdateAsync(
        Keypair keypair, Action<SignedPacket?, SignedPacketBuilder> edit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keypair);
        ArgumentNullException.ThrowIfNull(edit);
        var key = keypair.PublicKey;
        using var held = await _updateLocks.AcquireAsync(key, cancellationToken).ConfigureAwait(false);
        int attempts = Math.Max(1, Options.UpdateRetries + 1);
        for (int attempt = 1; attempt <= attempts; attempt++)
        {
            var current = await ResolveAsync(key, ResolvePolicy.NetworkOnly, cancellationToken).ConfigureAwait(false);
            var basis = current.Packet;
            Timestamp? expected = current switch
            {
                { Found: true } => current.Packet.Timestamp,
                { Error.Kind: ResolveErrorKind.NotFound } => null,
                { Error.Kind: ResolveErrorKind.InvalidSignedPacket } => new Timestamp((ulong)Math.Max(0, current.Error.Seq)),
                _ => throw Error.ResolveFailed(key, current.Error!),
            };

            // The cache may know a newer packet than the network now holds (one the network lost): the edit builds
            // on it, and no compare-and-swap is sent, since no node holds it to compare with.
            var floor = expected ?? default;
            if (_cache is not null && await _cache.PeekAsync(key, cancellationToken).ConfigureAwait(false) is { } cached && cached.Packet.Timestamp > floor)
            {
                floor = cached.Packet.Timestamp;
                basis = cached.Packet;
                expected = null;
            }

            var builder = SignedPacket.Builder();
            edit(basis, builder);

            var now = Clock.Now();
            var timestamp = floor >= now ? floor.AddMicroseconds(1) : now;
            if (timestamp > Timestamp.MaxSeq)
            {
                // A DHT seq is signed 64-bit: no packet above this one can ever be stored (spec §5.6).
                throw Error.NoTimestampAbove(key, floor);
            }

            var packet = builder.Timestamp(timestamp).Sign(keypair);
            var result = await PublishAsync(packet, expected, cancellationToken).ConfigureAwait(false);
            if (result.Error is not { Kind: PublishErrorKind.NotMostRecent })
            {
                return result;
            }

            LogUpdateConflict(_logger, key, attempt);
        }

        throw Error.UpdateConflict(key, attempts);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Update of {Key} met a newer packet (attempt {Attempt}); reading it again")]
    private static partial void LogUpdateConflict(ILogger logger, PublicKey key, int attempt);
}
