// Compare: #/compare/{id},{id},… overlays the score histories of up to eight entities on one chart, over one range
// and ending at the instant shown, with a legend that names each line by colour and dash, and the scores then.
import { api, ApiError } from '../api.js';
import { h, replace, s } from '../dom.js';
import * as fmt from '../format.js';
import * as live from '../live.js';
import { link, setParams } from '../state.js';
import { compareChart, historyParams, rangePicker, rangeOf } from '../chart.js';
import { entityOf, remember } from '../names.js';
import { seriesStyles } from '../theme.js';
import { pageHeader, section, entityLink, loading, asOfText, latestOnly } from './common.js';

export const compareLimit = 8;
const idPattern = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** The link to a comparison of these entities (keeping the instant shown). */
export const compareHref = (ids, params = {}) => link(`/compare/${ids.join(',')}`, params);

/** The ids asked for, in order, without repeats; what could not be used is reported in `left`. */
function readIds(segment) {
  const asked = (segment ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  const ids = [];
  const left = [];
  for (const id of asked) {
    if (ids.includes(id)) continue;
    if (!idPattern.test(id)) left.push(`'${id}' is not an entity id`);
    else if (ids.length >= compareLimit) left.push(`${id} (at most ${compareLimit} entities are compared at once)`);
    else ids.push(id);
  }
  return { ids, left };
}

export function compareView(main, route, ctx) {
  const { ids: asked, left } = readIds(route.segments[1]);
  let range = rangeOf(route.params.range).key;
  let chart = null;
  ctx.onCleanup(() => chart?.destroy());

  const notes = h('div', { 'data-testid': 'compare-notes' });
  const picker = h('div');
  const chartBox = h('div', { class: 'chart-box', 'data-testid': 'compare-chart' }, asked.length ? loading('the histories') : null);
  const legend = h('div', { class: 'compare-legend', 'data-testid': 'compare-legend' });
  const addForm = h('form', { class: 'compare-add', 'aria-label': 'Add an entity to the comparison' });
  const header = pageHeader(
    'Compare',
    `The impact scores (0–100) of up to ${compareLimit} entities over the same range, ending ${asOfText(ctx.at)}. ` +
      'Each line has its own colour and dash pattern; the legend names them. Click the chart to see any moment.');

  replace(main,
    h('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: link('/'), text: 'Leaderboard' }), ' › ', h('span', { 'aria-current': 'page', text: 'Compare' })),
    header, notes,
    section('Score over time', null, picker, chartBox, legend),
    section('Add an entity', 'Type an entity’s id or name; select rows on the leaderboard to start a new comparison.', addForm));

  let entities = []; // [{id, name, kind}] in the order asked, only those that exist
  let missing = [];

  function renderNotes() {
    const lines = [
      ...missing.map((id) => `There is no entity '${id}': it is left out.`),
      ...left.map((text) => `Left out: ${text}.`),
    ];
    replace(notes, lines.length ? h('div', { class: 'notice', role: 'status' }, lines.map((line) => h('p', { text: line }))) : null);
    if (!asked.length) {
      replace(chartBox, h('p', { class: 'empty', text: 'Nothing to compare yet. Select rows on the leaderboard and choose Compare, or add entities below.' }));
    }
  }

  function go(ids) {
    location.hash = compareHref(ids, { range: range === '7d' ? null : range });
  }

  async function loadEntities() {
    const found = await Promise.all(asked.map(async (id) => {
      try {
        const entity = await api.entity(id, ctx.signal);
        remember(entity);
        return entity;
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return null;
        throw error;
      }
    }));
    entities = found.filter(Boolean);
    missing = asked.filter((id, i) => !found[i]);
    document.title = entities.length ? `Compare ${entities.map((e) => e.name).join(', ')} — ImpactGrains` : 'Compare — ImpactGrains';
    header.querySelector('h1').textContent = entities.length ? `Compare: ${entities.map((e) => e.name).join(', ')}` : 'Compare';
    renderNotes();
  }

  const load = latestOnly(async (isCurrent) => {
    if (!entities.length) {
      if (asked.length) replace(chartBox, h('p', { class: 'empty', text: 'None of these entities exists.' }));
      replace(legend);
      return;
    }
    const params = historyParams(range, ctx.at);
    const [histories, impacts] = await Promise.all([
      Promise.all(entities.map((e) => api.history(e.id, params, ctx.signal))),
      Promise.all(entities.map((e) => api.impact(e.id, ctx.at ?? undefined, ctx.signal))),
    ]);
    if (!isCurrent()) return;
    chart?.destroy();
    chart = compareChart(chartBox, entities.map((e, i) => ({ id: e.id, label: e.name, points: histories[i].points })), {
      onPick: (at) => setParams({ at }),
    });
    renderLegend(histories, impacts);
  });

  function renderLegend(histories, impacts) {
    const styles = seriesStyles();
    const focused = legend.contains(document.activeElement) ? document.activeElement.closest('[data-entity]')?.dataset.entity : null;
    replace(legend, h('ul', { class: 'legend-list', 'aria-label': 'Lines on the chart' }, entities.map((e, i) => {
      const style = styles[i % styles.length];
      const points = histories[i].points.map((p) => p.score);
      const impact = impacts[i];
      const sample = s('svg', { class: 'legend-sample', viewBox: '0 0 40 10', width: 40, height: 10, 'aria-hidden': 'true' },
        s('line', { x1: 1, y1: 5, x2: 39, y2: 5, stroke: style.color, 'stroke-width': 3, 'stroke-dasharray': style.dash.length ? style.dash.join(' ') : null }));
      return h('li', { class: 'legend-item', 'data-entity': e.id },
        sample,
        h('span', { class: 'legend-name' }, entityLink(e.id, e.name), h('span', { class: 'legend-kind', text: ` · ${fmt.kindLabel(e.kind)}` })),
        h('span', { class: 'legend-values' },
          h('span', { 'data-testid': 'legend-score', text: `${fmt.score(impact.score)} ${ctx.at ? 'then' : 'now'}` }),
          points.length ? ` · peak in range ${fmt.score(Math.max(...points))}` : '',
          impact.eventCount === 0 && impact.inherited === 0 ? h('span', { class: 'badge', text: 'no events yet' }) : null),
        h('button', {
          type: 'button', class: 'link-button legend-remove', 'aria-label': `Remove ${e.name} from the comparison`, text: 'Remove',
          onclick: () => go(entities.filter((x) => x.id !== e.id).map((x) => x.id)),
        }));
    })));
    if (focused) legend.querySelector(`[data-entity="${focused}"] .legend-remove`)?.focus({ preventScroll: true });
  }

  // Adding: an id, or a name the store knows (suggested as one types, from GET /api/entities?q=), checked against the API.
  const input = h('input', {
    id: 'compare-add-input', name: 'entity', list: 'compare-add-options', autocomplete: 'off', spellcheck: 'false',
    'aria-describedby': 'compare-add-hint compare-add-error',
  });
  const options = h('datalist', { id: 'compare-add-options' });
  const hint = h('span', { id: 'compare-add-hint', class: 'field-hint', text: 'An id or a name; matching entities are suggested as you type.' });
  const error = h('p', { id: 'compare-add-error', class: 'field-error', role: 'alert' });
  const addButton = h('button', { type: 'submit', text: 'Add' });
  replace(addForm,
    h('div', { class: 'field' }, h('label', { for: 'compare-add-input', text: 'Entity' }), input, options, hint),
    addButton, error);
  const byName = new Map(); // lower-case name -> id, from the suggestions shown
  const suggest = live.throttle(async () => {
    const text = input.value.trim();
    if (!text) return;
    try {
      const found = await api.searchEntities(text, 20, ctx.signal);
      if (input.value.trim() !== text) return;
      for (const e of found) byName.set(e.name.toLowerCase(), e.id);
      replace(options, found.map((e) => h('option', { value: e.id, text: `${e.name} (${fmt.kindLabel(e.kind)})` })));
    } catch {
      // suggestions are a help, not a need
    }
  }, 250);
  input.addEventListener('input', suggest);

  /** The id meant by what was typed: a name suggested, an id that exists, or the one entity whose name matches. */
  async function resolve(typed) {
    const known = byName.get(typed.toLowerCase());
    if (known) return known;
    if (idPattern.test(typed) && (await entityOf(typed))) return typed;
    try {
      const found = await api.searchEntities(typed, 20, ctx.signal);
      const exact = found.filter((e) => e.name.toLowerCase() === typed.toLowerCase());
      if (exact.length === 1) return exact[0].id;
      return found.length === 1 ? found[0].id : null;
    } catch {
      return null;
    }
  }
  ctx.onCleanup(() => suggest.cancel());
  addForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const typed = input.value.trim();
    if (!typed) return;
    const id = await resolve(typed);
    if (!id) {
      error.textContent = `There is no entity '${typed}'.`;
      return;
    }
    const current = entities.map((e) => e.id);
    if (current.includes(id)) {
      error.textContent = `${typed} is already on the chart.`;
      return;
    }
    if (current.length >= compareLimit) {
      error.textContent = `At most ${compareLimit} entities are compared at once: remove one first.`;
      return;
    }
    error.textContent = '';
    go([...current, id]);
  });

  replace(picker, rangePicker(range, (key) => setParams({ range: key }, { replaceHistory: true }), 'compare-range'));
  renderNotes();
  loadEntities().then(() => load()).catch((failure) => {
    if (!ctx.signal.aborted) replace(chartBox, h('p', { class: 'error', role: 'alert', text: `Could not load the comparison: ${failure?.message ?? failure}` }));
  });

  if (!ctx.at) {
    const throttled = live.throttle(() => load().catch(() => {}), 1500);
    ctx.onCleanup(live.on('score', (message) => entities.some((e) => e.id === message.entity) && throttled()));
    ctx.onCleanup(live.on('reset', throttled));
    ctx.onCleanup(() => throttled.cancel());
  }

  return {
    update(nextRoute) {
      const nextRange = rangeOf(nextRoute.params.range).key;
      if (nextRange !== range) {
        range = nextRange;
        load().catch(() => {});
      }
    },
  };
}
