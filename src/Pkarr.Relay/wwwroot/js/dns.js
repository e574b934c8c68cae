// The DNS message inside a pkarr packet (spec §3.4, §3.5). Encoding reproduces the reference encoder byte for
// byte, name compression included (§3.4.3), because the signature covers these bytes and the C# core must produce
// the same packet for the same records. Decoding accepts and refuses exactly what the C# core's DnsReader does,
// and never throws on hostile bytes. Presentation text is what the C# core's RecordData.ToString() prints.
//
// A record is { name, type, ttl, data }; the data shapes by type are listed at encodeMessage.

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8'); // invalid bytes become U+FFFD, as in .NET's Encoding.UTF8
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

const TYPE_CODES = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, OPT: 41, SVCB: 64, HTTPS: 65, CAA: 257,
};
const TYPE_NAMES = Object.fromEntries(Object.entries(TYPE_CODES).map(([name, code]) => [code, name]));

const CLASS_IN = 1;
const RESPONSE_FLAGS = 0x8000;
const MAX_LABEL = 63;
const MAX_NAME = 255; // on the wire, length bytes and the terminating zero included
const MAX_POINTER_OFFSET = 0x3fff;
const MAX_POINTER_HOPS = 128; // as the C# reader: honest encoders never point at a pointer, names have ≤ 127 labels
const TXT_CHUNK = 254; // the reference cuts text into 254-byte strings, not 255

const SVC_KEYS = ['mandatory', 'alpn', 'no-default-alpn', 'port', 'ipv4hint', 'ech', 'ipv6hint'];

// Decoded data carries the uncompressed rdata it came from, so that presentation() prints what was received even
// where the friendly fields cannot say it (labels holding dots, invalid UTF-8). A symbol keeps it out of JSON.
const WIRE = Symbol('rdata');

