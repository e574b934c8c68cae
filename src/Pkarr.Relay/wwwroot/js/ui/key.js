// The key panel of the Publish view: generate, import (pasted hex or a key file), download, remember, forget.
// The secret seed lives in this module's closure. It is never put in the DOM, the URL or a request; it leaves memory
// only when the user downloads it or ticks "Remember", and then only to their own disk or this site's localStorage.

import { parseSecretKey, secretKeyFile } from '../keys.js';
import { randomSeed, signerFromSeed } from '../ed25519.js';
import { encode } from '../zbase32.js';
import { copy, h, say } from './dom.js';
import { sentence } from './resolve.js';

const STORAGE_KEY = 'pkarr.secretKey';
// A key file is 64 characters; anything much larger is not one, and is not worth reading into memory.
const MAX_KEY_FILE_BYTES = 4096;

/** onKey({ signer, z32, fresh }) when a key is loaded, onKey(null) when it is forgotten. */
export function keyPanel({ onKey }) {
  const el = (id) => document.getElementById(id);
  const none = el('key-none');
  const loaded = el('key-loaded');
  const importForm = el('key-import-form');
  const importText = el('key-import-text');
  const importFile = el('key-import-file');
  const publicKey = el('key-public');
  const remember = el('key-remember');
  const message = el('key-message');
  let seed = null;
  let z32 = null;
  // A generated key that is neither downloaded nor remembered is lost with the page: leaving asks first.
  let unsaved = false;

  window.addEventListener('beforeunload', (event) => {
    if (unsaved && seed) {
      event.preventDefault();
      event.returnValue = '';
    }
  });

  el('key-generate').addEventListener('click', () => use(randomSeed(), { fresh: true }));

  importForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const parsed = parseSecretKey(importText.value);
    if (!parsed.ok) {
      importText.setAttribute('aria-invalid', 'true');
      say(message, 'error', `That is not a secret key: ${parsed.error}`);
      importText.focus();
      return;
    }
    use(parsed.seed, { imported: true });
  });

  importFile.addEventListener('change', async () => {
    const file = importFile.files?.[0];
    if (!file) {
      return;
    }
    if (file.size > MAX_KEY_FILE_BYTES) {
      say(message, 'error', `${file.name} is not a key file: it is ${file.size} bytes, a key file is 64 hex characters.`);
      importFile.value = '';
      return;
    }
    const parsed = parseSecretKey(await file.text());
    if (!parsed.ok) {
      say(message, 'error', `${file.name} is not a key file: ${parsed.error}`);
      importFile.value = '';
      return;
    }
    use(parsed.seed, { imported: true, file: file.name });
  });

  el('key-copy').addEventListener('click', (event) => copy(z32, event.currentTarget));

  el('key-download').addEventListener('click', () => {
    // A blob: URL of the file's text, clicked as a download link: nothing goes over the network.
    const url = URL.createObjectURL(new Blob([secretKeyFile(seed)], { type: 'application/octet-stream' }));
    const link = h('a', { href: url, download: `pkarr-${z32.slice(0, 8)}.key` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    unsaved = false;
    say(message, 'ok', `Saved as ${link.download} in your downloads. Keep it private: it is what lets you publish for this key. `
      + 'The pkarr tool reads it: pkarr publish --secret ' + link.download + ' --zone …');
  });

  remember.addEventListener('change', () => {
    if (remember.checked) {
      if (store(secretKeyFile(seed))) {
        unsaved = false;
        say(message, 'info', 'This browser now remembers the key for this site, until you untick the box or forget the key.');
      } else {
        remember.checked = false;
        say(message, 'error', 'This browser does not allow this site to store data; download the key file instead.');
      }
    } else {
      store(null);
      say(message, 'info', 'This browser no longer remembers the key; it stays in this page until you leave it.');
    }
  });

  el('key-forget').addEventListener('click', () => {
    seed = null;
    z32 = null;
    store(null);
    remember.checked = false;
    loaded.hidden = true;
    none.hidden = false;
    say(message, 'info', 'The key is gone from this page and from this browser\u2019s storage.');
    onKey(null);
    el('key-generate').focus();
  });

  async function use(newSeed, how) {
    const signer = await signerFromSeed(newSeed);
    seed = newSeed;
    z32 = encode(signer.publicKey);
    unsaved = Boolean(how.fresh);
    importText.value = '';
    importText.removeAttribute('aria-invalid');
    importFile.value = '';
    publicKey.textContent = z32;
    remember.checked = stored() === secretKeyFile(seed);
    none.hidden = true;
    loaded.hidden = false;
    if (how.fresh) {
      say(message, 'info', 'A new key, made in this browser. It exists only in this page: download the key file '
        + '(or tick Remember) before you leave, or you can never publish for it again.');
    } else if (how.remembered) {
      say(message, 'info', 'The key this browser remembers for this site.');
    } else {
      say(message, 'ok', how.file ? `Key loaded from ${how.file}.` : 'Key loaded.');
    }
    onKey({ signer, z32, fresh: Boolean(how.fresh) });
  }

  return {
    /** Loads the key this browser remembers, if any. */
    async restore() {
      const text = stored();
      if (text) {
        const parsed = parseSecretKey(text);
        if (parsed.ok) {
          await use(parsed.seed, { remembered: true });
        } else {
          store(null);
          say(message, 'error', sentence(`the key stored in this browser is damaged and was removed: ${parsed.error}`));
        }
      }
    },
  };
}

// localStorage throws where the user blocks site data; the panel then says so instead of failing.
function stored() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

function store(text) {
  try {
    if (text === null) {
      localStorage.removeItem(STORAGE_KEY);
    } else {
      localStorage.setItem(STORAGE_KEY, text);
    }
    return true;
  } catch {
    return false;
  }
}
