// A DNS message (RFC 1035 §4.1):
//
//   +---------------------+
//   |        Header       |  ID (2) | FLAGS (2) | QDCOUNT (2) | ANCOUNT (2) | NSCOUNT (2) | ARCOUNT (2)
//   +---------------------+
//   |       Question      |
//   +---------------------+
//   |        Answer       |
//   +---------------------+
//   |      Authority      |
//   +---------------------+
//   |      Additional     |
//   +---------------------+
//
// Pkarr packets are responses (flags 0x8000) with every record in the answer section (shared spec §3.4).
// Encoding with compression is byte-exact with the reference encoder (§3.4.3); parsing follows §3.5.

using System.Diagnostics.CodeAnalysis;

namespace Pkarr.Dns;

/// <summary>A DNS message: header, questions and three sections of resource records.</summary>
public sealed class DnsMessage
{
    /// <summary>The flags pkarr packets carry: QR = 1 (response), everything else 0.</summary>
    public const ushort ResponseFlags = 0x8000;

    /// <summary>The message ID.</summary>
    public ushort Id { get; init; }

    /// <summary>The header flags (QR, opcode, AA, TC, RD, RA, Z, AD, CD, RCODE).</summary>
    public ushort Flags { get; init; }

    /// <summary>The question section.</summary>
    public IReadOnlyList<DnsQuestion> Questions { get; init => field = value ?? throw Error.ArgumentNull(nameof(value)); } = [];

    /// <summary>The answer section (where pkarr keeps all its records).</summary>
    public IReadOnlyList<ResourceRecord> Answers { get; init => field = value ?? throw Error.ArgumentNull(nameof(value)); } = [];

    /// <summary>The authority section.</summary>
    public IReadOnlyList<ResourceRecord> Authorities { get; init => field = value ?? throw Error.ArgumentNull(nameof(value)); } = [];

    /// <summary>The additional section.</summary>
    public IReadOnlyList<ResourceRecord> Additionals { get; init => field = value ?? throw Error.ArgumentNull(nameof(value)); } = [];

    /// <summary>A pkarr-style response: ID 0, flags 0x8000, the records as answers in the given order.</summary>
    /// <param name="answers">The answer records.</param>
    /// <returns>The message.</returns>
    public static DnsMessage Response(IEnumerable<ResourceRecord> answers)
    {
        ArgumentNullException.ThrowIfNull(answers);
        return new DnsMessage { Flags = ResponseFlags, Answers = [.. answers] };
    }

    /// <summary>Encodes the message.</summary>
    /// <param name="compress">Whether to compress names (shared spec §3.4.3); producers should.</param>
    /// <returns>The wire bytes.</returns>
    /// <exception cref="InvalidOperationException">A section has more than 65535 entries.</exception>
    /// <exception cref="ArgumentException">An rdata would exceed 65535 bytes.</exception>
    public byte[] Encode(bool compress = true)
    {
        Span<byte> scratch = stackalloc byte[1024];
        var writer = new DnsWriter(scratch, compress);
        try
        {
            WriteTo(ref writer);
            if (!writer.Overflow)
            {
                return scratch[..writer.Position].ToArray();
            }
        }
        finally
        {
            writer.Dispose();
        }

        byte[] result = new byte[writer.Position];
        var second = new DnsWriter(result, compress);
        try
        {
            WriteTo(ref second);
        }
        finally
        {
            second.Dispose();
        }

        return result;
    }

    /// <summary>Encodes the message into <paramref name="destination"/>.</summary>
    /// <param name="destination">Where to write.</param>
    /// <param name="compress">Whether to compress names.</param>
    /// <param name="written">Bytes written, or 0 when the destination is too small.</param>
    /// <returns>False when the destination is too small.</returns>
    public bool TryEncode(Span<byte> destination, bool compress, out int written)
    {
        var writer = new DnsWriter(destination, compress);
        try
        {
            WriteTo(ref writer);
        }
        finally
        {
            writer.Dispose();
        }

        written = writer.Overflow ? 0 : writer.Position;
        return !writer.Overflow;
    }

    /// <summary>Parses a message; never throws.</summary>
    /// <param name="bytes">The wire bytes.</param>
    /// <param name="message">The message, when valid.</param>
    /// <param name="error">Why the bytes were refused, or <see cref="DnsError.None"/>.</param>
    /// <returns>Whether the bytes are a valid message.</returns>
    public static bool TryParse(ReadOnlySpan<byte> bytes, [NotNullWhen(true)] out DnsMessage? message, out DnsError error)
        => DnsReader.TryRead(bytes, materialize: true, out message, out error);

    /// <summary>Parses a message.</summary>
    /// <param name="bytes">The wire bytes.</param>
    /// <returns>The message.</returns>
    /// <exception cref="FormatException">The bytes are not a valid message.</exception>
    public static DnsMessage Parse(ReadOnlySpan<byte> bytes)
        => TryParse(bytes, out var message, out var error) ? message : throw Error.InvalidDnsMessage(error);

    /// <summary>Runs exactly the checks of <see cref="TryParse"/> without building anything (allocates nothing).</summary>
    /// <param name="bytes">The wire bytes.</param>
    /// <param name="error">Why the bytes were refused, or <see cref="DnsError.None"/>.</param>
    /// <returns>Whether <see cref="TryParse"/> would succeed.</returns>
    public static bool TryValidate(ReadOnlySpan<byte> bytes, out DnsError error)
        => DnsReader.TryRead(bytes, materialize: false, out _, out error);

    private void WriteTo(ref DnsWriter writer)
    {
        writer.WriteHeader(
            Id,
            Flags,
            Count(Questions.Count, "question"),
            Count(Answers.Count, "answer"),
            Count(Authorities.Count, "authority"),
            Count(Additionals.Count, "additional"));
        foreach (var question in Questions)
        {
            question.WriteTo(ref writer);
        }

        WriteSection(ref writer, Answers);
        WriteSection(ref writer, Authorities);
        WriteSection(ref writer, Additionals);
    }

    private static void WriteSection(ref DnsWriter writer, IReadOnlyList<ResourceRecord> records)
    {
        foreach (var record in records)
        {
            record.WriteTo(ref writer);
        }
    }

    private static ushort Count(int count, string section)
        => count <= ushort.MaxValue ? (ushort)count : throw Error.TooManyEntries(section);
}
