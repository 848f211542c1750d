// Incidents found by spike detection: the `incident` events of every entity, paired into detected → resolved.
import { api, justAfter } from '../api.js';
import { h, replace, table } from '../dom.js';
import * as fmt from '../format.js';
import * as live from '../live.js';
import { pageHeader, entityLink, failure, loading, asOfText } from './common.js';

export function incidentsView(main, route, ctx) {
  const box = h('div', { 'data-testid': 'incidents' }, loading('the incidents'));
  replace(main,
    pageHeader('Detected incidents', 'An incident is declared when outage reports for an entity in a region jump far above their usual level ' +
      '(a z-score of 4 or more, twice in a row), and resolved after 30 quiet minutes.'),
    box);

  async function load() {
    try {
      const entities = (await api.entities(ctx.signal)).slice(0, 200);
      const lists = await Promise.all(entities.map(async (e) => {
        try {
          const { events } = await api.events(e.id, { limit: 200, before: justAfter(ctx.at) }, ctx.signal);
          return events.filter((x) => x.type === 'incident').map((x) => ({ ...x, name: e.name }));
        } catch {
          return [];
        }
      }));
      const incidents = new Map();
      for (const event of lists.flat().sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt))) {
        const key = `${event.entity}|${event.region}|${event.data?.startedAt}`;
        const current = incidents.get(key) ?? { entity: event.entity, name: event.name, region: event.region, startedAt: event.data?.startedAt ?? event.occurredAt };
        if (event.data?.status === 'resolved') current.resolvedAt = event.occurredAt;
        else current.detected = event;
        current.peak = Math.max(current.peak ?? 0, event.data?.peakReports ?? event.data?.reports ?? 0);
        incidents.set(key, current);
      }
      const rows = [...incidents.values()].sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt));
      replace(box, rows.length
        ? table(`Detected incidents, ${asOfText(ctx.at)}`, ['Entity', 'Region', 'Started', 'Status', { text: 'Peak reports', class: 'num' }, { text: 'Usual reports', class: 'num' }, { text: 'z-score', class: 'num' }],
          rows.map((i) => h('tr', null,
            h('th', { scope: 'row' }, entityLink(i.entity, i.name)),
            h('td', { text: fmt.regionLabel(i.region) }),
            h('td', null, h('time', { datetime: i.startedAt, text: fmt.when(i.startedAt) })),
            h('td', null, i.resolvedAt ? `Resolved ${fmt.when(i.resolvedAt)}` : h('span', { class: 'badge ongoing', text: 'Ongoing' })),
            h('td', { class: 'num', text: fmt.count(i.peak) }),
            h('td', { class: 'num', text: i.detected ? fmt.count(i.detected.data.baselineMean) : '—' }),
            h('td', { class: 'num', text: i.detected ? (i.detected.data.zScore ?? 0).toFixed(1) : '—' }))))
        : h('p', { class: 'empty', text: `No incident detected ${ctx.at ? `before ${fmt.when(ctx.at)}` : 'yet'}. Spike detection watches every outage report as it arrives.` }));
    } catch (error) {
      if (!ctx.signal.aborted) replace(box, failure(error, 'incidents'));
    }
  }

  load();
  if (!ctx.at) {
    const refresh = live.throttle(load, 1000);
    ctx.onCleanup(live.on('incident', refresh));
    ctx.onCleanup(() => refresh.cancel());
  }
  return {};
}
