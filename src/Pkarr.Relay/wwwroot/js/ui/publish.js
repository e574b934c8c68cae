// The Publish view: key panel → record editor with a live size meter → sign in the browser → PUT to this relay.
// A loaded key starts from the records published for it, and the new packet is signed with a timestamp above the
// published one, so an edit replaces it instead of being refused as older (409).

import { DnsInputError } from '../dns.js';
import { MAX_DNS_BYTES, PacketTooLargeError, buildPacket, encodedSize, nowMicros, parseRelayPayload } from '../packet.js';
import * as relay from '../relay.js';
import { copy, h, say } from './dom.js';
import { recordEditor } from './editor.js';
import { keyPanel } from './key.js';
import { age, count, dateOf, plural, utc } from './format.js';
import { resolveLink } from './resolve.js';

export function publishView() {
  const el = (id) => document.getElementById(id);
  const recordsCard = el('records-card');
  const signCard = el('sign-card');
  const recordsState = el('records-state');
  const sizeBox = el('size');
  const meter = el('size-meter');
  const sizeText = el('size-text');
  const button = el('publish-button');
  const message = el('publish-message');
  const addType = el('record-add-type');

  // The key in use, and the timestamp of the newest packet known for it (null: none known).
  let key = null;
  let published = null;

  const editor = recordEditor(el('records-list'), { onChange: measure });
  const keys = keyPanel({ onKey: useKey });

  el('record-add').addEventListener('click', () => editor.add(addType.value));
  button.addEventListener('click', publish);

  async function useKey(next) {
    key = next;
    published = null;
    say(message, 'info', '');
    recordsCard.hidden = signCard.hidden = !key;
    if (!key) {
      return;
    }
    el('records-origin').textContent = key.z32;
    if (key.fresh) {
      editor.load(key.z32, []);
      say(recordsState, 'info', 'Nothing is published for a new key. Add records below.');
      return;
    }
    await loadCurrent();
  }

  async function loadCurrent() {
    const z32 = key.z32;
    editor.load(z32, []);
    say(recordsState, 'info', 'Loading the records published for this key\u2026');
    const answer = await relay.resolve(z32);
    if (key?.z32 !== z32) {
      return;
    }
    if (!answer.ok) {
      if (answer.notFound) {
        say(recordsState, 'info', 'Nothing is published for this key yet. Add records below.');
      } else {
        say(recordsState, 'error', `The records published for this key could not be loaded: ${answer.message}. `
          + 'You can still publish; a newer packet, if there is one, makes the relay refuse yours.');
      }
      return;
    }
    const packet = await parseRelayPayload(key.signer.publicKey, answer.payload);
    if (!packet.ok) {
      say(recordsState, 'error', `The published packet does not verify (${packet.error}); publishing replaces it.`);
      return;
    }
    published = packet.timestamp;
    editor.load(z32, packet.records);
    const when = dateOf(packet.timestamp);
    say(recordsState, 'info', `Editing the ${plural(packet.records.length, 'record')} published ${age(when)} `
      + `(${utc(when)}). Publishing replaces them all.`);
  }

  // The button that called this goes away with the message; the focus moves to where editing starts again.
  async function reloadAfterConflict() {
    await loadCurrent();
    say(message, 'info', 'The newest records are loaded: edit them and publish again.');
    (document.querySelector('#records-list input') ?? addType).focus();
  }

  function measure() {
    const { records, problems } = editor.read();
    let size;
    try {
      size = encodedSize(key?.z32 ?? '', records);
    } catch (error) {
      if (!(error instanceof DnsInputError)) {
        throw error;
      }
      return;
    }
    meter.value = size;
    const over = size > MAX_DNS_BYTES;
    sizeBox.classList.toggle('over', over);
    let text = `${count(size)} of ${count(MAX_DNS_BYTES)} bytes`;
    if (over) {
      text += `: ${count(size - MAX_DNS_BYTES)} too many`;
    }
    if (problems.length) {
      text += ` (${plural(problems.length, 'unfinished record')} not counted)`;
    }
    sizeText.textContent = text;
  }

  async function publish() {
    const { records, problems } = editor.read();
    if (problems.length) {
      editor.showProblems();
      const first = problems[0];
      say(message, 'error', `Nothing was published: record ${first.index + 1} needs fixing (${first.message}).`);
      return;
    }
    // A clock behind the published timestamp (another device, a skewed clock) must still sign above it.
    let timestamp = nowMicros();
    if (published !== null && timestamp <= published) {
      timestamp = published + 1n;
    }
    let packet;
    try {
      packet = await buildPacket(key.signer, records, { timestamp });
    } catch (error) {
      if (error instanceof PacketTooLargeError) {
        say(message, 'error', `Nothing was published: the records take ${count(error.size)} bytes, and a packet holds `
          + `at most ${count(MAX_DNS_BYTES)}. Remove or shorten records.`);
        return;
      }
      if (error instanceof DnsInputError) {
        editor.showProblems();
        say(message, 'error', `Nothing was published: ${error.message}`);
        return;
      }
      throw error;
    }

    button.disabled = true;
    say(message, 'info', 'Signed. Publishing through the relay (it stores the packet on the DHT)\u2026');
    const z32 = key.z32;
    const answer = await relay.publish(z32, packet.payload);
    button.disabled = false;
    if (key?.z32 !== z32) {
      return;
    }
    if (!answer.ok) {
      const reload = answer.conflict
        ? h('div', { class: 'actions' }, h('button', { type: 'button', onclick: reloadAfterConflict }, 'Load the newest records'))
        : null;
      say(message, 'error', h('p', {}, `Not published: ${answer.message}`), reload);
      return;
    }
    published = timestamp;
    const link = resolveLink(z32);
    const copyButton = h('button', { type: 'button', class: 'small' }, 'Copy link');
    copyButton.addEventListener('click', () => copy(link, copyButton));
    say(message, 'ok',
      h('p', {}, `Published ${plural(records.length, 'record')}, signed ${utc(dateOf(timestamp))}. `
        + (answer.storedNodes === null ? 'The relay stored it.' : `The relay stored it on ${plural(answer.storedNodes, 'DHT node')}.`)),
      h('p', {}, 'See it as everyone does: ', h('a', { href: link, 'data-resolve': z32 }, link), ' ', copyButton));
  }

  return {
    /** Loads the key this browser remembers, if any. */
    restore: () => keys.restore(),
  };
}
