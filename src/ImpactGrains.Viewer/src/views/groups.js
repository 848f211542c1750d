// Groups (portfolios): each group's combined score and its members; one group's history (with the events behind it
// marked), its world map of region scores, its explanation, and a comparison of its members.
import { api } from '../api.js';
import { h, replace, table, bar } from '../dom.js';
import * as fmt from '../format.js';
import * as live from '../live.js';
import { link, setParams } from '../state.js';
import { scoreChart, historyParams, rangePicker, rangeOf } from '../chart.js';
import { groupMarkers } from '../markers.js';
import { namesOf } from '../names.js';
import { regionsPanel } from './regions.js';
import { compareLimit, compareHref } from './compare.js';
import { pageHeader, section, stat, trendTone, entityLink, groupLink, failure, loading, asOfText, latestOnly } from './common.js';

const methods = {
  max: 'the worst-hit member decides',
  'weighted-sum': 'members’ impact added up, weighted',
  'noisy-or': 'hit if any member is hit',
};

export function groupsView(main, route, ctx) {
  const list = h('div', { 'data-testid': 'groups' }, loading('the groups'));
  replace(main,
    pageHeader('Groups', `Portfolios of entities with one combined score from 0 to 100, ${asOfText(ctx.at)}. A group is hit as hard as its method says.`),
    list);

  async function load() {
    try {
      const groups = await api.groups(ctx.signal);
      if (!groups.length) {
        replace(list, h('p', { class: 'empty', text: 'No groups yet. Define one with PUT /api/groups/{id}.' }));
        return;
      }
      const [impacts, names] = await Promise.all([
        Promise.all(groups.map((g) => api.groupImpact(g.id, ctx.at ?? undefined, ctx.signal))),
        namesOf(groups.flatMap((g) => g.members.map((m) => m.entity))),
      ]);
      replace(list, h('div', { class: 'cards' }, groups.map((group, i) => {
        const impact = impacts[i];
        return h('article', { class: 'panel group-card', 'aria-labelledby': `g-${group.id}` },
          h('h2', { id: `g-${group.id}` }, groupLink(group.id, group.name)),
          h('p', { class: 'hint', text: `${group.members.length} members · ${group.method}: ${methods[group.method] ?? ''}` }),
          h('div', { class: 'stats compact' },
            stat('Group score', fmt.score(impact.score), '/ 100', asOfText(ctx.at)),
            stat('Change in 24 hours', fmt.signed(impact.trend24h), 'points', '', { tone: trendTone(impact.trend24h) })),
          membersTable(group, impact, names));
      })));
    } catch (error) {
      if (!ctx.signal.aborted) replace(list, failure(error, 'groups'));
    }
  }

  load();
  if (!ctx.at) {
    const refresh = live.throttle(load, 1000);
    ctx.onCleanup(live.on('score', refresh));
    ctx.onCleanup(() => refresh.cancel());
  }
  return {};
}

function membersTable(group, impact, names) {
  return table(`Members of ${group.name}`, ['Member', { text: 'Weight', class: 'num' }, 'Score (0–100)', { text: 'Share of the group', class: 'num' }],
    impact.members.map((m) => h('tr', null,
      h('th', { scope: 'row' }, entityLink(m.entity, names.get(m.entity))),
      h('td', { class: 'num', text: m.weight }),
      h('td', { class: 'score-cell' }, bar(m.score), h('span', { class: 'num', text: fmt.score(m.score) })),
      h('td', { class: 'num', text: fmt.percent(m.share) }))));
}

