#!/usr/bin/env node
// Drives the npm `pkarr` package (the JS implementation) for our interop tests, on loopback only, printing JSON
// on stdout (diagnostics on stderr).
//
//   node pkarr-peer.mjs sign          --seed HEX32 --timestamp MICROS --records JSON
//   node pkarr-peer.mjs verify        --pubkey HEX32 --payload RELAY_PAYLOAD_HEX
//   node pkarr-peer.mjs relay         --port P --bootstrap 127.0.0.1:N[,..] [--duration-s S]
//   node pkarr-peer.mjs publish-relay --url http://127.0.0.1:P --seed HEX32 --timestamp MICROS --records JSON
//   node pkarr-peer.mjs resolve-relay --url http://127.0.0.1:P --pubkey HEX32
//   node pkarr-peer.mjs publish-dht   --bootstrap 127.0.0.1:N[,..] --seed HEX32 --records JSON [--timestamp MICROS]
//                                     [--timeout-s S]
//   node pkarr-peer.mjs resolve-dht   --bootstrap 127.0.0.1:N[,..] --pubkey HEX32|Z32 [--full-lookup] [--timeout-s S]
//
// `relay` runs pkarr's own HTTP relay (lib/relay.js) on 127.0.0.1:P (0 = any free port) over pkarr's DHT class,
// which would otherwise bootstrap from public routers and read ~/.config/pkarr: here it gets an explicit loopback
// bootstrap list, a routing-table storage that does nothing, and a UDP socket bound to 127.0.0.1 before the DHT
// exists whose sends to anything outside 127/8 are dropped. It prints {"event":"ready","port":P,...} once its
// DHT knows a node, and stops on SIGTERM/SIGINT or after --duration-s (default 300), printing {"event":"stopped"}.
// `publish-relay` / `resolve-relay` are pkarr's relay client (Pkarr.relayPut / Pkarr.relayGet); they only talk
// to an http URL whose host is a 127/8 literal.
// `publish-dht` / `resolve-dht` are pkarr's DHT client (lib/dht.js put/get, the code behind Pkarr.publish and
// Pkarr.resolve, which are not called because they build a DHT on the public routers) on a short-lived node set up
// as for `relay`. `publish-dht` signs with pkarr's SignedPacket (timestamp: pkarr's own clock unless given) and
// succeeds when at least one node stored it. `resolve-dht` returns pkarr's answer: by default the first valid one
// it receives (pkarr's default), with --full-lookup the one with the highest seq after the whole lookup. Both
// give up after --timeout-s (default 20) and exit 1.
//
// Exit codes: 0 ok, 1 unexpected error or timeout, 2 bad arguments or a non-loopback address, 3 the packet did not
// verify or decode, the relay or every DHT node refused it, the relay or the DHT has none, 4 the DHT node found no
// node to talk to.
import dgram from 'node:dgram'
import crypto from 'node:crypto'
import { parseArgs } from 'node:util'
import { Pkarr, SignedPacket, generateKeyPair, z32 } from 'pkarr'
import PkarrDHT from 'pkarr/lib/dht.js'
import RelayServer from 'pkarr/lib/relay.js'

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    seed: { type: 'string' },
    timestamp: { type: 'string' },
    records: { type: 'string' },
    pubkey: { type: 'string' },
    payload: { type: 'string' },
    port: { type: 'string' },
    bootstrap: { type: 'string' },
    'duration-s': { type: 'string' },
    url: { type: 'string' },
    'timeout-s': { type: 'string' },
    'full-lookup': { type: 'boolean' }
  }
})

function fail (code, message, extra = {}) {
  process.stdout.write(JSON.stringify({ ok: false, error: message, ...extra }) + '\n')
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

const isLoopback = (host) => typeof host === 'string' && /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)

function portArg (name, text, allowZero) {
  const port = Number(text)
  if (!Number.isInteger(port) || port < (allowZero ? 0 : 1) || port > 65535) fail(2, `--${name}: bad port ${text}`)
  return port
}

function bootstrapArg () {
  const list = (values.bootstrap ?? '').split(',').filter(Boolean)
  if (list.length === 0) fail(2, '--bootstrap 127.0.0.1:PORT[,..] is required: pkarr would otherwise use public routers')
  return list.map((entry) => {
    const i = entry.lastIndexOf(':')
    const host = entry.slice(0, i)
    if (i < 0 || !isLoopback(host)) fail(2, `refusing non-loopback bootstrap node ${entry}`)
    return { host, port: portArg('bootstrap', entry.slice(i + 1), false) }
  })
}

