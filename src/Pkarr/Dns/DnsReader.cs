// The one walk over a DNS message (RFC 1035 §4.1) that both DnsMessage.TryParse and DnsMessage.TryValidate
// use, so that what is accepted cannot diverge between them. Every check runs in both modes; only the
// creation of objects is skipped when `materialize` is false, which makes validation allocation-free.
//
// Acceptance rules (shared spec §3.5): any header flags but Z (0x0040); all four sections; compression
// pointers in owner names and inside rdata, each pointing strictly backwards (the first before the pointer
// itself, every further hop before the previous target, so chains always terminate), at most 128 of them
// per name; label lengths ≤ 63 (length bytes 0x40–0xBF, i.e. the reserved label types, are refused);
// expanded names shorter than 255 bytes before the terminator; record class 1, 2, 3, 4 or 254 once the
// cache-flush bit is masked (not for OPT, whose class is a payload size); rdlength inside the message;
// rdata at least as long as its type needs (any excess is skipped); character-strings inside their rdata;
// SvcParams ascending and well formed; OPT owner = root and options inside the rdata. rdlength 0 keeps an
// empty record of any type.
// Trailing bytes after the last section are ignored.

using System.Buffers.Binary;
using System.Net;

namespace Pkarr.Dns;

internal ref struct DnsReader
{
    /// <summary>Size of the fixed header: ID, flags and four counts.</summary>
    public const int HeaderLength = 12;

    private const ushort ReservedFlag = 0x0040;
    private const int MinQuestionLength = 5;
    private const int MinRecordLength = 11;

    /// <summary>
    /// A name follows at most 128 compression pointers. Pointers already go strictly backwards, so chains end,
    /// but a 14-bit offset still allows ~8,000 hops per name, and a 64 KB TCP message (the DNS server's) can
    /// hold thousands of names that all enter one such chain: quadratic work. An honest encoder never points at
    /// a pointer, so each hop lands on at least one label, and a name has at most 127 labels.
    /// </summary>
    internal const int MaxPointerHops = 128;

    private readonly ReadOnlySpan<byte> _message;
    private readonly bool _materialize;
    private int _position;
    private DnsError _error;

    private DnsReader(ReadOnlySpan<byte> message, bool materialize)
    {
        _message = message;
        _materialize = materialize;
    }

    /// <summary>Walks a whole message; with <paramref name="materialize"/> builds it, otherwise only checks it.</summary>
    public static bool TryRead(ReadOnlySpan<byte> message, bool materialize, out DnsMessage? result, out DnsError error)
    {
        var reader = new DnsReader(message, materialize);
        bool ok = reader.TryReadMessage(out result);
        error = ok ? DnsError.None : reader._error;
        return ok;
    }

    private bool TryReadMessage(out DnsMessage? result)
    {
        result = null;
        if (_message.Length < HeaderLength)
        {
            return Fail(DnsErrorKind.Truncated, _message.Length);
        }

        ushort id = ReadUInt16At(0);
        ushort flags = ReadUInt16At(2);
        if ((flags & ReservedFlag) != 0)
        {
            return Fail(DnsErrorKind.ReservedFlagSet, 2);
        }

        int questionCount = ReadUInt16At(4);
        int answerCount = ReadUInt16At(6);
        int authorityCount = ReadUInt16At(8);
        int additionalCount = ReadUInt16At(10);
        _position = HeaderLength;

        // Capacities are bounded by what the remaining bytes could hold, so a lying header cannot make us allocate.
        List<DnsQuestion>? questions = _materialize ? new(Math.Min(questionCount, Remaining / MinQuestionLength)) : null;
        for (int i = 0; i < questionCount; i++)
        {
            if (!TryReadQuestion(out var question))
            {
                return false;
            }

            questions?.Add(question!);
        }

        if (!TryReadSection(answerCount, out var answers)
            || !TryReadSection(authorityCount, out var authorities)
            || !TryReadSection(additionalCount, out var additionals))
        {
            return false;
        }

        if (_materialize)
        {
            result = new DnsMessage
            {
                Id = id,
                Flags = flags,
                Questions = questions!,
                Answers = answers!,
                Authorities = authorities!,
                Additionals = additionals!,
            };
        }

        return true;
    }

    private readonly int Remaining => _message.Length - _position;

    private bool TryReadSection(int count, out List<ResourceRecord>? records)
    {
        records = _materialize ? new(Math.Min(count, Remaining / MinRecordLength)) : null;
        for (int i = 0; i < count; i++)
        {
            if (!TryReadRecord(out var record))
            {
                return false;
            }

            records?.Add(record!);
        }

        return true;
    }

    private bool TryReadQuestion(out DnsQuestion? question)
    {
        question = null;
        if (!TryReadName(_message.Length, out var name, out _))
        {
            return false;
        }

        if (Remaining < 4)
        {
            return Fail(DnsErrorKind.Truncated, _message.Length);
        }

        var type = (RecordType)ReadUInt16At(_position);
        ushort rawClass = ReadUInt16At(_position + 2);
        ushort dnsClass = (ushort)(rawClass & 0x7FFF);
        if (!IsRecordClass(dnsClass) && dnsClass != (ushort)DnsClass.ANY)
        {
            return Fail(DnsErrorKind.InvalidClass, _position + 2);
        }

        _position += 4;
        if (_materialize)
        {
            question = new DnsQuestion(name!, type, (DnsClass)dnsClass) { UnicastResponse = (rawClass & 0x8000) != 0 };
        }

        return true;
    }

    private bool TryReadRecord(out ResourceRecord? record)
    {
        record = null;
        int nameAt = _position;
        if (!TryReadName(_message.Length, out var name, out bool isRoot))
        {
            return false;
        }

        if (Remaining < 10)
        {
            return Fail(DnsErrorKind.Truncated, _message.Length);
        }

        int fixedAt = _position;
        var type = (RecordType)ReadUInt16At(fixedAt);
        ushort rawClass = ReadUInt16At(fixedAt + 2);
        uint ttl = BinaryPrimitives.ReadUInt32BigEndian(_message.Slice(fixedAt + 4));
        int rdataStart = fixedAt + 10;
        int rdataEnd = rdataStart + ReadUInt16At(fixedAt + 8);
        if (rdataEnd > _message.Length)
        {
            return Fail(DnsErrorKind.Truncated, fixedAt + 8);
        }

        DnsClass dnsClass;
        bool cacheFlush = false;
        if (type == RecordType.OPT)
        {
            if (!isRoot)
            {
                return Fail(DnsErrorKind.InvalidOptRecord, nameAt);
            }

            dnsClass = (DnsClass)rawClass;
        }
        else
        {
            ushort masked = (ushort)(rawClass & 0x7FFF);
            if (!IsRecordClass(masked))
            {
                return Fail(DnsErrorKind.InvalidClass, fixedAt + 2);
            }

            dnsClass = (DnsClass)masked;
            cacheFlush = (rawClass & 0x8000) != 0;
        }

        _position = rdataStart;
        if (!TryReadRData(type, rdataEnd, out var data))
        {
            return false;
        }

        _position = rdataEnd;
        if (_materialize)
        {
            record = new ResourceRecord(name!, dnsClass, ttl, data!) { CacheFlush = cacheFlush };
        }

        return true;
    }

    private static bool IsRecordClass(ushort dnsClass) => dnsClass is 1 or 2 or 3 or 4 or 254;

    private bool TryReadRData(RecordType type, int end, out RecordData? data)
    {
        data = null;
        int start = _position;
        if (start == end)
        {
            // rdlength 0 is kept as an empty record of its type (shared spec §3.5).
            data = _materialize ? new UnknownData(type, []) : null;
            return true;
        }

        switch (type)
        {
            case RecordType.A:
            case RecordType.AAAA:
                {
                    int size = type == RecordType.A ? 4 : 16;
                    if (end - start < size)
                    {
                        return Fail(DnsErrorKind.Truncated, start);
                    }

                    if (_materialize)
                    {
                        var address = new IPAddress(_message.Slice(start, size));
                        data = type == RecordType.A ? new AData(address) : new AaaaData(address);
                    }

                    return true;
                }

            case RecordType.NS:
            case RecordType.CNAME:
            case RecordType.PTR:
                {
                    if (!TryReadName(end, out var target, out _))
                    {
                        return false;
                    }

                    data = !_materialize ? null : type switch
                    {
                        RecordType.NS => new NsData(target!),
                        RecordType.CNAME => new CnameData(target!),
                        _ => new PtrData(target!),
                    };
                    return true;
                }

            case RecordType.MX:
                {
                    if (!TryReadUInt16(end, out ushort preference) || !TryReadName(end, out var exchange, out _))
                    {
                        return false;
                    }

                    data = _materialize ? new MxData(preference, exchange!) : null;
                    return true;
                }

            case RecordType.TXT:
                return TryReadTxt(end, out data);

            case RecordType.SRV:
                {
                    if (!TryReadUInt16(end, out ushort priority) || !TryReadUInt16(end, out ushort weight)
                        || !TryReadUInt16(end, out ushort port) || !TryReadName(end, out var target, out _))
                    {
                        return false;
                    }

                    data = _materialize ? new SrvData(priority, weight, port, target!) : null;
                    return true;
                }

            case RecordType.CAA:
                {
                    if (end - start < 2)
                    {
                        return Fail(DnsErrorKind.Truncated, start);
                    }

                    int tagLength = _message[start + 1];
                    if (start + 2 + tagLength > end)
                    {
                        return Fail(DnsErrorKind.InvalidCharacterString, start + 1);
                    }

                    if (_materialize)
                    {
                        data = CaaData.FromValidated(
                            _message[start],
                            _message.Slice(start + 2, tagLength),
                            _message[(start + 2 + tagLength)..end]);
                    }

                    return true;
                }

            case RecordType.SOA:
                {
                    if (!TryReadName(end, out var primary, out _) || !TryReadName(end, out var mailbox, out _))
                    {
                        return false;
                    }

                    if (end - _position < 20)
                    {
                        return Fail(DnsErrorKind.Truncated, _position);
                    }

                    if (_materialize)
                    {
                        data = new SoaData(
                            primary!,
                            mailbox!,
                            ReadUInt32At(_position),
                            ReadUInt32At(_position + 4),
                            ReadUInt32At(_position + 8),
                            ReadUInt32At(_position + 12),
                            ReadUInt32At(_position + 16));
                    }

                    return true;
                }

            case RecordType.SVCB:
            case RecordType.HTTPS:
                return TryReadSvcb(type, end, out data);

            case RecordType.OPT:
                return TryReadOpt(end, out data);

            default:
                if (LegacyNameLayout(type) is { } layout)
                {
                    return TryReadLegacy(type, layout.PrefixLength, layout.NameCount, end, out data);
                }

                data = _materialize ? new UnknownData(type, _message[start..end]) : null;
                return true;
        }
    }

    private bool TryReadTxt(int end, out RecordData? data)
    {
        data = null;
        int start = _position;
        int count = 0;
        for (int at = start; at < end; at += 1 + _message[at])
        {
            if (at + 1 + _message[at] > end)
            {
                return Fail(DnsErrorKind.InvalidCharacterString, at);
            }

            count++;
        }

        if (_materialize)
        {
            byte[] rdata = _message[start..end].ToArray();
            var strings = new ReadOnlyMemory<byte>[count];
            int at = 0;
            for (int i = 0; i < count; i++)
            {
                strings[i] = rdata.AsMemory(at + 1, rdata[at]);
                at += 1 + rdata[at];
            }

            data = TxtData.FromValidated(strings);
        }

        return true;
    }

    private bool TryReadSvcb(RecordType type, int end, out RecordData? data)
    {
        data = null;
        if (!TryReadUInt16(end, out ushort priority) || !TryReadName(end, out var target, out _))
        {
            return false;
        }

        List<SvcParam>? parameters = _materialize ? [] : null;
        byte[]? copy = _materialize ? _message[_position..end].ToArray() : null;
        int copyBase = _position;
        int previousKey = -1;
        while (_position < end)
        {
            int paramAt = _position;
            if (end - paramAt < 4)
            {
                return Fail(DnsErrorKind.Truncated, paramAt);
            }

            ushort key = ReadUInt16At(paramAt);
            int valueStart = paramAt + 4;
            int valueEnd = valueStart + ReadUInt16At(paramAt + 2);
            if (key <= previousKey)
            {
                return Fail(DnsErrorKind.SvcParamsNotAscending, paramAt);
            }

            if (valueEnd > end)
            {
                return Fail(DnsErrorKind.Truncated, paramAt + 2);
            }

            var kind = SvcbData.CheckParam(key, _message[valueStart..valueEnd], out int errorOffset);
            if (kind != DnsErrorKind.None)
            {
                return Fail(kind, kind == DnsErrorKind.InvalidCharacterString ? valueStart + errorOffset : paramAt);
            }

            parameters?.Add(new SvcParam(key, copy.AsMemory(valueStart - copyBase, valueEnd - valueStart)));
            previousKey = key;
            _position = valueEnd;
        }

        if (_materialize)
        {
            data = SvcbData.FromValidated(type, priority, target!, [.. parameters!]);
        }

        return true;
    }

    private bool TryReadOpt(int end, out RecordData? data)
    {
        // RFC 6891 §6.1.2: { OPTION-CODE (2), OPTION-LENGTH (2), OPTION-DATA } until the end of the rdata.
        data = null;
        int start = _position;
        for (int at = start; at < end;)
        {
            if (end - at < 4 || at + 4 + ReadUInt16At(at + 2) > end)
            {
                return Fail(DnsErrorKind.InvalidOptRecord, at);
            }

            at += 4 + ReadUInt16At(at + 2);
        }

        data = _materialize ? new UnknownData(RecordType.OPT, _message[start..end]) : null;
        return true;
    }

    /// <summary>
    /// Obsolete and rare types whose rdata holds compressible names (RFC 1035 MD, MF, MB, MG, MR, MINFO; RFC 1183
    /// RP, AFSDB, RT; RFC 1706 NSAP-PTR). Their names are checked like any other; the data is kept opaque with
    /// the names expanded, so it stays correct wherever it is written later.
    /// </summary>
    private static (int PrefixLength, int NameCount)? LegacyNameLayout(RecordType type) => (ushort)type switch
    {
        3 or 4 or 7 or 8 or 9 or 23 => (0, 1),
        14 or 17 => (0, 2),
        18 or 21 => (2, 1),
        _ => null,
    };

    private bool TryReadLegacy(RecordType type, int prefixLength, int nameCount, int end, out RecordData? data)
    {
        data = null;
        int start = _position;
        if (end - start < prefixLength)
        {
            return Fail(DnsErrorKind.Truncated, start);
        }

        _position += prefixLength;
        List<byte>? expanded = _materialize ? [.. _message.Slice(start, prefixLength)] : null;
        for (int i = 0; i < nameCount; i++)
        {
            if (!TryReadName(end, out var name, out _))
            {
                return false;
            }

            if (expanded is not null)
            {
                expanded.AddRange(name!.Wire);
                expanded.Add(0);
            }
        }

        if (expanded is not null)
        {
            expanded.AddRange(_message[_position..end]);

            // Expanding pointers can only overflow 65535 bytes in a message of that size; keep the bytes as sent then.
            data = new UnknownData(type, expanded.Count <= ushort.MaxValue ? [.. expanded] : _message[start..end]);
        }

        return true;
    }

    /// <summary>Reads a name at the current position; its in-place bytes must end before <paramref name="limit"/>.</summary>
    private bool TryReadName(int limit, out DnsName? name, out bool isRoot)
    {
        name = null;
        Span<byte> wire = stackalloc byte[DnsName.MaxWireLength];
        if (!TryReadName(limit, wire, out int length))
        {
            isRoot = false;
            return false;
        }

        isRoot = length == 0;
        if (_materialize)
        {
            name = DnsName.FromWire(wire[..length]);
        }

        return true;
    }

    private bool TryReadName(int limit, scoped Span<byte> wire, out int length)
    {
        length = 0;
        int at = _position;
        int bound = limit;
        int lastHop = int.MaxValue;
        int hops = 0;
        int resumeAt = -1;
        while (true)
        {
            if (at >= bound)
            {
                return Fail(DnsErrorKind.Truncated, at);
            }

            byte lengthByte = _message[at];
            if (lengthByte == 0)
            {
                at++;
                break;
            }

            if ((lengthByte & 0xC0) == 0xC0)
            {
                if (at + 1 >= bound)
                {
                    return Fail(DnsErrorKind.Truncated, at);
                }

                int target = ((lengthByte & 0x3F) << 8) | _message[at + 1];

                // Strictly backwards: before this pointer and, after a jump, before the previous target too.
                if (target >= at || target >= lastHop || ++hops > MaxPointerHops)
                {
                    return Fail(DnsErrorKind.InvalidCompressionPointer, at);
                }

                if (resumeAt < 0)
                {
                    resumeAt = at + 2;
                }

                lastHop = target;
                at = target;
                bound = _message.Length;
                continue;
            }

            if (lengthByte > DnsName.MaxLabelLength)
            {
                return Fail(DnsErrorKind.LabelTooLong, at);
            }

            if (length + 1 + lengthByte >= DnsName.MaxWireLength)
            {
                return Fail(DnsErrorKind.NameTooLong, at);
            }

            if (at + 1 + lengthByte > bound)
            {
                return Fail(DnsErrorKind.Truncated, at);
            }

            _message.Slice(at, 1 + lengthByte).CopyTo(wire.Slice(length));
            length += 1 + lengthByte;
            at += 1 + lengthByte;
        }

        _position = resumeAt >= 0 ? resumeAt : at;
        return true;
    }

    private bool TryReadUInt16(int end, out ushort value)
    {
        if (end - _position < 2)
        {
            value = 0;
            return Fail(DnsErrorKind.Truncated, _position);
        }

        value = ReadUInt16At(_position);
        _position += 2;
        return true;
    }

    private readonly ushort ReadUInt16At(int at) => BinaryPrimitives.ReadUInt16BigEndian(_message.Slice(at));

    private readonly uint ReadUInt32At(int at) => BinaryPrimitives.ReadUInt32BigEndian(_message.Slice(at));

    private bool Fail(DnsErrorKind kind, int offset)
    {
        _error = new DnsError(kind, offset);
        return false;
    }
}
