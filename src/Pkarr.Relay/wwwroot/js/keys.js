// Public keys in text (spec §1.4: the reference's parse cascade, which decides which URLs and odd spellings count
// as a key) and the secret-key file (spec §1.2: 64 hex characters, as `pkarr keygen` writes it; pkdns's legacy
// 52-character z-base32 seed is read too). Errors are sentences for people, not error codes.

import * as zbase32 from './zbase32.js';
import { isPublicKey } from './ed25519.js';

const KEY_LENGTH = 52;

/**
 * The reference's cascade of string cuts (spec §1.4 steps 1–8), each applied only while the text is longer than a
 * key, so a bare key is never cut and `https://user@sub.<key>.:8080/path?q#f` comes down to `<key>`.
 * @param {string} text
 * @returns {string}
 */
function cut(text) {
  let s = text;
  const long = () => s.length > KEY_LENGTH;
  if (long() && s.includes(':')) s = s.slice(s.indexOf(':') + 1);
  if (long() && s.startsWith('//')) s = s.slice(2);
  if (long() && s.includes('@')) s = s.slice(s.indexOf('@') + 1);
  if (long() && s.includes(':')) s = s.slice(0, s.indexOf(':'));
  if (long() && s.includes('/')) s = s.slice(0, s.indexOf('/'));
  if (long() && s.includes('?')) s = s.slice(0, s.indexOf('?'));
  if (long() && s.includes('#')) s = s.slice(0, s.indexOf('#'));
  if (long()) {
    if (s.endsWith('.')) s = s.replace(/^\.+|\.+$/g, '');
    if (s.includes('.')) s = s.slice(s.lastIndexOf('.') + 1);
  }
  return s;
}

// Long inputs are shortened in messages so that an error stays one readable line.
function quote(text) {
  const shown = text.length > 70 ? `${text.slice(0, 60)}…` : text;
  return `'${shown}'`;
}

/**
 * Parses a public key from a bare key, a `pk:` URI or a URL whose host ends in the key (spec §1.4).
 * Surrounding whitespace is ignored.
 * @param {string} text
 * @returns {{ ok: true, key: Uint8Array, z32: string } | { ok: false, error: string }}
 */
export function parsePublicKey(text) {
  const s = cut(String(text ?? '').trim());
  if (s.length === 0) {
    return { ok: false, error: 'not a key: the text is empty' };
  }
  const bytes = zbase32.decode(s);
  if (bytes === null) {
    const at = zbase32.firstInvalid(s);
    const character = String.fromCodePoint(s.codePointAt(at));
    const hint = /[A-Z]/.test(character) ? ' (keys are lowercase)' : '';
    return { ok: false, error: `not a key: '${character}' is not a z-base32 character${hint}` };
  }
  if (bytes.length !== 32) {
    return { ok: false, error: `not a key: ${quote(s)} is ${s.length} characters, a key is ${KEY_LENGTH}` };
  }
  if (!isPublicKey(bytes)) {
    return { ok: false, error: 'not a key: these 32 bytes are not an Ed25519 public key' };
  }
  return { ok: true, key: bytes, z32: zbase32.encode(bytes) };
}

/**
 * Bytes as lowercase hex.
 * @param {Uint8Array} bytes
 * @returns {string}
 */
export function toHex(bytes) {
  let out = '';
  for (const b of bytes) {
    out += b.toString(16).padStart(2, '0');
  }
  return out;
}

/**
 * Hex (either case, even length) to bytes.
 * @param {string} text
 * @returns {Uint8Array | null} null when the length is odd or a character is not hex
 */
export function fromHex(text) {
  if (typeof text !== 'string' || text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) {
    return null;
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(text.substr(i * 2, 2), 16);
  }
  return out;
}

/**
 * Reads a secret-key file (spec §1.2): trimmed, even-length hex of the 32-byte seed; a 52-character text is
 * pkdns's legacy z-base32 form of the seed.
 * @param {string} text
 * @returns {{ ok: true, seed: Uint8Array } | { ok: false, error: string }}
 */
export function parseSecretKey(text) {
  const s = String(text ?? '').trim();
  if (s.length === 0) {
    return { ok: false, error: 'not a secret key: the text is empty' };
  }
  if (s.length === KEY_LENGTH) {
    const seed = zbase32.decode(s);
    return seed
      ? { ok: true, seed }
      : { ok: false, error: 'not a secret key: 52 characters but not z-base32 (a key file holds 64 hex characters)' };
  }
  if (s.length % 2 !== 0) {
    return { ok: false, error: `not a secret key: ${s.length} characters, hex needs an even number (a key file holds 64)` };
  }
  const seed = fromHex(s);
  if (seed === null) {
    return { ok: false, error: 'not a secret key: it is not hex (0–9, a–f)' };
  }
  if (seed.length !== 32) {
    return { ok: false, error: `not a secret key: ${seed.length} bytes, a secret key is 32 (64 hex characters)` };
  }
  return { ok: true, seed };
}

/**
 * The secret-key file's text for a seed: 64 lowercase hex characters, no newline (what `pkarr keygen` writes).
 * @param {Uint8Array} seed
 * @returns {string}
 */
export function secretKeyFile(seed) {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) {
    throw new TypeError('a secret key is 32 bytes');
  }
  return toHex(seed);
}
