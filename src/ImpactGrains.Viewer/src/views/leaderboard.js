// The leaderboard: entities ranked by score, filterable by kind, category and region, moving live with the stream.
// Rows can be selected (up to eight) to compare their histories.
import { api } from '../api.js';
import { h, replace, table, bar } from '../dom.js';
import * as fmt from '../format.js';
import * as live from '../live.js';
import { setParams } from '../state.js';
import { compareLimit, compareHref } from './compare.js';
import { pageHeader, entityLink, stat, trendTone, failure, loading, asOfText } from './common.js';

const LIMIT = 25;

/** The rows chosen for a comparison, in the order chosen; kept while the page is open, across filters and views. */
const selected = new Map(); // id -> name

export function leaderboardView(main, route, ctx) {
  const impacts = new Map(); // entity -> /impact answer at ctx.at
  const dirty = new Set();
  let previous = new Map(); // entity -> {rank, score}
  let filters = readFilters(route.params);
  let knownRegions = new Set(filters.region ? [filters.region] : []);
  let alertCount = null;

  const cards = h('div', { class: 'stats', 'aria-label': 'Summary' });
  const form = h('form', { class: 'filters', 'aria-label': 'Filter the leaderboard', onsubmit: (e) => e.preventDefault() });
  const board = h('div', { class: 'board', 'aria-busy': 'true' }, loading('the leaderboard'));
  const updated = h('p', { class: 'updated', 'data-testid': 'updated' });
  const selectionStatus = h('p', { class: 'compare-status', id: 'compare-status', 'aria-live': 'polite' });
  const compareButton = h('a', { class: 'button-link', 'data-testid': 'compare-selected', text: 'Compare' });
  const clearButton = h('button', { type: 'button', class: 'link-button', text: 'Clear the selection', onclick: () => {
    selected.clear();
    syncSelection();
  } });
  const compareBar = h('div', { class: 'compare-bar', role: 'group', 'aria-label': 'Compare selected entities' }, selectionStatus, compareButton, clearButton);

  replace(main,
    pageHeader(ctx.at ? 'Who was being hit' : 'Who is being hit right now',
      `Companies and people ranked by impact score, from 0 (no impact) to 100 (as bad as it gets), ${ctx.at ? asOfText(ctx.at) : 'updated live as events arrive'}. ` +
      'Outages, cyberattacks, protests, sales and stock drops raise a score; it fades as the events age. Pick a name to see why.'),
    cards, form, compareBar, board, updated);

  // The form is built once; later changes only set values and options, so keyboard focus stays where it is.
  const field = (id, label, onchange, hint) => {
    const select = h('select', { id, name: id, onchange: (e) => onchange(e.target.value), 'aria-describedby': hint ? `${id}-hint` : null });
    form.append(h('div', { class: 'field' }, h('label', { for: id, text: label }), select,
      hint ? h('span', { id: `${id}-hint`, class: 'field-hint', text: hint }) : null));
    return select;
  };
  const kindSelect = field('filter-kind', 'Show', (kind) => setParams({ kind: kind || null }));
  const categorySelect = field('filter-category', 'Rank by', (category) => setParams({ category: category || null, region: null }),
    'Rank by a category or by a region, not both.');
  const regionSelect = field('filter-region', 'Region', (region) => setParams({ region: region || null, category: null }));

  function setOptions(select, options, value) {
    const current = [...select.options].map((o) => `${o.value}\u0000${o.text}`).join('\u0001');
    const wanted = options.map(([v, text]) => `${v}\u0000${text}`).join('\u0001');
    if (current !== wanted) replace(select, options.map(([v, text]) => h('option', { value: v, text })));
    select.value = value;
  }

  function renderForm() {
    const regions = [...knownRegions].sort((a, b) => (a === 'GLOBAL') - (b === 'GLOBAL') || a.localeCompare(b));
    setOptions(kindSelect, [['', 'All kinds'], ...Object.entries(fmt.kinds).map(([k, v]) => [k, v.many])], filters.kind);
    setOptions(categorySelect, [['', 'Overall score'], ...Object.entries(fmt.categories).map(([k, v]) => [k, `${v.label} (${v.about})`])], filters.category);
    setOptions(regionSelect, [['', 'All regions'], ...regions.map((r) => [r, fmt.regionLabel(r)])], filters.region);
  }

  function renderCards(entries) {
    const top = entries[0];
    const rising = entries
      .map((e) => ({ e, trend: impacts.get(e.entity)?.trend24h ?? 0 }))
      .sort((a, b) => b.trend - a.trend)[0];
    replace(cards,
      stat('Most affected', top ? top.name : '—', top ? `${fmt.score(top.score)} / 100` : '', top ? fmt.kindLabel(top.kind) : 'no impact yet', { testid: 'most-affected' }),
      stat('Biggest rise in 24 hours', rising && rising.trend > 0.05 ? rising.e.name : '—', rising && rising.trend > 0.05 ? `${fmt.signed(rising.trend)} points` : '',
        rising && rising.trend > 0.05 ? 'score now minus score a day earlier' : 'no score rose', { tone: rising && rising.trend > 0.05 ? 'worse' : '' }),
      stat('Alerts in the last 24 hours', alertCount == null ? '—' : fmt.count(alertCount), '', 'rules that crossed their threshold'),
      stat('Ranked', fmt.count(entries.length), entries.length === 1 ? 'entity' : 'entities',
        entries.length >= LIMIT ? `the top ${LIMIT} with impact` : 'with any impact'));
  }

  function scoreHeader() {
    if (filters.category) return `${fmt.categoryLabel(filters.category)} score (0–100)`;
    if (filters.region) return `Score in ${filters.region} (0–100)`;
    return 'Score (0–100)';
  }

  function renderBoard(data) {
    const entries = data.entries;
    if (!entries.length) {
      const filtered = filters.kind || filters.category || filters.region;
      replace(board, h('p', { class: 'empty', 'data-testid': 'empty' },
        filtered ? `Nothing has impact here ${asOfText(ctx.at)}: try other filters.`
          : `No entity has any impact ${asOfText(ctx.at)}. Post an event to POST /api/events and it shows up here within a second.`));
      return;
    }
    const next = new Map();
    const rows = entries.map((entry, index) => {
      const rank = index + 1;
      const impact = impacts.get(entry.entity);
      const before = previous.get(entry.entity);
      const changed = before && (before.rank !== rank || Math.abs(before.score - entry.score) >= 0.05);
      next.set(entry.entity, { rank, score: entry.score });
      const topCategory = impact ? Object.entries(impact.categories).sort((a, b) => b[1] - a[1])[0] : null;
      const trend = impact?.trend24h;
      const move = before && before.rank !== rank ? (before.rank > rank ? `up from #${before.rank}` : `down from #${before.rank}`) : '';
      return h('tr', { class: changed ? 'changed' : '', 'data-entity': entry.entity, 'data-rank': rank },
        h('td', { class: 'select' }, h('input', {
          type: 'checkbox', class: 'select-row', 'data-entity': entry.entity, 'aria-label': `Select ${entry.name} to compare`,
          'aria-describedby': 'compare-status', checked: selected.has(entry.entity),
          onchange: (event) => {
            if (event.target.checked) selected.set(entry.entity, entry.name);
            else selected.delete(entry.entity);
            syncSelection();
          },
        })),
        h('td', { class: 'rank num', text: rank }),
        h('th', { scope: 'row', class: 'entity-cell' }, entityLink(entry.entity, entry.name), move ? h('span', { class: 'move', text: ` ${move}` }) : null),
        h('td', { class: 'kind', text: fmt.kindLabel(entry.kind) }),
        h('td', { class: 'score-cell' }, bar(entry.score), h('span', { class: 'num score', 'data-testid': 'score', text: fmt.score(entry.score) })),
        h('td', { class: `num trend ${trendTone(trend)}`, text: trend == null ? '…' : fmt.signed(trend) }),
        h('td', { class: 'top-category main-category' }, topCategory && topCategory[1] > 0
          ? [h('span', { class: `dot cat-${topCategory[0]}`, 'aria-hidden': 'true' }), `${fmt.categoryLabel(topCategory[0])} ${fmt.score(topCategory[1])}`]
          : '—'));
    });
    previous = next;
    const focusedBox = board.contains(document.activeElement) && document.activeElement.classList.contains('select-row') ? document.activeElement.dataset.entity : null;
    replace(board, table(`Entities ranked by ${scoreHeader().replace(' (0–100)', '').toLowerCase()}, ${asOfText(ctx.at)}`,
      [{ text: 'Compare', class: 'select' }, '#', 'Entity', { text: 'Kind', class: 'kind' }, { text: scoreHeader(), class: 'score-col' }, '24 h change (points)', { text: 'Main category (score)', class: 'main-category' }], rows, { className: 'leaderboard' }));
    syncSelection();
    if (focusedBox) board.querySelector(`input.select-row[data-entity="${focusedBox}"]`)?.focus({ preventScroll: true });
    renderCards(entries);
  }

  function syncSelection() {
    const ids = [...selected.keys()];
    const full = ids.length >= compareLimit;
    for (const box of board.querySelectorAll('input.select-row')) {
      box.checked = selected.has(box.dataset.entity);
      box.disabled = full && !box.checked;
    }
    const status = ids.length
      ? `${ids.length} selected${full ? ` (at most ${compareLimit})` : ''}: ${[...selected.values()].join(', ')}.`
      : `Select up to ${compareLimit} rows to compare their histories.`;
    if (selectionStatus.textContent !== status) selectionStatus.textContent = status; // announced only when it changes
    compareButton.hidden = ids.length < 2;
    compareButton.setAttribute('href', compareHref(ids));
    compareButton.textContent = `Compare ${ids.length} entities`;
    clearButton.hidden = ids.length === 0;
  }

  let generation = 0;
  async function load({ all = false } = {}) {
    const mine = ++generation;
    try {
      const data = await api.leaderboard({ kind: filters.kind, category: filters.category, region: filters.region, limit: LIMIT, at: ctx.at ?? undefined }, ctx.signal);
      const wanted = data.entries.map((e) => e.entity).filter((id) => all || dirty.has(id) || !impacts.has(id));
      for (const id of wanted) dirty.delete(id);
      await Promise.all(wanted.map(async (id) => {
        try {
          impacts.set(id, await api.impact(id, ctx.at ?? undefined, ctx.signal));
        } catch {
          // the row shows without its trend
        }
      }));
      if (mine !== generation) return;
      const regionCount = knownRegions.size;
      for (const impact of impacts.values()) for (const region of Object.keys(impact.regions ?? {})) knownRegions.add(region);
      if (knownRegions.size !== regionCount) renderForm();
      renderBoard(data);
      board.setAttribute('aria-busy', 'false');
      updated.textContent = ctx.at
        ? `Showing the scores ${asOfText(ctx.at)}.`
        : `Last updated ${fmt.clock(new Date())}. Live: the list moves by itself when new events arrive.`;
    } catch (error) {
      if (ctx.signal.aborted) return;
      replace(board, failure(error, 'leaderboard'));
    }
  }

  async function loadAlerts() {
    try {
      const to = ctx.at ? Date.parse(ctx.at) : Date.now();
      const { alerts } = await api.alerts({ limit: 200, before: new Date(to + 1).toISOString() }, ctx.signal);
      alertCount = alerts.filter((a) => Date.parse(a.at) > to - 86400e3).length;
    } catch {
      alertCount = null;
    }
  }

  renderForm();
  syncSelection();
  loadAlerts().then(() => load({ all: true }));

  if (!ctx.at) {
    const refresh = live.throttle(() => load(), 400);
    // Each silo answers the leaderboard from its copy of the published standings, refreshed once per publish interval
    // (250 ms): a reload right at a score event may read the ranking before it, so the board reloads once more after
    // the events stop, when every copy has the publication they came from.
    let settle = null;
    ctx.onCleanup(live.on('score', (message) => {
      dirty.add(message.entity);
      refresh();
      clearTimeout(settle);
      settle = setTimeout(refresh, 600);
    }));
    ctx.onCleanup(() => clearTimeout(settle));
    ctx.onCleanup(live.on('alert', () => loadAlerts().then(refresh)));
    ctx.onCleanup(live.on('reset', () => load({ all: true })));
    ctx.onCleanup(() => refresh.cancel());
    // Decay moves scores even without events: re-read the trends now and then.
    const timer = setInterval(() => load({ all: true }), 60_000);
    ctx.onCleanup(() => clearInterval(timer));
  }

  return {
    update(nextRoute) {
      filters = readFilters(nextRoute.params);
      if (filters.region) knownRegions.add(filters.region);
      previous = new Map();
      renderForm();
      board.setAttribute('aria-busy', 'true');
      load();
    },
  };
}

function readFilters(params) {
  const kind = fmt.kinds[params.kind] ? params.kind : '';
  const category = fmt.categories[params.category] ? params.category : '';
  const region = !category && /^([A-Z]{2}|GLOBAL)$/.test(params.region ?? '') ? params.region : '';
  return { kind, category, region };
}
