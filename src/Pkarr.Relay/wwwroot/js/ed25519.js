// Ed25519 (spec §1.1): WebCrypto where the browser has it, so the secret can live in a non-extractable CryptoKey;
// otherwise the vendored @noble/ed25519 with @noble/hashes' synchronous SHA-512, which needs no crypto.subtle at all
// (crypto.subtle is absent on plain-HTTP origins other than localhost). Signing is deterministic (RFC 8032), so both
// backends give the same signature for the same seed and message.

import * as ed from '../vendor/noble-ed25519/index.js';
import { sha512 } from '../vendor/noble-hashes/sha2.js';

ed.hashes.sha512 = sha512;

// PKCS#8 PrivateKeyInfo for an Ed25519 seed (RFC 8410): this DER header, then the 32 seed bytes.
const PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

const ALGORITHM = { name: 'Ed25519' };

function pkcs8(seed) {
  const der = new Uint8Array(PKCS8_PREFIX.length + 32);
  der.set(PKCS8_PREFIX);
  der.set(seed, PKCS8_PREFIX.length);
  return der;
}

function subtle() {
  return globalThis.crypto?.subtle;
}

function base64UrlToBytes(text) {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function checkSeed(seed) {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) {
    throw new TypeError('an Ed25519 seed is 32 bytes');
  }
}

// Imports the seed twice: once extractable, only to read the public key from its JWK, and once non-extractable
// for signing, so the signing key held afterwards cannot be exported by any script.
async function webCryptoSigner(seed) {
  const s = subtle();
  const exportable = await s.importKey('pkcs8', pkcs8(seed), ALGORITHM, true, ['sign']);
  const jwk = await s.exportKey('jwk', exportable);
  const publicKey = base64UrlToBytes(jwk.x);
  const key = await s.importKey('pkcs8', pkcs8(seed), ALGORITHM, false, ['sign']);
  if (publicKey.length !== 32) {
    throw new Error('WebCrypto gave no Ed25519 public key');
  }
  return {
    publicKey,
    backend: 'webcrypto',
    async sign(message) {
      return new Uint8Array(await s.sign(ALGORITHM, key, message));
    },
  };
}

function nobleSigner(seed) {
  const secret = Uint8Array.from(seed); // a private copy: the caller may wipe or reuse its array
  return {
    publicKey: ed.getPublicKey(secret),
    backend: 'noble',
    async sign(message) {
      return ed.sign(message, secret);
    },
  };
}

let detected = null;

// A browser may expose crypto.subtle without Ed25519 (older Safari/Firefox, or a policy): probe once by importing
// and signing with a throwaway seed; any failure means noble.
async function detect() {
  if (!subtle()) {
    return 'noble';
  }
  try {
    const signer = await webCryptoSigner(new Uint8Array(32).fill(1));
    const signature = await signer.sign(new Uint8Array(0));
    return signature.length === 64 ? 'webcrypto' : 'noble';
  } catch {
    return 'noble';
  }
}

/**
 * Which backend this browser uses: 'webcrypto' when crypto.subtle signs Ed25519, otherwise 'noble'.
 * @returns {Promise<'webcrypto' | 'noble'>}
 */
export function backend() {
  detected ??= detect();
  return detected;
}

/**
 * A signer for a 32-byte seed (the RFC 8032 secret key).
 * @param {Uint8Array} seed
 * @returns {Promise<{ publicKey: Uint8Array, backend: 'webcrypto' | 'noble', sign(message: Uint8Array): Promise<Uint8Array> }>}
 */
export async function signerFromSeed(seed) {
  checkSeed(seed);
  if ((await backend()) === 'webcrypto') {
    try {
      return await webCryptoSigner(seed);
    } catch {
      // WebCrypto worked for the probe; should it refuse this seed, noble still signs correctly.
    }
  }
  return nobleSigner(seed);
}

/**
 * 32 random bytes from the browser's CSPRNG, to use as a new seed.
 * @returns {Uint8Array}
 */
export function randomSeed() {
  return crypto.getRandomValues(new Uint8Array(32));
}

/**
 * Whether 32 bytes decompress to a point of the curve, with the reference's leniency (spec §1.1: non-canonical y
 * and small-order points pass), which is noble's ZIP-215 decoding.
 * @param {Uint8Array} bytes32
 * @returns {boolean}
 */
export function isPublicKey(bytes32) {
  if (!(bytes32 instanceof Uint8Array) || bytes32.length !== 32) {
    return false;
  }
  try {
    ed.Point.fromBytes(bytes32, true);
    return true;
  } catch {
    return false;
  }
}

/**
 * Verifies an Ed25519 signature; false (never an exception) for malformed keys or signatures.
 * @param {Uint8Array} publicKey 32 bytes
 * @param {Uint8Array} signature 64 bytes
 * @param {Uint8Array} message
 * @returns {Promise<boolean>}
 */
export async function verify(publicKey, signature, message) {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32
    || !(signature instanceof Uint8Array) || signature.length !== 64) {
    return false;
  }
  if ((await backend()) === 'webcrypto') {
    try {
      const key = await subtle().importKey('raw', publicKey, ALGORITHM, false, ['verify']);
      return await subtle().verify(ALGORITHM, key, signature, message);
    } catch {
      // A key WebCrypto refuses to import is judged by noble below, which gives the same answer for real keys.
    }
  }
  try {
    // RFC 8032 decoding and no small-order keys: what libsodium, and hence the C# core, accepts.
    return ed.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
