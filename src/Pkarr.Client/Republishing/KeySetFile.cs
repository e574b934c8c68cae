// The republisher's key set on disk: a small JSON document, replaced atomically (written to a temporary file in
// the same folder, flushed, then renamed over the old one), so a crash leaves either the old or the new set:
//
//   { "version": 1,
//     "keys": [ { "publicKey": "<z-base32>", "secretKeyFile": "/path/or/null", "packet": "<base64 of the
//                 signed packet's canonical bytes, or null>" } ] }
//
// Secrets never go in it: a key added with its keypair is stored as a public key, one added from a secret-key
// file as that file's path (re-read on load). The packet is public signed data; keeping it lets a restarted
// republisher bring back a key that every node dropped while it was down, which the network alone cannot.

using System.Text.Json;
using System.Text.Json.Serialization;
using Pkarr.Keys;
using Pkarr.Packets;

namespace Pkarr.Client.Republishing;

/// <summary>One key of the persisted set.</summary>
/// <param name="PublicKey">The key.</param>
/// <param name="SecretKeyFile">The secret-key file it was added from, if any.</param>
/// <param name="Packet">Its latest known signed packet, if any.</param>
internal sealed record KeySetEntry(PublicKey PublicKey, string? SecretKeyFile, SignedPacket? Packet);

/// <summary>Reads and writes the persisted key set.</summary>
internal static class KeySetFile
{
    /// <summary>The format version this code writes and reads.</summary>
    public const int Version = 1;

    /// <summary>The largest file read: 1.6 KB per key (a packet in base64 and a path) for 100 000 keys.</summary>
    public const long MaxLength = 160_000_000;

    /// <summary>Reads the set; an absent file is an empty set.</summary>
    /// <exception cref="InvalidDataException">The file is not a key set this code wrote; the message says where and why.</exception>
    public static IReadOnlyList<KeySetEntry> Read(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        var info = new FileInfo(path);
        if (info.Length > MaxLength)
        {
            throw Error.CorruptKeySet(path, $"it is {info.Length} bytes, more than the {MaxLength} a key set may have");
        }

        KeySetDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(File.ReadAllBytes(path), KeySetJsonContext.Default.KeySetDocument);
        }
        catch (JsonException e)
        {
            throw Error.CorruptKeySet(path, $"it is not valid JSON ({e.Message})", e);
        }

        if (document is null)
        {
            throw Error.CorruptKeySet(path, $"it holds null instead of a key set");
        }

        if (document.Version != Version)
        {
            throw Error.CorruptKeySet(path, $"its version is {document.Version}; this republisher reads version {Version}");
        }

        var entries = new List<KeySetEntry>();
        for (int i = 0; i < (document.Keys?.Count ?? 0); i++)
        {
            var stored = document.Keys![i];
            if (stored is null || !PublicKey.TryParse(stored.PublicKey, out var key))
            {
                throw Error.CorruptKeySet(path, $"key {i} has no valid publicKey ('{stored?.PublicKey}')");
            }

            SignedPacket? packet = null;
            if (stored.Packet is { } text)
            {
                byte[] bytes;
                try
                {
                    bytes = Convert.FromBase64String(text);
                }
                catch (FormatException e)
                {
                    throw Error.CorruptKeySet(path, $"the packet of key {i} ({key}) is not base64", e);
                }

                if (!SignedPacket.TryFromBytes(bytes, out packet, out var error))
                {
                    throw Error.CorruptKeySet(path, $"the packet of key {i} ({key}) is not a signed packet: {error}");
                }

                if (packet.PublicKey != key)
                {
                    throw Error.CorruptKeySet(path, $"the packet of key {i} ({key}) is signed by another key ({packet.PublicKey})");
                }
            }

            entries.Add(new KeySetEntry(key, stored.SecretKeyFile is { Length: > 0 } file ? file : null, packet));
        }

        return entries;
    }

    /// <summary>Replaces the file with <paramref name="entries"/>: a temporary file in the same folder, then a rename.</summary>
    public static void Write(string path, IEnumerable<KeySetEntry> entries)
    {
        var document = new KeySetDocument
        {
            Version = Version,
            Keys = [.. entries.Select(e => new StoredKey
            {
                PublicKey = e.PublicKey.ToString(),
                SecretKeyFile = e.SecretKeyFile,
                Packet = e.Packet is null ? null : Convert.ToBase64String(e.Packet.Bytes.Span),
            })],
        };

        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full) ?? ".";
        Directory.CreateDirectory(folder);
        string temporary = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                JsonSerializer.Serialize(stream, document, KeySetJsonContext.Default.KeySetDocument);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}

/// <summary>The file's JSON shape.</summary>
internal sealed class KeySetDocument
{
    public int Version { get; set; }

    public List<StoredKey?>? Keys { get; set; }
}

/// <summary>One key in the file.</summary>
internal sealed class StoredKey
{
    public string? PublicKey { get; set; }

    public string? SecretKeyFile { get; set; }

    public string? Packet { get; set; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(KeySetDocument))]
internal sealed partial class KeySetJsonContext : JsonSerializerContext;
