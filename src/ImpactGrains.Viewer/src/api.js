// The HTTP API (docs/api.md), read with fetch. Errors are application/problem+json.

export class ApiError extends Error {
  constructor(status, title, detail) {
    super(detail || title || `HTTP ${status}`);
    this.status = status;
    this.title = title;
  }
}

// The API key, when the server asks for one: kept for this browser tab only (sessionStorage), sent as X-Api-Key.
const keyStorage = 'impactgrains.apiKey';
const keyListeners = new Set();
const unauthorizedListeners = new Set();

function storedKey() {
  try {
    return sessionStorage.getItem(keyStorage);
  } catch {
    return null; // storage switched off
  }
}

let apiKey = storedKey();

export const authHeaders = () => (apiKey ? { 'X-Api-Key': apiKey } : {});

export const hasApiKey = () => Boolean(apiKey);

export function setApiKey(key) {
  apiKey = key || null;
  try {
    if (apiKey) sessionStorage.setItem(keyStorage, apiKey);
    else sessionStorage.removeItem(keyStorage);
  } catch {
    // kept in memory only
  }
  for (const listener of keyListeners) listener();
}

export function onKeyChange(listener) {
  keyListeners.add(listener);
  return () => keyListeners.delete(listener);
}

/** Tells the page that the server wants a (better) key: 401 or 403. */
export function reportUnauthorized(status) {
  for (const listener of unauthorizedListeners) listener(status);
}

export function onUnauthorized(listener) {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export async function get(path, params = {}, signal = undefined) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== '') query.set(key, String(value));
  }
  const url = query.size ? `${path}?${query}` : path;
  // no-cache: revalidate every time (the server answers 304 to its own ETag): the viewer reloads on live events and must
  // not be answered from the browser's cache of a second ago.
  const response = await fetch(url, { headers: { Accept: 'application/json', ...authHeaders() }, cache: 'no-cache', signal });
  if (response.status === 401 || response.status === 403) reportUnauthorized(response.status);
  if (!response.ok) {
    let problem = {};
    try {
      problem = await response.json();
    } catch {
      // not JSON
    }
    throw new ApiError(response.status, problem.title, problem.detail);
  }
  return response.json();
}

const enc = encodeURIComponent;

export const api = {
  leaderboard: (params, signal) => get('/api/leaderboard', params, signal),
  entities: (signal) => get('/api/entities', {}, signal),
  searchEntities: (q, limit, signal) => get('/api/entities', { q, limit }, signal),
  entity: (id, signal) => get(`/api/entities/${enc(id)}`, {}, signal),
  impact: (id, at, signal) => get(`/api/entities/${enc(id)}/impact`, { at }, signal),
  explain: (id, at, limit, signal) => get(`/api/entities/${enc(id)}/explain`, { at, limit }, signal),
  history: (id, params, signal) => get(`/api/entities/${enc(id)}/history`, params, signal),
  events: (id, params, signal) => get(`/api/entities/${enc(id)}/events`, params, signal),
  groups: (signal) => get('/api/groups', {}, signal),
  groupImpact: (id, at, signal) => get(`/api/groups/${enc(id)}/impact`, { at }, signal),
  groupExplain: (id, at, limit, signal) => get(`/api/groups/${enc(id)}/explain`, { at, limit }, signal),
  groupHistory: (id, params, signal) => get(`/api/groups/${enc(id)}/history`, params, signal),
  alerts: (params, signal) => get('/api/alerts', params, signal),
  alertRules: (signal) => get('/api/alert-rules', {}, signal),
};

/** `before` for routes that list what happened strictly before an instant: just after `at`, so `at` itself counts. */
export function justAfter(at) {
  return at ? new Date(Date.parse(at) + 1).toISOString() : undefined;
}
