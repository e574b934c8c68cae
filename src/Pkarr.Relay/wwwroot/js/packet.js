// Signed packets (spec §3.1–3.3, §3.5) and their timestamps (§2). The relay payload is
// signature (64) ‖ timestamp (8, big-endian µs) ‖ DNS message; the signature covers the BEP 44 signable, not the
// payload itself.

import * as dns from './dns.js';
import * as ed25519 from './ed25519.js';
import * as zbase32 from './zbase32.js';

/** The largest DNS message a packet may carry (the BEP 44 value limit). */
export const MAX_DNS_BYTES = 1000;

const SIGNATURE_BYTES = 64;
const HEADER_BYTES = SIGNATURE_BYTES + 8;
const MAX_TIMESTAMP = (1n << 64n) - 1n;

/** The records encode to more than MAX_DNS_BYTES. */
export class PacketTooLargeError extends Error {
  /** @param {number} size the DNS message's size in bytes */
  constructor(size) {
    super(`the records take ${size} bytes, a packet holds at most ${MAX_DNS_BYTES}`);
    this.name = 'PacketTooLargeError';
    this.size = size;
  }
}

let lastMicros = 0n;

/**
 * Microseconds since the Unix epoch, strictly increasing within the page even when the wall clock steps back
 * (publishing an older timestamp than one already seen fails with 409).
 * @returns {bigint}
 */
export function nowMicros() {
  const wall = BigInt(Date.now()) * 1000n;
  lastMicros = wall > lastMicros ? wall : lastMicros + 1n;
  return lastMicros;
}

/**
 * What is signed (spec §3.3): "3:seqi<timestamp>e1:v<length>:" followed by the DNS message.
 * @param {bigint} timestamp
 * @param {Uint8Array} dnsBytes
 * @returns {Uint8Array}
 */
export function signable(timestamp, dnsBytes) {
  const prefix = new TextEncoder().encode(`3:seqi${BigInt(timestamp)}e1:v${dnsBytes.length}:`);
  const out = new Uint8Array(prefix.length + dnsBytes.length);
  out.set(prefix);
  out.set(dnsBytes, prefix.length);
  return out;
}

/**
 * The size of the DNS message the records make under the origin, for a live size meter.
 * @param {string} origin the key in z-base32
 * @param {Array<object>} records
 * @returns {number}
 * @throws {dns.DnsInputError}
 */
export function encodedSize(origin, records) {
  return dns.encodeMessage(origin, records).length;
}

function checkTimestamp(timestamp) {
  if (typeof timestamp !== 'bigint' || timestamp < 0n || timestamp > MAX_TIMESTAMP) {
    throw new RangeError('a timestamp is a BigInt count of microseconds from 0 to 2^64 - 1');
  }
  return timestamp;
}

/**
 * Builds and signs a packet for the signer's key (spec §3.4).
 * @param {{ publicKey: Uint8Array, sign(message: Uint8Array): Promise<Uint8Array> }} signer from ed25519.signerFromSeed
 * @param {Array<object>} records see dns.encodeMessage
 * @param {{ timestamp?: bigint }} [options] the timestamp defaults to nowMicros()
 * @returns {Promise<{ payload: Uint8Array, dns: Uint8Array, timestamp: bigint, signature: Uint8Array }>}
 * @throws {dns.DnsInputError | PacketTooLargeError}
 */
export async function buildPacket(signer, records, { timestamp } = {}) {
  const origin = zbase32.encode(signer.publicKey);
  const message = dns.encodeMessage(origin, records);
  if (message.length > MAX_DNS_BYTES) {
    throw new PacketTooLargeError(message.length);
  }
  const ts = checkTimestamp(timestamp ?? nowMicros());
  const signature = await signer.sign(signable(ts, message));
  const payload = new Uint8Array(HEADER_BYTES + message.length);
  payload.set(signature);
  new DataView(payload.buffer).setBigUint64(SIGNATURE_BYTES, ts);
  payload.set(message, HEADER_BYTES);
  return { payload, dns: message, timestamp: ts, signature };
}

/**
 * Checks a relay payload for a key in the spec §3.5 order (length, size, key, signature, DNS message) and decodes
 * it. Never throws.
 * @param {Uint8Array} publicKey the 32-byte key the payload was fetched for
 * @param {Uint8Array} payload signature ‖ timestamp ‖ DNS message
 * @returns {Promise<{ ok: true, timestamp: bigint, signature: Uint8Array, dns: Uint8Array, records: Array<object>,
 *   size: number } | { ok: false, error: string }>}
 */
export async function parseRelayPayload(publicKey, payload) {
  try {
    if (!(payload instanceof Uint8Array) || payload.length < HEADER_BYTES) {
      return { ok: false, error: `not a signed packet: ${payload?.length ?? 0} bytes, at least ${HEADER_BYTES} are needed` };
    }
    if (payload.length > HEADER_BYTES + MAX_DNS_BYTES) {
      return { ok: false, error: `not a signed packet: ${payload.length} bytes, at most ${HEADER_BYTES + MAX_DNS_BYTES} are allowed` };
    }
    if (!ed25519.isPublicKey(publicKey)) {
      return { ok: false, error: 'not a key: these 32 bytes are not an Ed25519 public key' };
    }
    const signature = payload.slice(0, SIGNATURE_BYTES);
    const timestamp = new DataView(payload.buffer, payload.byteOffset, payload.length).getBigUint64(SIGNATURE_BYTES);
    const message = payload.slice(HEADER_BYTES);
    if (!(await ed25519.verify(publicKey, signature, signable(timestamp, message)))) {
      return { ok: false, error: 'the signature does not match this key: the packet is forged or damaged' };
    }
    const decoded = dns.decodeMessage(message);
    if (!decoded.ok) {
      return { ok: false, error: decoded.error };
    }
    return { ok: true, timestamp, signature, dns: message, records: decoded.records, size: message.length };
  } catch (error) {
    return { ok: false, error: `not a signed packet: ${error?.message ?? error}` };
  }
}
