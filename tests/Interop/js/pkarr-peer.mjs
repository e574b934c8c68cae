#!/usr/bin/env node
// Drives the npm `pkarr` package (the JS implementation) for our interop tests. No network: it only signs
// and verifies packets given on the command line, and prints JSON on stdout.
//
//   node pkarr-peer.mjs sign   --seed HEX32 --timestamp MICROS --records JSON
//   node pkarr-peer.mjs verify --pubkey HEX32 --payload RELAY_PAYLOAD_HEX
//
// Exit codes: 0 ok, 2 bad arguments, 3 the packet did not verify or decode.
import { parseArgs } from 'node:util'
import { SignedPacket, generateKeyPair } from 'pkarr'

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    seed: { type: 'string' },
    timestamp: { type: 'string' },
    records: { type: 'string' },
    pubkey: { type: 'string' },
    payload: { type: 'string' }
  }
})

function fail (code, message) {
  process.stdout.write(JSON.stringify({ ok: false, error: message }) + '\n')
  process.exit(code)
}

function hexArg (name, length) {
  const text = values[name]
  if (!text || !/^([0-9a-f]{2})+$/i.test(text)) fail(2, `--${name} must be hex`)
  const bytes = Buffer.from(text, 'hex')
  if (length && bytes.length !== length) fail(2, `--${name} must be ${length} bytes`)
  return bytes
}

// The record data in one plain shape that the C# side can compare with its own decoding.
function plainData (answer) {
  switch (answer.type) {
    case 'A': case 'AAAA': case 'CNAME': case 'NS': case 'PTR':
      return answer.data
    case 'TXT':
      return (Array.isArray(answer.data) ? answer.data : [answer.data]).map((s) => Buffer.from(s).toString('utf8'))
    case 'MX':
      return { preference: answer.data.preference, exchange: answer.data.exchange }
    default:
      return Buffer.isBuffer(answer.data) ? answer.data.toString('hex') : answer.data
  }
}

function describe (packet) {
  return {
    ok: true,
    public_key_hex: Buffer.from(packet.publicKey()).toString('hex'),
    timestamp: packet.timestamp(),
    relay_payload_hex: Buffer.from(packet.bytes()).toString('hex'),
    records: packet.packet().answers.map((a) => ({
      name: a.name,
      type: a.type,
      class: a.class,
      ttl: a.ttl,
      data: plainData(a)
    }))
  }
}

const mode = positionals[0]
if (mode === 'sign') {
  const keypair = generateKeyPair(hexArg('seed', 32))
  const timestamp = Number(values.timestamp)
  if (!Number.isSafeInteger(timestamp) || timestamp <= 0) fail(2, '--timestamp must be a positive safe integer')
  let answers
  try { answers = JSON.parse(values.records ?? '') } catch { fail(2, '--records must be JSON') }
  const packet = { id: 0, type: 'response', flags: 0, answers: answers.map((a) => ({ class: 'IN', ...a })) }
  const signed = SignedPacket.fromPacket(keypair, packet, { timestamp })
  // Decode what was signed, so that the printed records are the ones on the wire.
  process.stdout.write(JSON.stringify(describe(SignedPacket.fromBytes(keypair.publicKey, signed.bytes()))) + '\n')
} else if (mode === 'verify') {
  const publicKey = hexArg('pubkey', 32)
  const payload = hexArg('payload')
  let packet
  try { packet = SignedPacket.fromBytes(publicKey, payload) } catch (e) { fail(3, e.message) }
  process.stdout.write(JSON.stringify(describe(packet)) + '\n')
} else {
  fail(2, 'usage: pkarr-peer.mjs sign|verify ...')
}
