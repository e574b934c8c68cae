// Loopback-only webtorrent bittorrent-dht nodes for the Mainline interop tests (tests/Mainline.Tests/Interop).
//
//   node bdht-peer.mjs --nodes N [--bootstrap IP:PORT,...] [--duration-s S]
//
// Starts N nodes, each on its own UDP socket bound to 127.0.0.1 before the DHT exists, with an explicit
// bootstrap list (so bittorrent-dht never falls back to its public routers); every send to a non-127/8
// address is dropped. Prints {"event":"ready","endpoints":[...]} once every node is ready, then answers one
// JSON command per stdin line with one JSON line on stdout:
//   {"op":"tables"} | {"op":"put-mutable","seed","seq","value","salt"?,"via"} | {"op":"get-mutable","pubkey","salt"?,"via"}
//   {"op":"put-immutable","value","via"} | {"op":"get-immutable","target","via"} | {"op":"quit"}
// Hex everywhere. Exits on "quit", stdin EOF, SIGTERM or after --duration-s.
import dgram from 'node:dgram'
import crypto from 'node:crypto'
import readline from 'node:readline'
import DHT from 'bittorrent-dht'

const args = process.argv.slice(2)
const opt = (name, fallback) => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : fallback
}
const count = Number(opt('--nodes', '3'))
const durationS = Number(opt('--duration-s', '240'))
const extra = (opt('--bootstrap', '') || '').split(',').filter(Boolean)
for (const ep of extra) {
  if (!ep.startsWith('127.')) { console.error(`refusing non-loopback bootstrap ${ep}`); process.exit(2) }
}

const print = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
const isLoopback = (host) => typeof host === 'string' && host.startsWith('127.')

function loopbackSocket () {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4')
    const send = s.send.bind(s)
    // k-rpc-socket calls send(buf, 0, len, port, host[, cb]).
    s.send = (...a) => {
      const host = a.find((x, i) => i > 0 && typeof x === 'string')
      if (!isLoopback(host)) return
      send(...a)
    }
    s.once('error', reject)
    s.bind(0, '127.0.0.1', () => resolve(s))
  })
}

function privateKey (seed) {
  return crypto.createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' })
}
function publicKeyOf (seed) {
  return crypto.createPublicKey(privateKey(seed)).export({ format: 'der', type: 'spki' }).subarray(12)
}
function verify (sig, msg, pk) {
  try {
    const key = crypto.createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(pk)]), format: 'der', type: 'spki' })
    return crypto.verify(null, Buffer.from(msg), key, Buffer.from(sig))
  } catch { return false }
}

const sockets = []
for (let i = 0; i < count; i++) sockets.push(await loopbackSocket())
const endpoints = sockets.map((s) => `127.0.0.1:${s.address().port}`)
const nodes = sockets.map((socket, i) => new DHT({
  bootstrap: endpoints.filter((_, j) => j !== i).concat(extra),
  socket,
  verify
}))
await Promise.race([
  Promise.all(nodes.map((d) => new Promise((resolve) => d.once('ready', resolve)))),
  new Promise((resolve) => setTimeout(resolve, 15000))
])
print({ event: 'ready', endpoints })

const stop = () => {
  for (const d of nodes) d.destroy()
  setTimeout(() => process.exit(0), 200)
}
setTimeout(stop, durationS * 1000).unref()
process.on('SIGTERM', stop)

const call = (fn) => new Promise((resolve) => fn((...r) => resolve(r)))

async function run (cmd) {
  const dht = nodes[cmd.via || 0]
  switch (cmd.op) {
    case 'tables':
      return { nodes: nodes.map((d, i) => ({ endpoint: endpoints[i], table: d.toJSON().nodes })) }
    case 'put-mutable': {
      const seed = Buffer.from(cmd.seed, 'hex')
      const salt = cmd.salt ? Buffer.from(cmd.salt, 'hex') : undefined
      const [err, hash, n] = await call((cb) => dht.put({
        k: publicKeyOf(seed), v: Buffer.from(cmd.value, 'hex'), seq: cmd.seq, salt,
        sign: (buf) => crypto.sign(null, buf, privateKey(seed))
      }, cb))
      return { ok: !err, error: err ? String(err.message || err) : null, target: hash ? hash.toString('hex') : null, stored: n || 0 }
    }
    case 'get-mutable': {
      const pk = Buffer.from(cmd.pubkey, 'hex')
      const salt = cmd.salt ? Buffer.from(cmd.salt, 'hex') : undefined
      const target = crypto.createHash('sha1').update(salt ? Buffer.concat([pk, salt]) : pk).digest()
      const [err, res] = await call((cb) => dht.get(target, { salt, cache: false }, cb))
      return { ok: !err, found: !!res, seq: res ? res.seq : null, value: res ? Buffer.from(res.v).toString('hex') : null }
    }
    case 'put-immutable': {
      const [err, hash, n] = await call((cb) => dht.put({ v: Buffer.from(cmd.value, 'hex') }, cb))
      return { ok: !err, error: err ? String(err.message || err) : null, target: hash ? hash.toString('hex') : null, stored: n || 0 }
    }
    case 'get-immutable': {
      const [err, res] = await call((cb) => dht.get(Buffer.from(cmd.target, 'hex'), { cache: false }, cb))
      return { ok: !err, found: !!res, value: res ? Buffer.from(res.v).toString('hex') : null }
    }
    case 'quit':
      stop()
      return { ok: true }
    default:
      return { ok: false, error: `unknown op ${cmd.op}` }
  }
}

const lines = readline.createInterface({ input: process.stdin })
lines.on('line', async (line) => {
  let cmd
  try { cmd = JSON.parse(line) } catch { return print({ event: 'result', ok: false, error: 'bad json' }) }
  try {
    print({ event: 'result', op: cmd.op, ...(await run(cmd)) })
  } catch (e) {
    print({ event: 'result', op: cmd.op, ok: false, error: String(e && e.message ? e.message : e) })
  }
})
lines.on('close', stop)