/** Invalid record input, with where it is: the record's index (-1 when unknown) and the field. */
export class DnsInputError extends Error {
  /**
   * @param {string} message
   * @param {number} index
   * @param {string} field 'name', 'type', 'ttl', 'address', 'target', 'preference', 'exchange', 'text',
   *   'priority', a SvcParam name ('alpn', 'port', …) or 'rdata'
   */
  constructor(message, index = -1, field = 'rdata') {
    super(message);
    this.name = 'DnsInputError';
    this.index = index;
    this.field = field;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Names

/**
 * Labels of a textual name, as the C# core's DnsName.TryParse reads it: empty labels collapse ("a..b" is "a.b",
 * a trailing dot is dropped, "" and "." are the root), any other character belongs to a label.
 */
function nameToLabels(text, field, index) {
  const labels = [];
  let wire = 1;
  for (const piece of String(text).split('.')) {
    if (piece === '') continue;
    if (/[\u0000-\u0020\u007f]/.test(piece)) {
      // Legal in DNS, but in a form field a space or control character is always a typo.
      throw new DnsInputError(`'${text}' contains a space or control character`, index, field);
    }
    const label = utf8Encoder.encode(piece);
    if (label.length > MAX_LABEL) {
      throw new DnsInputError(`the label '${piece}' is ${label.length} bytes, the limit is ${MAX_LABEL}`, index, field);
    }
    wire += 1 + label.length;
    if (wire > MAX_NAME) {
      throw new DnsInputError(`'${text}' is longer than a DNS name can be (255 bytes)`, index, field);
    }
    labels.push(label);
  }
  return labels;
}

function labelsToText(labels) {
  return labels.map((label) => utf8Decoder.decode(label)).join('.');
}

function wireLength(labels) {
  return labels.reduce((sum, label) => sum + 1 + label.length, 1);
}

/**
 * Normalises an owner name under the origin (spec §3.4.1), as the C# builder does on the name's labels: the apex
 * for no labels or a last label '@', unchanged when the last label is the origin (byte-exact, case-sensitive),
 * otherwise the origin appended. The result has no trailing dot.
 * @param {string} origin the key in z-base32
 * @param {string} name '@', 'www', '_x._tcp', 'www.<origin>', …
 * @returns {string}
 */
export function normalizeName(origin, name) {
  const pieces = String(name ?? '').split('.').filter((piece) => piece !== '');
  if (pieces.length === 0 || pieces[pieces.length - 1] === '@') return origin;
  const joined = pieces.join('.');
  return pieces[pieces.length - 1] === origin ? joined : `${joined}.${origin}`;
}

/**
 * An owner name as a form shows it: '@' for the apex, the part before the origin for names under it, and any
 * other name absolute (with a trailing dot).
 * @param {string} origin
 * @param {string} ownerName a decoded owner name (no trailing dot)
 * @returns {string}
 */
export function relativeName(origin, ownerName) {
  if (ownerName === origin) return '@';
  if (ownerName.endsWith(`.${origin}`)) return ownerName.slice(0, -(origin.length + 1));
  return `${ownerName}.`;
}

function ownerLabels(origin, name, index) {
  const labels = nameToLabels(normalizeName(origin, name ?? ''), 'name', index);
  if (labels.length === 0) {
    throw new DnsInputError('the owner name is empty', index, 'name');
  }
  return labels;
}

// ---------------------------------------------------------------------------------------------------------------
// IP addresses

function parseIPv4(text) {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!match) return null;
  const bytes = match.slice(1).map(Number);
  // Leading zeros are refused: some parsers read them as octal, so their meaning is ambiguous.
  if (bytes.some((b, i) => b > 255 || (match[i + 1].length > 1 && match[i + 1][0] === '0'))) return null;
  return Uint8Array.from(bytes);
}

function parseIPv6(text) {
  let s = text;
  if (s.includes('.')) {
    // An embedded IPv4 tail becomes its two hex groups.
    const at = s.lastIndexOf(':');
    const v4 = parseIPv4(s.slice(at + 1));
    if (at < 0 || !v4) return null;
    s = `${s.slice(0, at + 1)}${((v4[0] << 8) | v4[1]).toString(16)}:${((v4[2] << 8) | v4[3]).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groups = (part) => (part === '' ? [] : part.split(':'));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const all = [...head, ...tail];
  if (!all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return null;
  if (halves.length === 1 ? all.length !== 8 : all.length > 7) return null;
  const words = [...head, ...Array(8 - all.length).fill('0'), ...tail].map((g) => parseInt(g, 16));
  const bytes = new Uint8Array(16);
  words.forEach((w, i) => { bytes[2 * i] = w >> 8; bytes[2 * i + 1] = w & 0xff; });
  return bytes;
}

function formatIPv4(bytes) {
  return Array.from(bytes.subarray(0, 4)).join('.');
}

// .NET's IPAddress.ToString for IPv6 (RFC 5952 with .NET's choices): lowercase hex without leading zeros; the
// first longest run of two or more zero groups becomes '::'; IPv4-compatible, -mapped, SIIT and ISATAP
// addresses end in dotted IPv4.
function formatIPv6(bytes) {
  const words = [];
  for (let i = 0; i < 16; i += 2) words.push((bytes[i] << 8) | bytes[i + 1]);
  const embedded = (words[0] === 0 && words[1] === 0 && words[2] === 0 && words[3] === 0 && words[6] !== 0
      && ((words[4] === 0 && (words[5] === 0 || words[5] === 0xffff)) || (words[4] === 0xffff && words[5] === 0)))
    || (words[4] === 0 && words[5] === 0x5efe);
  const sections = embedded ? words.slice(0, 6) : words;
  let best = -1;
  let bestLength = 0;
  let run = 0;
  sections.forEach((w, i) => {
    run = w === 0 ? run + 1 : 0;
    if (run > bestLength) { bestLength = run; best = i - run + 1; }
  });
  if (bestLength < 2) best = -1;
  let out = '';
  let needsColon = false;
  for (let i = 0; i < sections.length; i++) {
    if (i === best) {
      out += '::';
      needsColon = false;
      i += bestLength - 1;
      continue;
    }
    if (needsColon) out += ':';
    out += sections[i].toString(16);
    needsColon = true;
  }
  if (embedded) {
    if (!out.endsWith(':')) out += ':';
    out += formatIPv4(bytes.subarray(12, 16));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Writing

class Writer {
  constructor(compress) {
    this.bytes = [];
    this.names = compress ? new Map() : null;
  }

  get position() { return this.bytes.length; }

  u8(value) { this.bytes.push(value & 0xff); }

  u16(value) { this.bytes.push((value >>> 8) & 0xff, value & 0xff); }

  u32(value) { this.u16(Math.floor(value / 0x10000)); this.u16(value % 0x10000); }

  raw(bytes) { for (const b of bytes) this.bytes.push(b); }

  patch16(at, value) { this.bytes[at] = value >>> 8; this.bytes[at + 1] = value & 0xff; }

  /** A name; a compressible one ends in a pointer to an earlier suffix when there is one (spec §3.4.3). */
  name(labels, compressible) {
    const table = compressible ? this.names : null;
    for (let i = 0; i < labels.length; i++) {
      if (table) {
        const key = suffixKey(labels, i);
        const offset = table.get(key);
        if (offset !== undefined) {
          this.u16(0xc000 | offset);
          return;
        }
        if (this.position <= MAX_POINTER_OFFSET) table.set(key, this.position);
      }
      this.u8(labels[i].length);
      this.raw(labels[i]);
    }
    this.u8(0);
  }

  result() { return Uint8Array.from(this.bytes); }
}

// Suffix identity is byte-wise: the wire form of labels i… as a string (each byte one char code).
function suffixKey(labels, from) {
  let key = '';
  for (let i = from; i < labels.length; i++) key += String.fromCharCode(labels[i].length, ...labels[i]);
  return key;
}

function typeCode(type, index) {
  if (Object.hasOwn(TYPE_CODES, type)) return TYPE_CODES[type];
  const match = /^TYPE(\d{1,5})$/.exec(String(type));
  if (match && Number(match[1]) <= 0xffff) return Number(match[1]);
  throw new DnsInputError(`'${type}' is not a record type`, index, 'type');
}

function typeName(code) {
  return TYPE_NAMES[code] ?? `TYPE${code}`;
}

function checkInteger(value, max, index, field, what) {
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (!Number.isInteger(n) || n < 0 || n > max) {
    throw new DnsInputError(`${what} must be a whole number from 0 to ${max}`, index, field);
  }
  return n;
}

function address(text, parse, family, index, field) {
  const bytes = parse(String(text ?? '').trim());
  if (!bytes) throw new DnsInputError(`'${text ?? ''}' is not an ${family} address`, index, field);
  return bytes;
}

function txtStrings(data, index) {
  if (Array.isArray(data.strings) && data.strings.every((s) => s instanceof Uint8Array && s.length <= 255)) {
    // Decoded data keeps its own cut into strings, unless the text was edited since.
    const joined = concat(data.strings);
    if (typeof data.text !== 'string' || utf8Decoder.decode(joined) === data.text) return data.strings;
  }
  if (typeof data.text !== 'string') throw new DnsInputError('TXT needs text', index, 'text');
  const bytes = utf8Encoder.encode(data.text);
  const strings = [];
  for (let at = 0; at < bytes.length; at += TXT_CHUNK) strings.push(bytes.subarray(at, at + TXT_CHUNK));
  return strings;
}

function concat(arrays) {
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) { out.set(a, at); at += a.length; }
  return out;
}

function base64ToBytes(text, index, field) {
  try {
    return Uint8Array.from(atob(String(text).trim()), (c) => c.charCodeAt(0));
  } catch {
    throw new DnsInputError(`${field} is not base64`, index, field);
  }
}

function bytesToBase64(bytes) {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function svcKeyNumber(name) {
  const known = SVC_KEYS.indexOf(name);
  if (known >= 0) return known;
  const match = /^key(0|[1-9]\d{0,4})$/.exec(name);
  return match && Number(match[1]) <= 0xffff ? Number(match[1]) : -1;
}

/** The value rules the C# core (and the parser) apply to a SvcParam's wire value; null when it is fine. */
function svcValueProblem(key, value) {
  switch (key) {
    case 0: return value.length % 2 === 0 ? null : 'a list of 2-byte keys';
    case 1:
      for (let at = 0; at < value.length; at += 1 + value[at]) {
        if (at + 1 + value[at] > value.length) return 'character-strings that fit the value';
      }
      return null;
    case 3: return value.length >= 2 ? null : 'at least 2 bytes';
    case 4: return value.length % 4 === 0 ? null : 'whole IPv4 addresses';
    case 5: return value.length >= 2 && ((value[0] << 8) | value[1]) === value.length - 2
      ? null : 'an ECHConfigList (a 2-byte length, then that many bytes)';
    case 6: return value.length % 16 === 0 ? null : 'whole IPv6 addresses';
    default: return null;
  }
}

function svcParamValue(key, name, value, index) {
  const fail = (message) => { throw new DnsInputError(`${name}: ${message}`, index, name); };
  const list = () => {
    const items = Array.isArray(value) ? value : String(value).split(',').map((s) => s.trim()).filter(Boolean);
    if (items.length === 0) fail('needs at least one value');
    return items;
  };
  if (value instanceof Uint8Array) return value;
  switch (key) {
    case 0: {
      const keys = list().map((k) => (typeof k === 'number' ? k : svcKeyNumber(String(k).trim())));
      if (keys.some((k) => !Number.isInteger(k) || k < 0 || k > 0xffff)) fail('unknown key');
      // RFC 9460 §8: sorted, no duplicates (the C# core's WithMandatory does the same).
      const sorted = [...new Set(keys)].sort((a, b) => a - b);
      const w = new Writer(false);
      sorted.forEach((k) => w.u16(k));
      return w.result();
    }
    case 1: {
      const w = new Writer(false);
      for (const id of list()) {
        const bytes = utf8Encoder.encode(String(id));
        if (bytes.length === 0 || bytes.length > 255) fail('each protocol id is 1 to 255 bytes');
        w.u8(bytes.length);
        w.raw(bytes);
      }
      return w.result();
    }
    case 2:
      return new Uint8Array(0);
    case 3: {
      const port = checkInteger(value, 0xffff, index, name, 'port');
      return Uint8Array.of(port >> 8, port & 0xff);
    }
    case 4:
    case 6: {
      const [parse, family] = key === 4 ? [parseIPv4, 'IPv4'] : [parseIPv6, 'IPv6'];
      return concat(list().map((a) => address(a, parse, family, index, name)));
    }
    case 5:
      return base64ToBytes(value, index, name);
    default:
      if (typeof value === 'string') return utf8Encoder.encode(value);
      return fail('needs bytes');
  }
}

function svcParams(params, index) {
  const entries = [];
  const seen = new Set();
  for (const [name, value] of Object.entries(params ?? {})) {
    if (value === undefined || value === null || value === false) continue; // unset form fields
    const key = svcKeyNumber(name);
    if (key < 0) throw new DnsInputError(`'${name}' is not a SvcParam key`, index, name);
    if (seen.has(key)) throw new DnsInputError(`${name} is given twice`, index, name);
    seen.add(key);
    const bytes = svcParamValue(key, name, value, index);
    const problem = svcValueProblem(key, bytes);
    if (problem) throw new DnsInputError(`${name} must be ${problem}`, index, name);
    if (bytes.length > 0xffff) throw new DnsInputError(`${name} is too long`, index, name);
    entries.push([key, bytes]);
  }
  return entries.sort((a, b) => a[0] - b[0]);
}

/** Writes one record's rdata; names are compressed only when the writer compresses and the type allows it. */
function writeRdata(w, code, data, index) {
  if (data === null || typeof data !== 'object') throw new DnsInputError('the record has no data', index, 'rdata');
  if (data.rdata instanceof Uint8Array) {
    w.raw(data.rdata);
    return;
  }
  const name = (text, field) => nameToLabels(text ?? '', field, index);
  switch (code) {
    case 1: w.raw(address(data.address, parseIPv4, 'IPv4', index, 'address')); return;
    case 28: w.raw(address(data.address, parseIPv6, 'IPv6', index, 'address')); return;
    case 2: case 5: case 12: w.name(name(data.target, 'target'), true); return;
    case 15:
      w.u16(checkInteger(data.preference, 0xffff, index, 'preference', 'the preference'));
      w.name(name(data.exchange, 'exchange'), true);
      return;
    case 16: {
      const strings = txtStrings(data, index);
      if (strings.reduce((n, s) => n + 1 + s.length, 0) > 0xffff) {
        throw new DnsInputError('the text is longer than one record can hold', index, 'text');
      }
      if (strings.length === 0) w.u8(0); // TXT rdata cannot be empty: '' is one empty string
      for (const s of strings) { w.u8(s.length); w.raw(s); }
      return;
    }
    case 33:
      w.u16(checkInteger(data.priority, 0xffff, index, 'priority', 'the priority'));
      w.u16(checkInteger(data.weight, 0xffff, index, 'weight', 'the weight'));
      w.u16(checkInteger(data.port, 0xffff, index, 'port', 'the port'));
      w.name(name(data.target, 'target'), false);
      return;
    case 6:
      w.name(name(data.mname, 'mname'), true);
      w.name(name(data.rname, 'rname'), true);
      for (const field of ['serial', 'refresh', 'retry', 'expire', 'minimum']) {
        w.u32(checkInteger(data[field], 0xffffffff, index, field, field));
      }
      return;
    case 257: {
      const tag = utf8Encoder.encode(String(data.tag ?? ''));
      if (!/^[A-Za-z0-9]{1,255}$/.test(String(data.tag ?? ''))) {
        throw new DnsInputError('the tag is 1 to 255 letters or digits', index, 'tag');
      }
      w.u8(checkInteger(data.flags ?? 0, 255, index, 'flags', 'flags'));
      w.u8(tag.length);
      w.raw(tag);
      w.raw(data.value instanceof Uint8Array ? data.value : utf8Encoder.encode(String(data.value ?? '')));
      return;
    }
    case 64: case 65: {
      w.u16(checkInteger(data.priority, 0xffff, index, 'priority', 'the priority'));
      w.name(name(data.target ?? '.', 'target'), false); // RFC 9460: never compressed
      for (const [key, value] of svcParams(data.params, index)) {
        w.u16(key);
        w.u16(value.length);
        w.raw(value);
      }
      return;
    }
    default:
      throw new DnsInputError(`${typeName(code)} records need raw rdata`, index, 'rdata');
  }
}

function writeRecord(w, origin, record, index) {
  if (record === null || typeof record !== 'object') throw new DnsInputError('not a record', index, 'name');
  const code = typeCode(record.type, index);
  const ttl = checkInteger(record.ttl, 0xffffffff, index, 'ttl', 'TTL');
  const owner = ownerLabels(origin, record.name, index);
  if (wireLength(owner) > MAX_NAME) {
    throw new DnsInputError('the name is too long once the key is appended (255 bytes)', index, 'name');
  }
  w.name(owner, true);
  w.u16(code);
  w.u16(CLASS_IN);
  w.u32(ttl);
  const lengthAt = w.position;
  w.u16(0);
  writeRdata(w, code, record.data, index);
  const length = w.position - lengthAt - 2;
  if (length > 0xffff) throw new DnsInputError('the record data is longer than 65535 bytes', index, 'rdata');
  w.patch16(lengthAt, length);
}

/**
 * Encodes records as the DNS message of a pkarr packet (spec §3.4 steps 1–4): ID 0, flags 0x8000, every record
 * in the answer section in the given order, class IN, owner names normalised under the origin, name compression
 * exactly as the reference encoder. No size check (see packet.js).
 *
 * Data by type: A/AAAA { address }; CNAME/NS/PTR { target }; MX { preference, exchange };
 * TXT { text } (UTF-8 cut into 254-byte strings; decoded { text, strings } keeps its strings while the text is
 * unchanged); HTTPS/SVCB { priority, target, params: { mandatory, alpn, 'no-default-alpn', port, ipv4hint, ech
 * (base64 of the ECHConfigList, its length prefix included), ipv6hint, keyNNNNN: Uint8Array } } (params sorted by
 * key; lists may be arrays or comma-separated text; null/undefined/false leave a param out);
 * SRV { priority, weight, port, target }; SOA { mname, rname, serial, refresh, retry, expire, minimum };
 * CAA { flags, tag, value: text or Uint8Array }; any type { rdata: Uint8Array } (written as it is).
 * @param {string} origin the key in z-base32
 * @param {Array<{ name: string, type: string, ttl: number, data: object }>} records
 * @returns {Uint8Array}
 * @throws {DnsInputError} on invalid input
 */
export function encodeMessage(origin, records) {
  const w = new Writer(true);
  w.u16(0);
  w.u16(RESPONSE_FLAGS);
  w.u16(0);
  if (records.length > 0xffff) throw new DnsInputError('too many records', -1, 'name');
  w.u16(records.length);
  w.u16(0);
  w.u16(0);
  records.forEach((record, index) => writeRecord(w, origin, record, index));
  return w.result();
}

/**
 * Checks one record as encodeMessage would, for live form feedback.
 * @param {{ name: string, type: string, ttl: number, data: object }} record
 * @param {string} [origin] the key, to check the owner name's length once the key is appended
 * @returns {{ field: string, message: string } | null}
 */
export function validateRecord(record, origin = 'y'.repeat(52)) {
  try {
    writeRecord(new Writer(false), origin, record, -1);
    return null;
  } catch (error) {
    if (error instanceof DnsInputError) return { field: error.field, message: error.message };
    return { field: 'rdata', message: String(error?.message ?? error) };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Reading

class DecodeError extends Error {}

const VALID_CLASSES = new Set([1, 2, 3, 4, 254]);

// Obsolete types whose rdata holds compressible names (MD, MF, MB, MG, MR, NSAP-PTR; MINFO, RP; AFSDB, RT): the
// names are checked and expanded, the data kept opaque, as the C# reader does.
const LEGACY_LAYOUTS = new Map([
  [3, [0, 1]], [4, [0, 1]], [7, [0, 1]], [8, [0, 1]], [9, [0, 1]], [23, [0, 1]],
  [14, [0, 2]], [17, [0, 2]], [18, [2, 1]], [21, [2, 1]],
]);

class Reader {
  constructor(bytes) {
    this.m = bytes;
    this.pos = 0;
  }

  fail(what, at) {
    throw new DecodeError(`not a valid DNS message: ${what} at byte ${at}`);
  }

  u16At(at) { return (this.m[at] << 8) | this.m[at + 1]; }

  u32At(at) { return this.u16At(at) * 0x10000 + this.u16At(at + 2); }

  u16(end) {
    if (end - this.pos < 2) this.fail('truncated data', this.pos);
    const value = this.u16At(this.pos);
    this.pos += 2;
    return value;
  }

  /**
   * A name at the current position: its in-place bytes must end before `limit`; pointers must go strictly
   * backwards (before the pointer itself and before the previous target), which ends every chain.
   */
  name(limit) {
    const labels = [];
    let length = 0;
    let at = this.pos;
    let bound = limit;
    let lastHop = Infinity;
    let hops = 0;
    let resumeAt = -1;
    for (;;) {
      if (at >= bound) this.fail('truncated name', at);
      const lengthByte = this.m[at];
      if (lengthByte === 0) {
        at++;
        break;
      }
      if ((lengthByte & 0xc0) === 0xc0) {
        if (at + 1 >= bound) this.fail('truncated name', at);
        const target = ((lengthByte & 0x3f) << 8) | this.m[at + 1];
        if (target >= at || target >= lastHop || ++hops > MAX_POINTER_HOPS) {
          this.fail('a compression pointer that does not point backwards', at);
        }
        if (resumeAt < 0) resumeAt = at + 2;
        lastHop = target;
        at = target;
        bound = this.m.length;
        continue;
      }
      if (lengthByte > MAX_LABEL) this.fail('a label longer than 63 bytes', at);
      if (length + 1 + lengthByte >= MAX_NAME) this.fail('a name longer than 255 bytes', at);
      if (at + 1 + lengthByte > bound) this.fail('truncated name', at);
      labels.push(this.m.slice(at + 1, at + 1 + lengthByte));
      length += 1 + lengthByte;
      at += 1 + lengthByte;
    }
    this.pos = resumeAt >= 0 ? resumeAt : at;
    return labels;
  }

  question() {
    this.name(this.m.length);
    if (this.m.length - this.pos < 4) this.fail('truncated question', this.m.length);
    const cls = this.u16At(this.pos + 2) & 0x7fff;
    if (!VALID_CLASSES.has(cls) && cls !== 255) this.fail(`class ${cls}`, this.pos + 2);
    this.pos += 4;
  }

  record() {
    const nameAt = this.pos;
    const labels = this.name(this.m.length);
    if (this.m.length - this.pos < 10) this.fail('truncated record', this.m.length);
    const fixedAt = this.pos;
    const code = this.u16At(fixedAt);
    const rawClass = this.u16At(fixedAt + 2);
    const ttl = this.u32At(fixedAt + 4);
    const start = fixedAt + 10;
    const end = start + this.u16At(fixedAt + 8);
    if (end > this.m.length) this.fail('record data running past the end', fixedAt + 8);
    if (code === 41) {
      if (labels.length !== 0) this.fail('an OPT record not at the root', nameAt);
    } else if (!VALID_CLASSES.has(rawClass & 0x7fff)) {
      this.fail(`class ${rawClass & 0x7fff}`, fixedAt + 2);
    }
    this.pos = start;
    const data = this.rdata(code, end);
    this.pos = end;
    return { name: labelsToText(labels), type: typeName(code), ttl, data };
  }

  rdata(code, end) {
    const start = this.pos;
    if (start === end) return opaque(new Uint8Array(0)); // rdlength 0: an empty record of its type
    const w = new Writer(false); // the uncompressed rdata, for presentation()
    let data;
    switch (code) {
      case 1: case 28: {
        const size = code === 1 ? 4 : 16;
        if (end - start < size) this.fail('truncated address', start);
        const bytes = this.m.slice(start, start + size); // any excess is skipped, as the reference does
        w.raw(bytes);
        data = { address: code === 1 ? formatIPv4(bytes) : formatIPv6(bytes) };
        break;
      }
      case 2: case 5: case 12: {
        const target = this.name(end);
        w.name(target, false);
        data = { target: nameText(target) };
        break;
      }
      case 15: {
        const preference = this.u16(end);
        const exchange = this.name(end);
        w.u16(preference);
        w.name(exchange, false);
        data = { preference, exchange: nameText(exchange) };
        break;
      }
      case 16: {
        const strings = [];
        for (let at = start; at < end; at += 1 + this.m[at]) {
          if (at + 1 + this.m[at] > end) this.fail('a character-string running past its record', at);
          strings.push(this.m.slice(at + 1, at + 1 + this.m[at]));
        }
        strings.forEach((s) => { w.u8(s.length); w.raw(s); });
        data = { text: utf8Decoder.decode(concat(strings)), strings };
        break;
      }
      case 33: {
        const [priority, weight, port] = [this.u16(end), this.u16(end), this.u16(end)];
        const target = this.name(end);
        [priority, weight, port].forEach((v) => w.u16(v));
        w.name(target, false);
        data = { priority, weight, port, target: nameText(target) };
        break;
      }
      case 257: {
        if (end - start < 2) this.fail('truncated CAA record', start);
        const tagLength = this.m[start + 1];
        if (start + 2 + tagLength > end) this.fail('a CAA tag running past its record', start + 1);
        const flags = this.m[start];
        const tag = this.m.slice(start + 2, start + 2 + tagLength);
        const value = this.m.slice(start + 2 + tagLength, end);
        w.raw(this.m.subarray(start, end));
        // A tag that is not letters and digits prints as generic rdata in the C# core, so it stays raw here too;
        // a value that is not UTF-8 stays bytes.
        data = /^[A-Za-z0-9]+$/.test(String.fromCharCode(...tag))
          ? { flags, tag: String.fromCharCode(...tag), value: decodeStrict(value) ?? value }
          : { rdata: this.m.slice(start, end) };
        break;
      }
      case 6: {
        const mname = this.name(end);
        const rname = this.name(end);
        if (end - this.pos < 20) this.fail('truncated SOA record', this.pos);
        const [serial, refresh, retry, expire, minimum] = [0, 4, 8, 12, 16].map((i) => this.u32At(this.pos + i));
        w.name(mname, false);
        w.name(rname, false);
        [serial, refresh, retry, expire, minimum].forEach((v) => w.u32(v));
        data = { mname: nameText(mname), rname: nameText(rname), serial, refresh, retry, expire, minimum };
        break;
      }
      case 64: case 65:
        data = this.svcb(end, w);
        break;
      case 41:
        for (let at = start; at < end;) {
          if (end - at < 4 || at + 4 + this.u16At(at + 2) > end) this.fail('a malformed OPT option', at);
          at += 4 + this.u16At(at + 2);
        }
        return opaque(this.m.slice(start, end));
      default: {
        const layout = LEGACY_LAYOUTS.get(code);
        if (!layout) return opaque(this.m.slice(start, end));
        const [prefix, count] = layout;
        if (end - start < prefix) this.fail('truncated record', start);
        w.raw(this.m.subarray(start, start + prefix));
        this.pos += prefix;
        for (let i = 0; i < count; i++) w.name(this.name(end), false);
        w.raw(this.m.subarray(this.pos, end));
        return opaque(w.result());
      }
    }
    Object.defineProperty(data, WIRE, { value: w.result() });
    return data;
  }

  svcb(end, w) {
    const priority = this.u16(end);
    const target = this.name(end);
    w.u16(priority);
    w.name(target, false);
    const params = {};
    let previous = -1;
    while (this.pos < end) {
      const at = this.pos;
      if (end - at < 4) this.fail('truncated SvcParam', at);
      const key = this.u16At(at);
      const valueEnd = at + 4 + this.u16At(at + 2);
      if (key <= previous) this.fail('SvcParams out of order', at);
      if (valueEnd > end) this.fail('a SvcParam running past its record', at + 2);
      const value = this.m.slice(at + 4, valueEnd);
      if (svcValueProblem(key, value)) this.fail(`a malformed ${SVC_KEYS[key] ?? `key${key}`}`, at);
      w.u16(key);
      w.u16(value.length);
      w.raw(value);
      const named = namedSvcValue(key, value);
      if (named === undefined) params[`key${key}`] = value;
      else params[SVC_KEYS[key]] = named;
      previous = key;
      this.pos = valueEnd;
    }
    return { priority, target: nameText(target), params };
  }
}

function opaque(bytes) {
  const data = { rdata: bytes };
  Object.defineProperty(data, WIRE, { value: bytes });
  return data;
}

function decodeStrict(bytes) {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

// A data name as text: '.' for the root, otherwise the labels without a trailing dot.
function nameText(labels) {
  return labels.length === 0 ? '.' : labelsToText(labels);
}

// The friendly value of a SvcParam when its presentation has a named form (the same conditions as the C# core's
// SvcParamPresentation), otherwise undefined: such a value stays raw bytes under keyNNN, so it survives a round
// trip and prints as the C# core prints it.
function namedSvcValue(key, value) {
  switch (key) {
    case 0: {
      if (value.length === 0 || value.length % 2 !== 0) return undefined;
      const keys = [];
      for (let i = 0; i < value.length; i += 2) {
        const k = (value[i] << 8) | value[i + 1];
        if (keys.length > 0 && k <= keys[keys.length - 1]) return undefined;
        keys.push(k);
      }
      return keys.map((k) => SVC_KEYS[k] ?? `key${k}`);
    }
    case 1: {
      if (value.length === 0) return undefined;
      const ids = [];
      for (let at = 0; at < value.length; at += 1 + value[at]) {
        if (value[at] === 0) return undefined;
        const id = decodeStrict(value.subarray(at + 1, at + 1 + value[at]));
        if (id === null) return undefined; // only ids that survive text round trips are named
        ids.push(id);
      }
      return ids;
    }
    case 2: return value.length === 0 ? true : undefined;
    case 3: return value.length === 2 ? (value[0] << 8) | value[1] : undefined;
    case 4: case 6: {
      const size = key === 4 ? 4 : 16;
      if (value.length === 0 || value.length % size !== 0) return undefined;
      const out = [];
      for (let i = 0; i < value.length; i += size) {
        const bytes = value.subarray(i, i + size);
        out.push(size === 4 ? formatIPv4(bytes) : formatIPv6(bytes));
      }
      return out;
    }
    case 5: return bytesToBase64(value);
    default: return undefined;
  }
}

/**
 * Decodes a DNS message by the spec §3.5 rules (those of the C# core): any flags but Z, all four sections read
 * and checked, backward compression pointers only, bounds checked everywhere, trailing bytes ignored. Never throws.
 * @param {Uint8Array} bytes
 * @returns {{ ok: true, records: Array<{ name: string, type: string, ttl: number, data: object }> }
 *   | { ok: false, error: string }} the answer records; names are full owner names without a trailing dot
 */
export function decodeMessage(bytes) {
  try {
    if (!(bytes instanceof Uint8Array)) return { ok: false, error: 'not a valid DNS message: no bytes' };
    const r = new Reader(bytes);
    if (bytes.length < 12) r.fail('truncated header', bytes.length);
    if (r.u16At(2) & 0x0040) r.fail('the reserved flag set', 2);
    const counts = [4, 6, 8, 10].map((at) => r.u16At(at));
    r.pos = 12;
    // Each entry takes at least 5 (question) or 11 (record) bytes, so a lying count fails on truncation quickly.
    for (let i = 0; i < counts[0]; i++) r.question();
    const records = [];
    for (let i = 0; i < counts[1]; i++) records.push(r.record());
    for (let i = 0; i < counts[2] + counts[3]; i++) r.record();
    return { ok: true, records };
  } catch (error) {
    return { ok: false, error: error instanceof DecodeError ? error.message : `not a valid DNS message: ${error}` };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Presentation (RFC 1035 §5.1 escapes, RFC 3597, RFC 9460 §2.1), as the C# core's Presentation.cs

// Characters above ASCII that .NET's Rune.IsControl or Rune.IsWhiteSpace reject: printed as \DDD escapes of their
// bytes rather than as themselves.
function isHidden(cp) {
  return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x2000 && cp <= 0x200a)
    || [0x85, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000].includes(cp);
}

// One UTF-8 scalar starting at `at` (well-formed per Unicode: no overlongs, surrogates or values past U+10FFFF),
// as .NET's Rune.DecodeFromUtf8 accepts: [codePoint, length] or null.
function decodeRune(bytes, at) {
  const b0 = bytes[at];
  let length;
  let cp;
  let min;
  if (b0 >= 0xc2 && b0 <= 0xdf) { length = 2; cp = b0 & 0x1f; min = 0x80; }
  else if (b0 >= 0xe0 && b0 <= 0xef) { length = 3; cp = b0 & 0x0f; min = 0x800; }
  else if (b0 >= 0xf0 && b0 <= 0xf4) { length = 4; cp = b0 & 0x07; min = 0x10000; }
  else return null;
  if (at + length > bytes.length) return null;
  for (let i = 1; i < length; i++) {
    const b = bytes[at + i];
    if ((b & 0xc0) !== 0x80) return null;
    cp = (cp << 6) | (b & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return null;
  return [cp, length];
}

function decimalEscape(b) {
  return `\\${String(b).padStart(3, '0')}`;
}

function escape(bytes, inQuotes, escapeDots) {
  let out = '';
  for (let at = 0; at < bytes.length;) {
    const b = bytes[at];
    if (b >= 0x80) {
      const rune = decodeRune(bytes, at);
      if (rune && !isHidden(rune[0])) {
        out += String.fromCodePoint(rune[0]);
        at += rune[1];
        continue;
      }
      out += decimalEscape(b);
    } else if (b < 0x20 || b === 0x7f || (b === 0x20 && !inQuotes)) {
      out += decimalEscape(b);
    } else if (b === 0x22 || b === 0x5c || (!inQuotes && ';()@$,'.includes(String.fromCharCode(b)))
      || (escapeDots && b === 0x2e)) {
      out += `\\${String.fromCharCode(b)}`;
    } else {
      out += String.fromCharCode(b);
    }
    at++;
  }
  return out;
}

function quoted(bytes) {
  return `"${escape(bytes, true, false)}"`;
}

function generic(bytes) {
  if (bytes.length === 0) return '\\# 0';
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return `\\# ${bytes.length} ${hex}`;
}

// Reads uncompressed, well-formed rdata (made by this module) for presentation.
class Cursor {
  constructor(bytes) { this.b = bytes; this.at = 0; }

  u16() { const v = (this.b[this.at] << 8) | this.b[this.at + 1]; this.at += 2; return v; }

  u32() { return this.u16() * 0x10000 + this.u16(); }

  name() {
    const labels = [];
    while (this.b[this.at] !== 0) {
      labels.push(this.b.subarray(this.at + 1, this.at + 1 + this.b[this.at]));
      this.at += 1 + this.b[this.at];
    }
    this.at++;
    return labels.length === 0 ? '.' : labels.map((l) => `${escape(l, false, true)}.`).join('');
  }
}

function svcParamText(key, value) {
  switch (key) {
    case 0: {
      const keys = namedSvcValue(0, value);
      if (keys) return `mandatory=${keys.join(',')}`;
      break;
    }
    case 1: {
      if (value.length === 0) break;
      const items = [];
      for (let at = 0; at < value.length; at += 1 + value[at]) {
        const id = value.subarray(at + 1, at + 1 + value[at]);
        if (id.length === 0) return `key1=${quoted(value)}`;
        // ',' and '\' inside an item get a backslash (RFC 9460 §A.1), which the escape below doubles.
        const escaped = [];
        for (const b of id) {
          if (b === 0x2c || b === 0x5c) escaped.push(0x5c);
          escaped.push(b);
        }
        items.push(escape(Uint8Array.from(escaped), true, false));
      }
      return `alpn="${items.join(',')}"`;
    }
    case 2: if (value.length === 0) return 'no-default-alpn'; break;
    case 3: if (value.length === 2) return `port=${(value[0] << 8) | value[1]}`; break;
    case 4: case 6: {
      const addresses = namedSvcValue(key, value);
      if (addresses) return `${SVC_KEYS[key]}=${addresses.join(',')}`;
      break;
    }
    case 5: return `ech=${bytesToBase64(value)}`;
    default: break;
  }
  return `key${key}=${quoted(value)}`;
}

function presentWire(code, bytes) {
  if (bytes.length === 0) return generic(bytes);
  const c = new Cursor(bytes);
  switch (code) {
    case 1: return formatIPv4(bytes);
    case 28: return formatIPv6(bytes);
    case 2: case 5: case 12: return c.name();
    case 15: return `${c.u16()} ${c.name()}`;
    case 16: {
      const strings = [];
      for (let at = 0; at < bytes.length; at += 1 + bytes[at]) strings.push(quoted(bytes.subarray(at + 1, at + 1 + bytes[at])));
      return strings.join(' ');
    }
    case 33: return `${c.u16()} ${c.u16()} ${c.u16()} ${c.name()}`;
    case 6: return `${c.name()} ${c.name()} ${c.u32()} ${c.u32()} ${c.u32()} ${c.u32()} ${c.u32()}`;
    case 257: {
      const tag = bytes.subarray(2, 2 + bytes[1]);
      if (tag.length === 0 || !tag.every((b) => (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a))) {
        return generic(bytes);
      }
      return `${bytes[0]} ${String.fromCharCode(...tag)} ${quoted(bytes.subarray(2 + tag.length))}`;
    }
    case 64: case 65: {
      let out = `${c.u16()} ${c.name()}`;
      while (c.at < bytes.length) {
        const key = c.u16();
        const length = c.u16();
        out += ` ${svcParamText(key, bytes.subarray(c.at, c.at + length))}`;
        c.at += length;
      }
      return out;
    }
    default: return generic(bytes);
  }
}

/**
 * The record's data in zone-file presentation, exactly as the C# core's RecordData.ToString() prints it: names
 * absolute with escapes, TXT strings quoted (`"a" "b"`), SVCB `1 . alpn="h2,h3" port=443`, unknown or empty data
 * as RFC 3597 `\# length hex`. Decoded records print the bytes they came from.
 * @param {{ type: string, data: object }} record
 * @returns {string}
 * @throws {DnsInputError} when the data is not valid input for its type
 */
export function presentation(record) {
  const code = typeCode(record.type, -1);
  const data = record.data;
  if (data?.[WIRE] instanceof Uint8Array) return presentWire(code, data[WIRE]);
  if (data?.rdata instanceof Uint8Array) return generic(data.rdata);
  const w = new Writer(false);
  writeRdata(w, code, data, -1);
  return presentWire(code, w.result());
}
