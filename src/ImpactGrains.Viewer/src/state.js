// The route and the "as of" instant live in the location hash: #/entity/tesla?at=2026-11-26T12:00:00.000Z&range=7d.
// A link keeps the instant, so moving around the past stays in the past.

export function parseHash(hash = location.hash) {
  const raw = hash.replace(/^#/, '') || '/';
  const [pathPart, queryPart = ''] = raw.split('?');
  const segments = pathPart.split('/').filter(Boolean).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  const params = Object.fromEntries(new URLSearchParams(queryPart));
  if (params.at && Number.isNaN(Date.parse(params.at))) delete params.at;
  return { segments, params };
}

/** The instant shown, as an ISO string, or null for live. */
export const currentAt = () => parseHash().params.at ?? null;

/** A hash link to a view, keeping the current instant unless params says otherwise. */
export function link(path, params = {}) {
  const merged = { at: currentAt(), ...params };
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(merged)) {
    if (value !== null && value !== undefined && value !== '') query.set(key, String(value));
  }
  // Commas stay as they are: #/compare/tesla,x lists entities.
  const encoded = path.split('/').map((s) => encodeURIComponent(s).replace(/%2C/g, ',')).join('/');
  return `#${encoded}${query.size ? `?${query}` : ''}`;
}

/** Changes some parameters of the current view (null removes one). */
export function setParams(changes, { replaceHistory = false } = {}) {
  const { segments, params } = parseHash();
  const next = { ...params, ...changes };
  const target = link(`/${segments.join('/')}`, next);
  if (replaceHistory) {
    history.replaceState(null, '', target);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    location.hash = target;
  }
}
