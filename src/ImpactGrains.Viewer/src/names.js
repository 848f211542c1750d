// Entity names for ids, asked one entity at a time (GET /api/entities/{id} reads only the catalog) and kept for the
// page's life: a page reads the names of the ids it shows, however many entities the store holds, rather than pages of
// the whole list.
import { api } from './api.js';

const known = new Map(); // id -> Promise<entity | null>
const parallel = 8;

function lookUp(id) {
  if (!known.has(id)) {
    const promise = api.entity(id).catch((error) => {
      if (error?.status !== 404) known.delete(id); // a passing failure: ask again next time
      return null;
    });
    known.set(id, promise);
  }
  return known.get(id);
}

/** Remembers entities already read elsewhere (a leaderboard row, an entity page). */
export function remember(entity) {
  if (entity?.id) known.set(entity.id, Promise.resolve(entity));
}

/** The entity with this id ({id, name, kind, tags, links}), or null when there is none. */
export const entityOf = (id) => lookUp(id);

/** A map id -> name for the given ids (an unknown id maps to itself), at most eight requests in flight. */
export async function namesOf(ids) {
  const unique = [...new Set(ids)];
  const names = new Map();
  let next = 0;
  async function worker() {
    while (next < unique.length) {
      const id = unique[next++];
      const entity = await lookUp(id);
      names.set(id, entity?.name ?? id);
    }
  }
  await Promise.all(Array.from({ length: Math.min(parallel, unique.length) }, worker));
  return names;
}
