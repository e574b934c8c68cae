// Canonical bencode encoder (shared spec §1.1): integers without leading zeros, strings as <len>:<bytes>,
// dictionary keys sorted by raw unsigned bytes and unique. A signed BEP 44 value must survive a round trip,
// and libtorrent rejects non-canonical puts with 203, so there is no other mode.
using System.Buffers;
using System.Buffers.Text;

namespace Mainline.Bencode;

/// <summary>Encodes <see cref="BValue"/> trees canonically.</summary>
internal static class BencodeWriter
{
    /// <summary>Encodes a value to a new array.</summary>
    public static byte[] Encode(BValue value)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        Write(buffer, value);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Encodes a value into <paramref name="output"/>.</summary>
    public static void Write(IBufferWriter<byte> output, BValue value)
    {
        switch (value.Kind)
        {
            case BKind.Integer:
                WriteByte(output, (byte)'i');
                WriteDecimal(output, value.Integer);
                WriteByte(output, (byte)'e');
                break;
            case BKind.Bytes:
                WriteString(output, value.Bytes.Span);
                break;
            case BKind.List:
                WriteByte(output, (byte)'l');
                foreach (var item in value.Items!)
                {
                    Write(output, item);
                }

                WriteByte(output, (byte)'e');
                break;
            case BKind.Encoded:
                output.Write(value.Raw.Span);
                break;
            case BKind.Dictionary:
                WriteByte(output, (byte)'d');
                var entries = value.Entries!.ToArray();
                Array.Sort(entries, static (a, b) => a.Key.Span.SequenceCompareTo(b.Key.Span));
                for (var i = 0; i < entries.Length; i++)
                {
                    if (i > 0 && entries[i - 1].Key.Span.SequenceEqual(entries[i].Key.Span))
                    {
                        throw Error.DuplicateKey();
                    }

                    WriteString(output, entries[i].Key.Span);
                    Write(output, entries[i].Value);
                }

                WriteByte(output, (byte)'e');
                break;
        }
    }

    /// <summary>Writes a byte string as <c>&lt;len&gt;:&lt;bytes&gt;</c>.</summary>
    public static void WriteString(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        WriteDecimal(output, bytes.Length);
        WriteByte(output, (byte)':');
        output.Write(bytes);
    }

    /// <summary>Writes a canonical base-10 integer (no <c>i</c>/<c>e</c>).</summary>
    public static void WriteDecimal(IBufferWriter<byte> output, long value)
    {
        var span = output.GetSpan(20);
        Utf8Formatter.TryFormat(value, span, out var written);
        output.Advance(written);
    }

    private static void WriteByte(IBufferWriter<byte> output, byte b)
    {
        output.GetSpan(1)[0] = b;
        output.Advance(1);
    }
}
