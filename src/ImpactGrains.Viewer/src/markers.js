// The events a history chart marks: for an entity, its own events and those of the entities linked into it (its
// inherited impact) that occurred within the chart's range, from /events; each with its contribution to the score at
// the chart's end, from /explain. For a group, the same for its members, through the group's explanation.
import { api, justAfter } from './api.js';
import * as fmt from './format.js';
import { namesOf } from './names.js';

/** The most events read per entity for one chart; beyond, the oldest in the range are left out and the caption says so. */
export const maxEventsPerEntity = 2000;
/** The most linked entities (heaviest links first) or group members (largest shares first) whose events are read. */
export const maxSources = 12;

/**
 * The events of one entity that occurred in [from, to], newest first, paging /events back from `to`.
 * Returns { events, complete } where complete is false when the cap cut the range short.
 */
export async function eventsInRange(entity, from, to, signal, cap = maxEventsPerEntity) {
  const start = Date.parse(from);
  const pageSize = 1000;
  const events = [];
  const seen = new Set();
  const result = (complete) => ({ events: events.slice(0, cap), complete: complete && events.length <= cap });
  let before = justAfter(to);
  for (;;) {
    const page = (await api.events(entity, { limit: pageSize, before }, signal)).events;
    let fresh = 0;
    for (const e of page) {
      if (seen.has(e.id)) continue;
      seen.add(e.id);
      fresh++;
      if (Date.parse(e.occurredAt) >= start) events.push(e);
    }
    const oldest = page[page.length - 1];
    if (page.length < pageSize || !oldest || Date.parse(oldest.occurredAt) < start) return result(true);
    if (events.length >= cap || fresh === 0) return result(false); // fresh 0: a whole page shares one instant
    // Just after the oldest instant, so that events sharing it are not skipped; repeats are dropped above.
    before = justAfter(oldest.occurredAt);
  }
}

function marker(event, { entity, member, own, contribution, names }) {
  return {
    key: `${member ?? ''}|${event.id ?? event.eventId}`,
    id: event.id ?? event.eventId,
    type: event.type,
    category: event.category ?? fmt.categoryOf(event.type),
    occurredAt: event.occurredAt,
    time: Date.parse(event.occurredAt),
    entity,
    entityName: names.get(entity) ?? entity,
    member,
    memberName: member ? names.get(member) ?? member : null,
    own,
    region: event.region ?? null,
    summary: event.data ? fmt.eventSummary(event) : '',
    contribution,
  };
}

/**
 * The markers for an entity's chart over [from, to]. links are the entity's links (from GET /api/entities/{id}).
 * Returns { markers, notes } where notes say what was left out, if anything.
 */
export async function entityMarkers(id, links, { from, to, signal }) {
  const sources = links
    .filter((l) => l.to === id && l.from !== id)
    .sort((a, b) => b.weight - a.weight || a.from.localeCompare(b.from));
  const read = [id, ...sources.slice(0, maxSources).map((l) => l.from)];
  const [explained, ...lists] = await Promise.all([
    api.explain(id, to, 1000, signal),
    ...read.map((entity) => eventsInRange(entity, from, to, signal)),
  ]);
  const contributions = new Map(explained.contributions.map((c) => [c.eventId, c.contribution]));
  const floor = explained.contributions.length >= 1000 ? explained.contributions[explained.contributions.length - 1].contribution : 0;
  const names = await namesOf(read);
  const markers = [];
  lists.forEach(({ events }, i) => {
    for (const event of events) {
      markers.push(marker(event, {
        entity: read[i], member: null, own: i === 0, contribution: contributions.get(event.id) ?? null, names,
      }));
    }
  });
  const notes = [];
  if (lists.some((l) => !l.complete)) notes.push(`only the latest ${fmt.count(maxEventsPerEntity)} events of each entity in this range are marked`);
  if (sources.length > maxSources) notes.push(`events inherited from the ${maxSources} most heavily linked of ${sources.length} entities are marked`);
  return { markers: markers.sort((a, b) => a.time - b.time), notes, floor };
}

/**
 * The markers for a group's chart over [from, to]: the events behind the group's score at `to` (its explanation)
 * that occurred in the range, and the own events of its largest members, with their regions and details.
 */
export async function groupMarkers(groupId, members, { from, to, signal }) {
  const start = Date.parse(from);
  const end = Date.parse(to);
  const largest = [...members].sort((a, b) => b.share - a.share || b.score - a.score).slice(0, maxSources).map((m) => m.entity);
  const [explained, ...lists] = await Promise.all([
    api.groupExplain(groupId, to, 1000, signal),
    ...largest.map((entity) => eventsInRange(entity, from, to, signal)),
  ]);
  const details = new Map();
  lists.forEach(({ events }) => events.forEach((e) => details.set(e.id, e)));
  const inRange = explained.contributions.filter((c) => {
    const t = Date.parse(c.occurredAt);
    return t >= start && t <= end;
  });
  const names = await namesOf([...largest, ...inRange.flatMap((c) => [c.member, c.entity])]);
  const byKey = new Map();
  for (const c of inRange) {
    const m = marker({ ...c, ...(details.get(c.eventId) ?? {}), id: c.eventId, category: c.category }, {
      entity: c.entity, member: c.member, own: c.entity === c.member, contribution: c.contribution, names,
    });
    byKey.set(m.key, m);
  }
  lists.forEach(({ events }, i) => {
    for (const event of events) {
      const m = marker(event, { entity: largest[i], member: largest[i], own: true, contribution: null, names });
      if (!byKey.has(m.key)) byKey.set(m.key, m);
    }
  });
  const notes = [];
  if (lists.some((l) => !l.complete)) notes.push(`only the latest ${fmt.count(maxEventsPerEntity)} events of each member in this range are marked`);
  if (members.length > maxSources) notes.push(`events of the ${maxSources} members with the largest shares are marked, and any other event behind the group’s score`);
  const floor = explained.contributions.length >= 1000 ? explained.contributions[explained.contributions.length - 1].contribution : 0;
  return { markers: [...byKey.values()].sort((a, b) => a.time - b.time), notes, floor };
}
