// z-base32 (spec §1.3): the RFC 4648 bit order with the z-base32 alphabet, no padding. Decoding follows the
// reference's `base32` crate: lowercase only, floor(len * 5 / 8) bytes, leftover bits ignored (not checked), so a
// key spelt with a non-canonical last character still decodes to the same 32 bytes.

const ALPHABET = 'ybndrfg8ejkmcpqxot1uwisza345h769';

// Character code → 5-bit value, or -1 for anything outside the alphabet (uppercase included).
const VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) {
  VALUES[ALPHABET.charCodeAt(i)] = i;
}

/**
 * Encodes bytes as z-base32 (the canonical spelling: the last group is padded with zero bits).
 * @param {Uint8Array} bytes
 * @returns {string}
 */
export function encode(bytes) {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(buffer >> bits) & 31];
    }
    buffer &= (1 << bits) - 1; // keep only the bits not yet written, so the buffer never overflows
  }
  if (bits > 0) {
    out += ALPHABET[(buffer << (5 - bits)) & 31];
  }
  return out;
}

/**
 * Decodes z-base32 text: every character must be in the (lowercase) alphabet.
 * @param {string} text
 * @returns {Uint8Array | null} floor(text.length * 5 / 8) bytes, or null on a character outside the alphabet
 */
export function decode(text) {
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let buffer = 0;
  let bits = 0;
  let at = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const value = code < 128 ? VALUES[code] : -1;
    if (value < 0) {
      return null;
    }
    buffer = ((buffer << 5) | value) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (buffer >> bits) & 0xff;
    }
  }
  return out;
}

/**
 * The index of the first character that is not z-base32, or -1 (for error messages).
 * @param {string} text
 * @returns {number}
 */
export function firstInvalid(text) {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 128 || VALUES[code] < 0) {
      return i;
    }
  }
  return -1;
}
