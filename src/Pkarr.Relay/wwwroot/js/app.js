// The web app's entry module: three views in one page, chosen by the address bar.
//   /?resolve=<key>   Resolve, with that key resolved on load (the shareable link)
//   /#resolve, /      Resolve
//   /#publish         Publish
//   /#status          Status
// Switching views never reloads the page, because a reload would drop the secret key held in memory.

import { publishView } from './ui/publish.js';
import { resolveView } from './ui/resolve.js';
import { statusView } from './ui/status.js';

const VIEWS = ['resolve', 'publish', 'status'];
const TITLES = { resolve: 'Resolve', publish: 'Publish', status: 'Status' };

const resolve = resolveView();
const publish = publishView();
const status = statusView();

function route({ focus, fresh = false }) {
  const wanted = location.hash.slice(1);
  const view = VIEWS.includes(wanted) ? wanted : 'resolve';
  for (const name of VIEWS) {
    document.getElementById(`view-${name}`).hidden = name !== view;
  }
  // Tabs and history entries tell the views apart.
  document.title = `${TITLES[view]} \u00b7 Pkarr`;
  for (const link of document.querySelectorAll('nav a[data-view]')) {
    if (link.dataset.view === view) {
      link.setAttribute('aria-current', 'page');
    } else {
      link.removeAttribute('aria-current');
    }
  }
  if (view === 'resolve') {
    const key = new URLSearchParams(location.search).get('resolve');
    if (key && fresh) {
      resolve.run(key);
    } else if (key) {
      resolve.open(key);
    }
  } else if (view === 'status') {
    status.load();
  }
  // After a navigation, screen reader and keyboard users start at the new view's heading, not where the link was.
  if (focus) {
    document.getElementById(`${view}-title`).focus();
  }
}

// Links to a result (a[data-resolve], shown after publishing) open it in this page, keeping the key in memory;
// the href stays a real link for copying, sharing and opening in a new tab.
document.addEventListener('click', (event) => {
  const link = event.target.closest?.('a[data-resolve]');
  if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) {
    return;
  }
  event.preventDefault();
  history.pushState(null, '', `/?resolve=${link.dataset.resolve}`);
  route({ focus: true, fresh: true });
});

// Fragment links (#publish) and the Back button both land here; browsers fire popstate for both.
window.addEventListener('popstate', () => route({ focus: true }));

route({ focus: false });
publish.restore();
