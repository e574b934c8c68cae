// The timestamp generator of spec §2, as the reference's: last = max(wall & 0x00FF_FFFF_FFFF_FFFF, last + 256)
// and the result is last | clockId. ORing a per-clock random byte into the low bits makes two processes signing
// in the same microsecond unlikely to collide; the +256 step keeps values strictly increasing when calls come
// faster than the wall clock moves or when it steps back.

using System.Security.Cryptography;

namespace Pkarr.Packets;

/// <summary>A strictly increasing source of <see cref="Timestamp"/>s over a <see cref="TimeProvider"/>.</summary>
public sealed class TimestampClock
{
    private const ulong WallMask = 0x00FF_FFFF_FFFF_FFFF;

    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private ulong _last;

    /// <summary>A clock over <paramref name="time"/> (the system's by default) with a random clock id.</summary>
    public TimestampClock(TimeProvider? time = null)
        : this(time ?? TimeProvider.System, (byte)RandomNumberGenerator.GetInt32(256))
    {
    }

    /// <summary>A clock over <paramref name="time"/> that ORs <paramref name="clockId"/> into the low byte of every value.</summary>
    public TimestampClock(TimeProvider time, byte clockId)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        ClockId = clockId;
    }

    /// <summary>The process-wide clock over the system time, behind <see cref="Timestamp.Now"/>.</summary>
    public static TimestampClock System { get; } = new();

    /// <summary>The byte ORed into the low byte of every value this clock returns.</summary>
    public byte ClockId { get; }

    /// <summary>
    /// The wall-clock time in microseconds (its top byte cleared), or 256 µs after the previous value when that is
    /// later, ORed with <see cref="ClockId"/>: strictly greater than every value this clock returned before.
    /// </summary>
    public Timestamp Now()
    {
        ulong wall = Timestamp.WallClock(_time).Microseconds & WallMask;
        lock (_gate)
        {
            _last = Math.Max(wall, _last + 256);
            return new Timestamp(_last | ClockId);
        }
    }
}
