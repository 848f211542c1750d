// The header's entity search: suggestions from GET /api/entities?q= as one types (a paged, indexed search on the
// server, so it stays quick among a million entities), and Enter opens the entity meant.
import { h, replace } from './dom.js';
import * as fmt from './format.js';
import * as live from './live.js';
import { api } from './api.js';
import { link } from './state.js';

const suggestions = 10;

export function setUpEntitySearch(form) {
  const input = form.querySelector('input');
  const options = form.querySelector('datalist');
  const error = form.querySelector('.field-error');
  const byText = new Map(); // lower-case id or name shown -> id

  const suggest = live.throttle(async () => {
    const text = input.value.trim();
    if (!text) return;
    try {
      const found = await api.searchEntities(text, suggestions);
      if (input.value.trim() !== text) return;
      for (const e of found) {
        byText.set(e.id, e.id);
        byText.set(e.name.toLowerCase(), e.id);
      }
      replace(options, found.map((e) => h('option', { value: e.id, text: `${e.name} (${fmt.kindLabel(e.kind)})` })));
    } catch {
      // suggestions are a help, not a need
    }
  }, 250);
  input.addEventListener('input', () => {
    error.textContent = '';
    suggest();
  });

  /** The one entity meant: one suggested, an exact id or name, or the only match. */
  async function resolve(typed) {
    const known = byText.get(typed.toLowerCase());
    if (known) return { id: known };
    const found = await api.searchEntities(typed, 20);
    const exact = found.filter((e) => e.id === typed.toLowerCase() || e.name.toLowerCase() === typed.toLowerCase());
    if (exact.length === 1) return { id: exact[0].id };
    if (found.length === 1) return { id: found[0].id };
    return { count: found.length };
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const typed = input.value.trim();
    if (!typed) return;
    try {
      const { id, count } = await resolve(typed);
      if (id) {
        error.textContent = '';
        input.value = '';
        replace(options);
        window.location.hash = link(`/entity/${id}`);
        return;
      }
      error.textContent = count === 0
        ? `No entity matches '${typed}'.`
        : `${count === 20 ? 'Many' : count} entities match '${typed}': pick one from the list.`;
    } catch {
      error.textContent = 'The search failed; try again.';
    }
  });
}