function urlArg () {
  let url
  try { url = new URL(values.url ?? '') } catch { fail(2, '--url must be an http URL') }
  if (url.protocol !== 'http:' || !isLoopback(url.hostname)) fail(2, `refusing ${values.url}: only http://127.x.y.z URLs`)
  return url.href
}

function recordsArg () {
  let answers
  try { answers = JSON.parse(values.records ?? '') } catch { fail(2, '--records must be JSON') }
  if (!Array.isArray(answers)) fail(2, '--records must be a JSON array')
  return answers
}

// Without --timestamp (allowed when `clockAllowed`) pkarr stamps the packet from its own clock.
function sign (clockAllowed = false) {
  const keypair = generateKeyPair(hexArg('seed', 32))
  let timestamp
  if (values.timestamp !== undefined || !clockAllowed) {
    timestamp = Number(values.timestamp)
    if (!Number.isSafeInteger(timestamp) || timestamp <= 0) fail(2, '--timestamp must be a positive safe integer')
  }
  const packet = { id: 0, type: 'response', flags: 0, answers: recordsArg().map((a) => ({ class: 'IN', ...a })) }
  return SignedPacket.fromPacket(keypair, packet, { timestamp })
}

function ed25519Verify (signature, message, publicKey) {
  try {
    const key = crypto.createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(publicKey)]), format: 'der', type: 'spki' })
    return crypto.verify(null, Buffer.from(message), key, Buffer.from(signature))
  } catch { return false }
}

// A UDP socket on 127.0.0.1 that drops any datagram for a host outside 127/8 (k-rpc-socket sends with
// send(buf, offset, length, port, host, cb)).
function loopbackSocket () {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4')
    const send = socket.send.bind(socket)
    socket.send = (...args) => {
      const host = args.find((x, i) => i > 0 && typeof x === 'string')
      if (isLoopback(host)) send(...args)
      else process.stderr.write(`dropped a datagram for ${host}\n`)
    }
    socket.once('error', reject)
    socket.bind(0, '127.0.0.1', () => resolve(socket))
  })
}

const noStorage = { loadRoutingTable () {}, saveRoutingTable () {} }

async function relay () {
  const port = portArg('port', values.port, true)
  const bootstrap = bootstrapArg()
  const durationS = Number(values['duration-s'] ?? '300')
  if (!(durationS > 0)) fail(2, '--duration-s must be positive')
  // lib/relay.js logs every request with console.log: stdout stays JSON only.
  console.log = (...args) => process.stderr.write('[relay] ' + args.map(String).join(' ') + '\n')

  const socket = await loopbackSocket()
  const dht = new PkarrDHT({ bootstrap, storage: noStorage, socket, verify: ed25519Verify })
  const raw = dht._dht
  const joinedBy = Date.now() + 10000
  while (raw.nodes.count() === 0 && Date.now() < joinedBy) await new Promise((resolve) => setTimeout(resolve, 100))
  if (raw.nodes.count() === 0) {
    process.stdout.write(JSON.stringify({ event: 'error', error: 'the relay DHT found no node' }) + '\n')
    process.exit(1)
  }

  const server = new RelayServer({ dht })
  await new Promise((resolve, reject) => {
    server._server.once('error', reject)
    server._server.listen(port, '127.0.0.1', resolve) // server.listen() would bind every interface
  })
  process.stdout.write(JSON.stringify({
    event: 'ready',
    port: server._server.address().port,
    dht: `127.0.0.1:${socket.address().port}`,
    routing_table: raw.nodes.count()
  }) + '\n')

  await new Promise((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
    setTimeout(resolve, durationS * 1000).unref()
  })
  server._server.close()
  await dht.destroy()
  process.stdout.write(JSON.stringify({ event: 'stopped' }) + '\n')
  process.exit(0)
}

async function publishRelay () {
  const url = urlArg()
  const packet = sign()
  const response = await Pkarr.relayPut(url, packet)
  const body = await response.text()
  if (!response.ok) fail(3, `relay answered ${response.status} ${body}`, { status: response.status })
  process.stdout.write(JSON.stringify({ ...describe(packet), status: response.status }) + '\n')
}

async function resolveRelay () {
  const url = urlArg()
  const publicKey = hexArg('pubkey', 32)
  let packet
  try { packet = await Pkarr.relayGet(url, publicKey) } catch (e) { fail(3, e.message) }
  process.stdout.write(JSON.stringify(describe(packet)) + '\n')
}

