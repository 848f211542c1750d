// The HTTP API (docs/api.md), read with fetch. Errors are application/problem+json.

export class ApiError extends Error {
  constructor(status, title, detail) {
    super(detail || title || `HTTP ${status}`);
    this.status = status;
    this.title = title;
  }
}

export async function get(path, params = {}, signal = undefined) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== '') query.set(key, String(value));
  }
  const url = query.size ? `${path}?${query}` : path;
  const response = await fetch(url, { headers: { Accept: 'application/json' }, signal });
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