export function groupView(main, route, ctx) {
  const id = route.segments[1];
  let range = rangeOf(route.params.range).key;
  let chart = null;
  ctx.onCleanup(() => chart?.destroy());
  const header = h('div');
  const stats = h('div', { class: 'stats' });
  const members = h('div');
  const compare = h('p', { class: 'compare-link' });
  const picker = h('div');
  const chartBox = h('div', { class: 'chart-box', 'data-testid': 'history-chart' }, loading('the history'));
  const explain = h('div', { 'data-testid': 'group-explain' });
  let groupName = id;
  const regions = regionsPanel({ label: () => `${groupName}’s score`, caption: `The group’s score by region, ${asOfText(ctx.at)}` });
  replace(main,
    h('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: link('/groups'), text: 'Groups' }), ' › ', h('span', { 'aria-current': 'page', text: id })),
    header, stats,
    section('Score over time', `The group’s combined score over the chosen range, ending ${asOfText(ctx.at)}, with the events behind it marked where they occurred. Click the chart or a marker to see that moment.`, picker, chartBox),
    section('Where: by region', `The group’s score from the events in each region alone (its members’ region scores combined by the group’s method), ${asOfText(ctx.at)}; events without a region count as Global.`, regions.root),
    section('Members', 'Each member’s own score and its share of the group’s score.', compare, members),
    section('Why: the events behind the group’s score', 'Each member’s events, weighted by the member’s share.', explain));

  let names = new Map();
  let lastImpact = null;
  async function load() {
    try {
      const impact = await api.groupImpact(id, ctx.at ?? undefined, ctx.signal);
      lastImpact = impact;
      groupName = impact.name;
      replace(header, pageHeader(impact.name, `A group of ${impact.members.length} · ${impact.method}: ${methods[impact.method] ?? ''}. Score from 0 to 100, ${asOfText(ctx.at)}.`));
      document.title = `${impact.name} — ImpactGrains`;
      replace(stats,
        stat('Group score', fmt.score(impact.score), '/ 100', asOfText(ctx.at), { tone: impact.score >= 60 ? 'worse' : '' }),
        stat('Change in 24 hours', fmt.signed(impact.trend24h), 'points', 'score minus the score a day earlier', { tone: trendTone(impact.trend24h) }));
      regions.update(impact.regions);
      const worst = [...impact.members].sort((a, b) => b.score - a.score || a.entity.localeCompare(b.entity)).slice(0, compareLimit).map((m) => m.entity);
      replace(compare, h('a', { href: compareHref(worst), class: 'button-link', 'data-testid': 'compare-members' },
        impact.members.length > compareLimit ? `Compare the histories of the ${compareLimit} highest-scoring members` : 'Compare the members’ histories'));
      const history = loadHistory(); // beside the names, which a large group takes a while to read
      names = await namesOf(impact.members.map((m) => m.entity));
      replace(members, membersTable({ name: impact.name }, impact, names));
      const reasons = await api.groupExplain(id, ctx.at ?? undefined, 15, ctx.signal);
      const explainNames = await namesOf(reasons.contributions.map((c) => c.entity));
      for (const [key, value] of explainNames) names.set(key, value);
      replace(explain, reasons.contributions.length
        ? table(`Events behind ${impact.name}`, ['Event', 'Through member', 'Where it happened', 'When', { text: 'Points', class: 'num' }],
          reasons.contributions.map((c) => h('tr', null,
            h('th', { scope: 'row' }, h('span', { class: 'event-type', text: fmt.eventTypeLabel(c.type) }), h('span', { class: 'event-id', text: c.eventId })),
            h('td', null, entityLink(c.member, names.get(c.member))),
            h('td', null, c.entity === c.member ? 'the member itself' : h('span', { class: 'badge inherited-badge' }, 'Inherited from ', entityLink(c.entity, names.get(c.entity)))),
            h('td', null, h('time', { datetime: c.occurredAt, text: fmt.when(c.occurredAt) })),
            h('td', { class: 'num', text: fmt.score(c.contribution) }))))
        : h('p', { class: 'empty', text: 'No event counts yet.' }));
      await history;
    } catch (error) {
      if (!ctx.signal.aborted) replace(main, failure(error, 'group'));
    }
  }

  const loadHistory = latestOnly(async (isCurrent) => {
    const params = historyParams(range, ctx.at);
    const [data, marked] = await Promise.all([
      api.groupHistory(id, params, ctx.signal),
      groupMarkers(id, lastImpact?.members ?? [], { from: params.from, to: params.to, signal: ctx.signal }),
    ]);
    if (!isCurrent()) return;
    if (chart && chart.range === range) {
      chart.update(data.points, marked.markers, marked.notes, marked.floor);
      return;
    }
    chart?.destroy();
    chart = scoreChart(chartBox, data.points, {
      label: 'Group score',
      onPick: (at) => setParams({ at }),
      momentHref: (at) => link(`/group/${id}`, { at, range: range === '7d' ? null : range }),
      asOf: ctx.at,
      ...marked,
    });
    chart.range = range;
  });

  replace(picker, rangePicker(range, (key) => setParams({ range: key }, { replaceHistory: true }), 'group-range'));
  load();
  if (!ctx.at) {
    const refresh = live.throttle(load, 1500);
    // Only the members' changes move the group (an entity's inherited impact changing reports it too).
    ctx.onCleanup(live.on('score', (message) => (!lastImpact || lastImpact.members.some((m) => m.entity === message.entity)) && refresh()));
    ctx.onCleanup(live.on('reset', refresh));
    ctx.onCleanup(() => refresh.cancel());
  }
  return {
    update(nextRoute) {
      const nextRange = rangeOf(nextRoute.params.range).key;
      if (nextRange !== range) {
        range = nextRange;
        loadHistory().catch(() => {});
      }
    },
  };
}
