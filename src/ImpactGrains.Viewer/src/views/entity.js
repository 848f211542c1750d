// One entity: score, peak and trend; history chart with the events behind it marked; the world map and table of its
// region scores; breakdown by category; the events behind the score (inherited ones marked with their source); the
// event feed; related entities and groups.
import { api, justAfter } from '../api.js';
import { h, replace, table } from '../dom.js';
import * as fmt from '../format.js';
import * as live from '../live.js';
import { setParams, link } from '../state.js';
import { scoreChart, historyParams, rangePicker, rangeOf } from '../chart.js';
import { entityMarkers } from '../markers.js';
import { namesOf, remember } from '../names.js';
import { regionsPanel } from './regions.js';
import { pageHeader, section, stat, trendTone, breakdown, categoryColor, entityLink, groupLink, failure, loading, asOfText, latestOnly } from './common.js';

export function entityView(main, route, ctx) {
  const id = route.segments[1];
  let range = rangeOf(route.params.range).key;
  let chart = null;
  ctx.onCleanup(() => chart?.destroy());

  const header = h('div');
  const crumb = h('span', { 'aria-current': 'page', text: id });
  const stats = h('div', { class: 'stats', 'aria-label': 'Score summary' });
  const chartBox = h('div', { class: 'chart-box', 'data-testid': 'history-chart' }, loading('the history'));
  const picker = h('div');
  const categories = h('div', { 'data-testid': 'categories' });
  const regions = regionsPanel({ label: () => `${entity?.name ?? id}’s score`, caption: `Score by region, ${asOfText(ctx.at)}` });
  const explain = h('div', { 'data-testid': 'explain' }, loading('the explanation'));
  const feed = h('div', { 'data-testid': 'events' }, loading('the events'));
  const related = h('div', { 'data-testid': 'related' });

  replace(main,
    h('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: link('/'), text: 'Leaderboard' }), ' › ', crumb),
    header,
    stats,
    section('Score over time', `The impact score (0–100) over the chosen range, ending ${asOfText(ctx.at)}, with the events behind it marked where they occurred. Click the chart or a marker to see that moment.`, picker, chartBox),
    section('Where: by region', `The score from the events in each region alone, ${asOfText(ctx.at)}; events without a region count as Global.`, regions.root),
    section('By category', 'The score from each kind of harm alone, so the parts need not add up to the total.', categories),
    section('Why: the events behind the score', 'Largest first. Points are each event’s share of the score; inherited events happened at a linked entity.', explain),
    section('Latest events', 'What was reported, newest first, with its source.', feed),
    section('Related', 'Impact flows along these links: the linked entity’s own events count here at the link’s weight.', related));

  let entity = null;

  async function loadEntity() {
    try {
      entity = await api.entity(id, ctx.signal);
      remember(entity);
      replace(header, pageHeader(entity.name,
        `${fmt.kindLabel(entity.kind)}${entity.tags?.length ? ` · ${entity.tags.join(', ')}` : ''}. Impact score from 0 (no impact) to 100, ${asOfText(ctx.at)}.`));
      if (!ctx.initial) header.querySelector('h1')?.focus();
      document.title = `${entity.name} — ImpactGrains`;
      crumb.textContent = entity.name;
      const groups = (await api.groups(ctx.signal)).filter((g) => g.members.some((m) => m.entity === id));
      renderRelated(entity, groups);
      return true;
    } catch (error) {
      if (!ctx.signal.aborted) replace(main, failure(error, 'entity'));
      return false;
    }
  }

  async function loadImpact() {
    const impact = await api.impact(id, ctx.at ?? undefined, ctx.signal);
    replace(stats,
      stat('Impact score', fmt.score(impact.score), '/ 100', ctx.at ? asOfText(ctx.at) : 'now', { testid: 'score', tone: impact.score >= 60 ? 'worse' : '' }),
      stat('Peak', fmt.score(impact.peak?.score), '/ 100', impact.peak?.at ? `reached ${fmt.when(impact.peak.at)}` : 'no impact yet', { testid: 'peak' }),
      stat('Change in 24 hours', fmt.signed(impact.trend24h), 'points', 'score minus the score a day earlier', { testid: 'trend', tone: trendTone(impact.trend24h) }),
      stat('Own / inherited', `${fmt.score(impact.direct)} / ${fmt.score(impact.inherited)}`, '', 'score from its own events / from linked entities’ events', { testid: 'inherited' }),
      stat('Events counted', fmt.count(impact.eventCount), '', `its own events so far · model ${impact.modelVersion}`));
    replace(categories, breakdown(impact.categories, (c) => `${fmt.categoryLabel(c)}`, 'Score by category', categoryColor));
    regions.update(impact.regions);
  }

  const loadHistory = latestOnly(async (isCurrent) => {
    const params = historyParams(range, ctx.at);
    const [data, marked] = await Promise.all([
      api.history(id, params, ctx.signal),
      entityMarkers(id, entity?.links ?? [], { from: params.from, to: params.to, signal: ctx.signal }),
    ]);
    if (!isCurrent()) return;
    if (chart && chart.range === range) {
      chart.update(data.points, marked.markers, marked.notes, marked.floor);
      return;
    }
    chart?.destroy();
    chart = scoreChart(chartBox, data.points, {
      label: `${entity?.name ?? id} score`,
      onPick: (at) => setParams({ at }),
      momentHref: (at) => link(`/entity/${id}`, { at, range: range === '7d' ? null : range }),
      asOf: ctx.at,
      ...marked,
    });
    chart.range = range;
  });

  async function loadExplain() {
    const data = await api.explain(id, ctx.at ?? undefined, 20, ctx.signal);
    if (!data.contributions.length) {
      replace(explain, h('p', { class: 'empty', text: `No event counts ${asOfText(ctx.at)}.` }));
      return;
    }
    const names = await namesOf(data.contributions.map((c) => c.entity));
    const rows = data.contributions.map((c) => {
      const inherited = c.entity !== id;
      return h('tr', { class: inherited ? 'inherited' : '', 'data-event': c.eventId },
        h('th', { scope: 'row' }, h('span', { class: 'event-type', text: fmt.eventTypeLabel(c.type) }), h('span', { class: 'event-id', text: c.eventId })),
        h('td', null, inherited
          ? h('span', { class: 'badge inherited-badge' }, 'Inherited from ', entityLink(c.entity, names.get(c.entity)))
          : h('span', { class: 'badge own-badge', text: 'Own event' })),
        h('td', null, h('span', { class: `dot ${categoryColor(c.category)}`, 'aria-hidden': 'true' }), fmt.categoryLabel(c.category)),
        h('td', null, h('time', { datetime: c.occurredAt, text: fmt.when(c.occurredAt) }), h('span', { class: 'ago', text: ` (${fmt.ago(c.occurredAt, ctx.at)})` })),
        h('td', { class: 'num contribution', text: fmt.score(c.contribution) }),
        h('td', { class: 'num', text: fmt.percent(c.share) }));
    });
    replace(explain, table(`Events behind the score of ${entity?.name ?? id}, ${asOfText(ctx.at)}`,
      ['Event', 'Where it happened', 'Category', 'When', { text: 'Points', class: 'num' }, { text: 'Share', class: 'num' }], rows, { className: 'explain' }));
  }

  async function loadEvents() {
    const data = await api.events(id, { limit: 20, before: justAfter(ctx.at) }, ctx.signal);
    if (!data.events.length) {
      replace(feed, h('p', { class: 'empty', text: `No events ${ctx.at ? `before ${fmt.when(ctx.at)}` : 'yet'}.` }));
      return;
    }
    replace(feed, h('ol', { class: 'feed' }, data.events.map((e) => h('li', { class: `feed-item type-${e.type}` },
      h('div', { class: 'feed-head' },
        h('span', { class: 'event-type', text: fmt.eventTypeLabel(e.type) }),
        h('time', { datetime: e.occurredAt, text: fmt.when(e.occurredAt) }),
        h('span', { class: 'ago', text: fmt.ago(e.occurredAt, ctx.at) })),
      h('p', { class: 'feed-summary', text: fmt.eventSummary(e) }),
      h('p', { class: 'feed-meta' },
        [fmt.regionLabel(e.region), e.confidence < 1 ? `confidence ${fmt.percent(e.confidence)}` : null, e.source ? `source: ${e.source}` : null]
          .filter(Boolean).join(' · '))))));
  }

  async function renderRelated(current, groups) {
    const names = await namesOf(current.links.flatMap((l) => [l.from, l.to]));
    const incoming = current.links.filter((l) => l.to === id);
    const outgoing = current.links.filter((l) => l.from === id);
    const item = (other, text) => h('li', null, entityLink(other, names.get(other)), h('span', { class: 'link-note', text }));
    replace(related,
      h('div', { class: 'two-col' },
        h('div', null, h('h3', { text: 'Inherits from' }),
          incoming.length ? h('ul', { class: 'links' }, incoming.map((l) => item(l.from, ` — ${l.relation}, weight ${l.weight}`))) : h('p', { class: 'empty', text: 'No entity passes impact to this one.' })),
        h('div', null, h('h3', { text: 'Passes impact to' }),
          outgoing.length ? h('ul', { class: 'links' }, outgoing.map((l) => item(l.to, ` — ${l.relation}, weight ${l.weight}`))) : h('p', { class: 'empty', text: 'No links out.' }))),
      h('h3', { text: 'Groups' }),
      groups.length ? h('ul', { class: 'links' }, groups.map((g) => h('li', null, groupLink(g.id, g.name), h('span', { class: 'link-note', text: ` — ${g.members.length} members` }))))
        : h('p', { class: 'empty', text: 'Not in any group.' }));
  }

  async function refresh() {
    try {
      await Promise.all([loadImpact(), loadExplain(), loadEvents(), loadHistory()]);
    } catch (error) {
      if (!ctx.signal.aborted) console.error(error);
    }
  }

  replace(picker, rangePicker(range, (key) => setParams({ range: key }, { replaceHistory: true })));
  loadEntity().then((ok) => ok && refresh());

  if (!ctx.at) {
    const quietly = (load) => () => load().catch((error) => !ctx.signal.aborted && console.error(error));
    const numbers = live.throttle(quietly(() => Promise.all([loadImpact(), loadExplain(), loadEvents()])), 1000);
    // The chart reads the most (its markers page through the events of the range): at most every 3 seconds.
    const chartAgain = live.throttle(quietly(() => loadHistory()), 3000);
    const changed = () => {
      numbers();
      chartAgain();
    };
    ctx.onCleanup(live.on('score', (message) => {
      if (message.entity === id || entity?.links.some((l) => l.from === message.entity && l.to === id)) changed();
    }));
    ctx.onCleanup(live.on('incident', (message) => message.entity === id && changed()));
    ctx.onCleanup(live.on('reset', changed));
    ctx.onCleanup(() => {
      numbers.cancel();
      chartAgain.cancel();
    });
  }

  return {
    update(nextRoute) {
      const nextRange = rangeOf(nextRoute.params.range).key;
      if (nextRange !== range) {
        range = nextRange;
        loadHistory().catch((error) => !ctx.signal.aborted && replace(chartBox, failure(error, 'history')));
      }
    },
  };
}
