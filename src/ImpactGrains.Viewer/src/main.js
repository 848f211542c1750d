// The impact viewer: a hash router over the views, the "as of" control and the live stream.
import './style.css';
import { h, replace } from './dom.js';
import * as fmt from './format.js';
import * as live from './live.js';
import { hasApiKey, onUnauthorized, setApiKey } from './api.js';
import { parseHash, setParams, link } from './state.js';
import { leaderboardView } from './views/leaderboard.js';
import { entityView } from './views/entity.js';
import { groupsView, groupView } from './views/groups.js';
import { alertsView } from './views/alerts.js';
import { incidentsView } from './views/incidents.js';
import { compareView } from './views/compare.js';
import { pageHeader } from './views/common.js';
import { setUpEntitySearch } from './search.js';

const routes = {
  '': { nav: 'leaderboard', view: leaderboardView, title: 'Leaderboard' },
  entity: { nav: 'leaderboard', view: entityView, title: 'Entity', needsId: true },
  groups: { nav: 'groups', view: groupsView, title: 'Groups' },
  group: { nav: 'groups', view: groupView, title: 'Group', needsId: true },
  alerts: { nav: 'alerts', view: alertsView, title: 'Alerts' },
  incidents: { nav: 'incidents', view: incidentsView, title: 'Incidents' },
  compare: { nav: 'leaderboard', view: compareView, title: 'Compare' },
};

const main = document.getElementById('main');
const banner = document.getElementById('time-banner');
const asOfForm = document.getElementById('asof');
const asOfInput = document.getElementById('asof-input');
const liveButton = document.getElementById('asof-live');
setUpEntitySearch(document.getElementById('entity-search'));

let current = null; // { key, path, view, controller, cleanups }
let initial = true;

function notFoundView(target) {
  replace(target, pageHeader('Not found', 'There is no such page.'), h('p', null, h('a', { href: link('/'), text: 'Back to the leaderboard' })));
  return {};
}

function render() {
  const route = parseHash();
  const name = route.segments[0] ?? '';
  const spec = routes[name];
  const at = route.params.at ?? null;
  const path = route.segments.join('/');
  const key = `${path}|${at ?? 'live'}`;

  syncTimeControls(at);
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === (spec?.nav ?? '')) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
    // the nav keeps the instant shown
    a.setAttribute('href', link(a.dataset.nav === 'leaderboard' ? '/' : `/${a.dataset.nav}`));
  }

  if (current && current.key === key && current.view.update) {
    current.view.update(route);
    return;
  }

  const pathChanged = !current || current.path !== path;
  if (current) {
    current.controller.abort();
    for (const cleanup of current.cleanups) cleanup();
  }
  const controller = new AbortController();
  const cleanups = [];
  const ctx = {
    at,
    signal: controller.signal,
    initial: initial || !pathChanged,
    onCleanup: (fn) => cleanups.push(fn),
  };
  document.title = spec ? `${spec.title} — ImpactGrains` : 'ImpactGrains';
  window.scrollTo?.(0, 0);
  const view = spec && (!spec.needsId || route.segments[1]) ? spec.view(main, route, ctx) : notFoundView(main);
  current = { key, path, view: view ?? {}, controller, cleanups };
  if (!initial && pathChanged && !spec?.needsId) main.querySelector('h1')?.focus();
  initial = false;
}

function toLocalInput(iso) {
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function syncTimeControls(at) {
  document.body.classList.toggle('past', !!at);
  liveButton.setAttribute('aria-pressed', at ? 'false' : 'true');
  asOfInput.max = toLocalInput(new Date().toISOString());
  if (at) {
    if (document.activeElement !== asOfInput) asOfInput.value = toLocalInput(at);
    replace(banner, h('p', null,
      h('strong', { text: 'Showing the past: ' }),
      `scores, rankings and events as they were on ${fmt.when(at)} (your time). Live updates are paused. `,
      h('button', { type: 'button', class: 'link-button', onclick: () => setParams({ at: null }), text: 'Back to live' })));
  } else {
    if (document.activeElement !== asOfInput) asOfInput.value = '';
    banner.replaceChildren();
  }
}

asOfForm.addEventListener('submit', (event) => {
  event.preventDefault();
  if (!asOfInput.value) {
    setParams({ at: null });
    return;
  }
  const chosen = new Date(asOfInput.value); // local time
  if (Number.isNaN(chosen.getTime())) return;
  setParams({ at: chosen.getTime() >= Date.now() ? null : chosen.toISOString() });
});
liveButton.addEventListener('click', () => setParams({ at: null }));

// The live indicator next to the Live button.
const indicator = h('span', { class: 'live-status', id: 'live-status', role: 'status' });
liveButton.after(indicator);
live.onStatus((status) => {
  indicator.dataset.status = status;
  indicator.textContent = { connected: 'connected', connecting: 'connecting…', reconnecting: 'reconnecting…', closed: 'offline' }[status] ?? status;
});

// The key panel: shown when the server answers 401 or 403 (it runs with API keys and reads are not public).
const keyPanel = document.getElementById('key-panel');
const keyInput = document.getElementById('key-input');
const keyReason = document.getElementById('key-panel-reason');
const forgetKey = document.getElementById('forget-key');
forgetKey.hidden = !hasApiKey();
onUnauthorized((status) => {
  keyReason.textContent = status === 403 ? 'The key given does not have the read role.' : hasApiKey() ? 'The key given is not valid.' : '';
  if (keyPanel.hidden) {
    keyPanel.hidden = false;
    keyInput.focus();
  }
});
keyPanel.addEventListener('submit', (event) => {
  event.preventDefault();
  setApiKey(keyInput.value.trim());
  keyInput.value = '';
  keyPanel.hidden = true;
  forgetKey.hidden = false;
  rerender();
});
forgetKey.addEventListener('click', () => {
  setApiKey(null);
  forgetKey.hidden = true;
  rerender();
});

/** Renders the current view afresh (after the key changed). */
function rerender() {
  if (current) current.key = null;
  render();
}

window.addEventListener('hashchange', render);
live.connect();
render();
