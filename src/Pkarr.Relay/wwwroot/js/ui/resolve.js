// The Resolve view: a key (bare, pk: URI or URL) in, the verified packet's records out. The address bar always holds
// /?resolve=<key> of what is shown, so the page itself is the shareable link.

import { parsePublicKey } from '../keys.js';
import { MAX_DNS_BYTES, parseRelayPayload } from '../packet.js';
import { presentation, relativeName } from '../dns.js';
import * as relay from '../relay.js';
import { copy, fill, h, say } from './dom.js';
import { age, count, dateOf, duration, plural, utc } from './format.js';

const SOURCES = {
  cache: 'The relay\u2019s cache',
  dht: 'The DHT, just now',
};

/** The link that opens this page on `z32`'s records. */
export function resolveLink(z32) {
  return `${location.origin}/?resolve=${z32}`;
}

export function resolveView() {
  const form = document.getElementById('resolve-form');
  const input = document.getElementById('resolve-input');
  const policy = document.getElementById('resolve-policy');
  const message = document.getElementById('resolve-message');
  const result = document.getElementById('resolve-result');
  // Answers can arrive out of order when someone resolves twice quickly; only the latest request may draw.
  let latest = 0;
  let shown = null;

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    run(input.value, { push: true });
  });

  async function run(text, { push = false } = {}) {
    const request = ++latest;
    const parsed = parsePublicKey(text);
    if (!parsed.ok) {
      input.setAttribute('aria-invalid', 'true');
      fill(result);
      shown = null;
      say(message, 'error', sentence(parsed.error));
      return;
    }
    input.removeAttribute('aria-invalid');
    if (input.value !== text) {
      input.value = text;
    }
    if (push) {
      const url = `/?resolve=${parsed.z32}`;
      if (location.pathname + location.search !== url || location.hash) {
        history.pushState(null, '', url);
      }
    }

    shown = parsed.z32;
    fill(result);
    say(message, 'info', 'Asking the relay\u2026');
    const answer = await relay.resolve(parsed.z32, policy.value);
    if (request !== latest) {
      return;
    }
    if (!answer.ok) {
      say(message, 'error', sentence(answer.message));
      return;
    }
    // The relay is not trusted: the page checks the signature itself before showing anything.
    const packet = await parseRelayPayload(parsed.key, answer.payload);
    if (request !== latest) {
      return;
    }
    if (!packet.ok) {
      say(message, 'error', `The relay sent a packet that does not verify: ${packet.error}`);
      return;
    }
    say(message, 'info', '');
    fill(result, render(parsed.z32, packet, answer));
  }

  return {
    /** Resolves `text` unless it is what is already shown (switching views must not re-ask the relay). */
    open(text) {
      const parsed = parsePublicKey(text);
      if (parsed.ok && parsed.z32 === shown) {
        return;
      }
      input.value = text;
      run(text);
    },
    /** Resolves `text` whatever is shown. */
    run,
  };
}

function render(z32, packet, answer) {
  const published = dateOf(packet.timestamp);
  const link = resolveLink(z32);
  const copyButton = h('button', { type: 'button', class: 'small' }, 'Copy link');
  copyButton.addEventListener('click', () => copy(link, copyButton));
  // The zone file `pkarr publish --zone` reads: resolve here, edit in a text editor, publish with the CLI.
  const zone = packet.records.map((r) => `${relativeName(z32, r.name)} ${r.ttl} IN ${r.type} ${presentation(r)}\n`).join('');
  const zoneButton = h('button', { type: 'button', class: 'small' }, 'Copy as zone file');
  zoneButton.addEventListener('click', () => copy(zone, zoneButton));

  const facts = [
    fact('Published', utc(published), h('small', {}, age(published))),
    fact('Size', `${count(packet.size)} of ${count(MAX_DNS_BYTES)} bytes`,
      h('meter', { min: 0, max: MAX_DNS_BYTES, low: 800, high: 950, optimum: 0, value: packet.size, 'aria-label': 'Packet size' })),
  ];
  if (answer.source) {
    facts.push(fact('Served from', SOURCES[answer.source] ?? answer.source,
      answer.lastSeen ? h('small', {}, `relay saw it ${age(answer.lastSeen)}`) : null));
  }
  if (answer.maxAge !== null) {
    facts.push(fact('Cacheable for', duration(answer.maxAge), h('small', {}, 'the smallest TTL, within the relay\u2019s bounds')));
  }

  return h('section', { class: 'card', 'aria-labelledby': 'result-title' },
    h('div', { class: 'result-head' },
      h('h2', { id: 'result-title' }, plural(packet.records.length, 'record')),
      h('code', { class: 'origin' }, z32)),
    h('p', { class: 'share' }, 'Link to this result: ', h('a', { href: link }, link), copyButton,
      packet.records.length ? zoneButton : null),
    h('dl', { class: 'summary' }, facts),
    packet.records.length === 0
      ? h('p', {}, 'The packet holds no records: its publisher has cleared them.')
      : table(z32, packet.records));
}

function fact(term, value, detail = null) {
  return h('div', {}, h('dt', {}, term), h('dd', {}, value, detail));
}

function table(z32, records) {
  return h('div', { class: 'table-wrap' },
    h('table', {},
      h('caption', { class: 'visually-hidden' }, 'Records, names relative to the key (@ is the key itself)'),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Type'),
        h('th', { scope: 'col' }, 'TTL'), h('th', { scope: 'col' }, 'Data'))),
      h('tbody', {}, records.map((record) => h('tr', {},
        h('td', { class: 'name' }, relativeName(z32, record.name)),
        h('td', { class: 'type' }, record.type),
        h('td', { class: 'num', title: duration(record.ttl) }, String(record.ttl)),
        h('td', { class: 'data' }, presentation(record)))))));
}

/** Messages from the codec and relay modules are clauses ("not a key: …"); shown alone they start with a capital. */
export function sentence(text) {
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}
