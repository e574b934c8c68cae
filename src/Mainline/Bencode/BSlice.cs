// A value inside validated bencode (BencodeReader.TryValidate), read in place: the KRPC decoder reads a datagram's
// fields this way and copies only what it keeps, so no tree is built for the datagrams a node receives.
namespace Mainline.Bencode;

/// <summary>Where one value sits in its input and, for scalars, what it holds.</summary>
/// <param name="Kind">Integer, Bytes, List or Dictionary; <see cref="Present"/> tells a found value from none.</param>
/// <param name="Start">The offset of its first byte.</param>
/// <param name="End">The offset just past its last byte.</param>
/// <param name="ContentStart">Where a string's content, or a container's first item, starts.</param>
/// <param name="Integer">An integer's value; a string's length.</param>
internal readonly record struct BSlice(BKind Kind, int Start, int End, int ContentStart, long Integer)
{
    /// <summary>False for the default value, which stands for an absent key.</summary>
    public bool Present => End > 0;

    public bool IsBytes => Present && Kind == BKind.Bytes;

    public bool IsInteger => Present && Kind == BKind.Integer;

    public bool IsDictionary => Present && Kind == BKind.Dictionary;

    public bool IsList => Present && Kind == BKind.List;

    /// <summary>A string's content (only for <see cref="BKind.Bytes"/>).</summary>
    public ReadOnlySpan<byte> Content(ReadOnlySpan<byte> input) => input[ContentStart..End];

    /// <summary>A string's content as a slice of <paramref name="input"/>, for what is read in place beyond a span.</summary>
    public ReadOnlyMemory<byte> Content(ReadOnlyMemory<byte> input) => input[ContentStart..End];

    /// <summary>The value's bytes exactly as they are in the input.</summary>
    public ReadOnlySpan<byte> Raw(ReadOnlySpan<byte> input) => input[Start..End];
}
