// The Status view: /api/status as cards. Fields a relay does not send (older versions) are left out rather than
// shown as blanks, so the page works against any relay version.

import * as relay from '../relay.js';
import { fill, h, say } from './dom.js';
import { count, duration } from './format.js';
import { sentence } from './resolve.js';

export function statusView() {
  const result = document.getElementById('status-result');
  const message = document.getElementById('status-message');
  const refresh = document.getElementById('status-refresh');
  refresh.addEventListener('click', load);

  async function load() {
    refresh.disabled = true;
    const answer = await relay.status();
    refresh.disabled = false;
    if (!answer.ok) {
      say(message, 'error', sentence(answer.message));
      return;
    }
    say(message, 'info', '');
    fill(result, render(answer.status, new Date()));
  }

  return { load };
}

function render(s, at) {
  const store = s.store ?? {};
  const dht = s.dht ?? {};
  const cards = [
    card('Relay', [
      ['Version', s.version],
      ['Uptime', typeof s.uptime_seconds === 'number' ? duration(s.uptime_seconds) : undefined],
      ['Rate limits', s.rate_limits ? (s.rate_limits.enabled ? 'on' : 'off') : undefined],
      ['As of', at.toLocaleTimeString()],
    ]),
    card('Store', [
      ['Packets', count(store.packets)],
      ['Capacity', count(store.capacity)],
      ['Used', percent(store)],
      ['Backend', store.backend],
    ]),
    card('DHT node', [
      ['Network size', typeof dht.size_estimate === 'number'
        ? `\u2248 ${count(dht.size_estimate)} nodes` + (typeof dht.size_estimate_stddev === 'number'
          ? ` \u00b1 ${(dht.size_estimate_stddev * 100).toFixed(1)} %` : '')
        : undefined],
      ['Routing table', typeof dht.routing_table_size === 'number' ? `${count(dht.routing_table_size)} nodes` : undefined],
      ['Firewalled', yesNo(dht.firewalled)],
      ['Server mode', yesNo(dht.server_mode)],
      ['UDP port', dht.port ?? dht.local_port],
      ['Public address', dht.public_address === null ? 'unknown' : dht.public_address],
    ]),
  ];
  const requests = s.requests;
  if (requests) {
    const window = requests.window_seconds ? `last ${duration(requests.window_seconds)}` : 'last minute';
    cards.push(card('Requests', [
      ...rate('Resolves', requests.resolves, window),
      ...rate('Publishes', requests.publishes, window),
      ...rate('Rate-limited', requests.rate_limited, window),
    ]));
  }
  return cards;
}

function rate(name, numbers, window) {
  if (!numbers) {
    return [];
  }
  return [[`${name}, ${window}`, count(numbers.last_minute)], [`${name}, total`, count(numbers.total)]];
}

function card(title, rows) {
  const shown = rows.filter(([, value]) => value !== undefined && value !== null);
  return h('section', { class: 'card' }, h('h2', {}, title),
    h('dl', {}, shown.map(([term, value]) => [h('dt', {}, term), h('dd', {}, String(value))])));
}

// Older relays send no utilisation; it is the same ratio, worked out here.
function percent(store) {
  const value = typeof store.utilisation === 'number' ? store.utilisation
    : store.capacity > 0 && typeof store.packets === 'number' ? (100 * store.packets) / store.capacity : undefined;
  return value === undefined ? undefined : `${value.toFixed(2)} %`;
}

function yesNo(value) {
  return typeof value === 'boolean' ? (value ? 'yes' : 'no') : undefined;
}