function publicKeyArg () {
  const text = values.pubkey ?? ''
  if (/^[0-9a-f]{64}$/i.test(text)) return Buffer.from(text, 'hex')
  let bytes
  try { bytes = z32.decode(text) } catch { bytes = null }
  if (!bytes || bytes.length !== 32) fail(2, '--pubkey must be 32 bytes in hex or z-base-32')
  return Buffer.from(bytes)
}

function timeoutArg () {
  const seconds = Number(values['timeout-s'] ?? '20')
  if (!(seconds > 0)) fail(2, '--timeout-s must be positive')
  return seconds * 1000
}

// Settles with `promise`, or rejects once `ms` have passed.
function within (promise, ms, what) {
  let timer
  const expiry = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms)
  })
  return Promise.race([promise, expiry]).finally(() => clearTimeout(timer))
}

// pkarr's DHT class on a fresh loopback node (see `relay`), once bittorrent-dht has finished its bootstrap lookup.
async function joinDht (deadline) {
  const bootstrap = bootstrapArg()
  const socket = await loopbackSocket()
  const dht = new PkarrDHT({ bootstrap, storage: noStorage, socket, verify: ed25519Verify })
  const raw = dht._dht
  if (!raw.ready) {
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))
      raw.once('ready', () => { clearTimeout(timer); resolve() })
    })
  }
  if (raw.nodes.count() === 0) {
    await dht.destroy()
    fail(4, 'the DHT node found no node')
  }
  return dht
}

async function publishDht () {
  const timeoutMs = timeoutArg()
  const deadline = Date.now() + timeoutMs
  const packet = sign(true)
  const dht = await joinDht(deadline)
  let result
  try {
    result = await within(dht.put(packet.bep44Args()), Math.max(1, deadline - Date.now()), 'the DHT put')
  } catch (e) {
    await dht.destroy()
    // k-rpc reports a refusal by every node with the KRPC error code of one of them (e.g. 302: seq too old).
    if (typeof e.code === 'number' && e.code > 0) fail(3, e.message, { code: e.code })
    if (/All queries failed|No nodes to query/.test(e.message)) fail(3, e.message)
    fail(1, e.message)
  }
  await dht.destroy()
  process.stdout.write(JSON.stringify({
    ...describe(packet),
    // The closest nodes that handed out a token: pkarr put to all of them; at least one acknowledged.
    put_to: result.nodes.map((n) => `${n.host}:${n.port}`)
  }) + '\n')
  process.exit(0)
}

async function resolveDht () {
  const timeoutMs = timeoutArg()
  const deadline = Date.now() + timeoutMs
  const publicKey = publicKeyArg()
  const fullLookup = values['full-lookup'] === true
  const dht = await joinDht(deadline)
  let result
  try {
    result = await within(dht.get(publicKey, { fullLookup }), Math.max(1, deadline - Date.now()), 'the DHT get')
  } catch (e) {
    await dht.destroy()
    fail(1, e.message)
  }
  await dht.destroy()
  if (!result) fail(3, 'not found', { found: false })
  let packet
  try { packet = SignedPacket.fromBep44Args(result) } catch (e) { fail(3, e.message) }
  process.stdout.write(JSON.stringify({
    ...describe(packet),
    found: true,
    full_lookup: fullLookup,
    // Every node whose answer pkarr took, in order (the last one is the answer returned).
    from: result.nodes.map((n) => `${n.host}:${n.port}`)
  }) + '\n')
  process.exit(0)
}

const mode = positionals[0]
if (mode === 'sign') {
  const signed = sign()
  // Decode what was signed, so that the printed records are the ones on the wire.
  process.stdout.write(JSON.stringify(describe(SignedPacket.fromBytes(signed.publicKey(), signed.bytes()))) + '\n')
} else if (mode === 'verify') {
  const publicKey = hexArg('pubkey', 32)
  const payload = hexArg('payload')
  let packet
  try { packet = SignedPacket.fromBytes(publicKey, payload) } catch (e) { fail(3, e.message) }
  process.stdout.write(JSON.stringify(describe(packet)) + '\n')
} else if (mode === 'relay') {
  await relay()
} else if (mode === 'publish-relay') {
  await publishRelay()
} else if (mode === 'resolve-relay') {
  await resolveRelay()
} else if (mode === 'publish-dht') {
  await publishDht()
} else if (mode === 'resolve-dht') {
  await resolveDht()
} else {
  fail(2, 'usage: pkarr-peer.mjs sign|verify|relay|publish-relay|resolve-relay|publish-dht|resolve-dht ...')
}
