// Talks to the relay that serves this page (same origin, so every header is readable and no CORS is involved).
// Every function resolves to a plain result object and never throws for an HTTP or network failure: the views show
// `message` as it is, so each failure is put into words here, once.

/** Resolves `z32` through the relay. policy: 'CacheFirst' (the relay's default), 'NetworkOnly' or 'CacheOnly'. */
export async function resolve(z32, policy = 'CacheFirst') {
  const url = `/${z32}` + (policy === 'CacheFirst' ? '' : `?policy=${encodeURIComponent(policy)}`);
  let response;
  try {
    // no-store: the browser's HTTP cache would otherwise answer from the relay's max-age and hide a newer packet.
    response = await fetch(url, { cache: 'no-store' });
  } catch (error) {
    return unreachable(error);
  }
  if (response.ok) {
    const payload = new Uint8Array(await response.arrayBuffer());
    return {
      ok: true,
      payload,
      // Absent on relays that predate the header: the view then says nothing about the source.
      source: response.headers.get('Pkarr-Source'),
      lastSeen: httpDate(response.headers.get('Memento-Datetime')),
      maxAge: maxAge(response.headers.get('Cache-Control')),
    };
  }
  if (response.status === 404) {
    const seq = response.headers.get('Pkarr-Invalid-Signed-Packet-Seq');
    if (seq !== null) {
      return failure(response.status, `the DHT holds something for this key (seq ${seq}) that is not a valid signed packet`);
    }
    return failure(404, 'nobody has published this key (neither the relay nor the DHT has a packet for it)', { notFound: true });
  }
  return failure(response.status, await explain(response));
}

/** Publishes a relay payload (signature ‖ timestamp ‖ DNS message) for `z32`. */
export async function publish(z32, payload) {
  let response;
  try {
    response = await fetch(`/${z32}`, { method: 'PUT', body: payload, headers: { 'Content-Type': 'application/pkarr.org/relays#payload' } });
  } catch (error) {
    return unreachable(error);
  }
  if (response.ok) {
    const nodes = response.headers.get('Pkarr-Dht-Stored-Nodes');
    return { ok: true, storedNodes: nodes === null ? null : Number(nodes) };
  }
  return failure(response.status, await explain(response), { conflict: response.status === 409 });
}

/** The relay's /api/status JSON, or a failure. */
export async function status() {
  let response;
  try {
    response = await fetch('/api/status', { cache: 'no-store', headers: { Accept: 'application/json' } });
  } catch (error) {
    return unreachable(error);
  }
  if (response.status === 429) {
    return failure(429, await explain(response));
  }
  if (!response.ok) {
    // explain() words failures of key requests (DHT, packets); this one is about the status endpoint itself.
    const text = (await response.text().catch(() => '')).trim();
    return failure(response.status, `the relay\u2019s status is unavailable: ${response.status} ${response.statusText}`
      + (text ? `: ${text}` : ''));
  }
  try {
    return { ok: true, status: await response.json() };
  } catch {
    return failure(response.status, 'the relay answered /api/status with something that is not JSON');
  }
}

function failure(status, message, extra = {}) {
  return { ok: false, status, message, ...extra };
}

function unreachable(error) {
  return failure(0, `the relay could not be reached (${error.message || error})`);
}

// The relay's own text is the most precise account of a 400/409/500/503; the status only frames it.
async function explain(response) {
  let text = '';
  try {
    text = (await response.text()).trim();
  } catch {
    // An unreadable body leaves the status alone to speak.
  }
  const detail = text ? `: ${text}` : '';
  switch (response.status) {
    case 400:
      return `the relay refused the request${detail}`;
    case 409:
      return 'a newer packet is already published for this key; load its records and sign again' + detail;
    case 413:
      return 'the packet is larger than the relay accepts (at most 1000 bytes of records)';
    case 429: {
      const after = Number.parseInt(response.headers.get('Retry-After') ?? '', 10);
      const wait = Number.isFinite(after) ? `retry in ${Math.max(after, 1)} s` : 'retry in a moment';
      return `the relay is rate-limiting you, ${wait}`;
    }
    case 500:
      return `the relay could not store the packet on the DHT${detail}`;
    case 503:
      return `the relay cannot reach the DHT right now${detail}`;
    default:
      return `the relay answered ${response.status} ${response.statusText}${detail}`;
  }
}

function httpDate(text) {
  if (!text) {
    return null;
  }
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : new Date(ms);
}

function maxAge(text) {
  const match = /max-age=(\d+)/.exec(text ?? '');
  return match ? Number(match[1]) : null;
}
