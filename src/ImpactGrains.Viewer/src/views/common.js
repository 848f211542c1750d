// Pieces shared by the views.
import { h, bar } from '../dom.js';
import * as fmt from '../format.js';
import { link } from '../state.js';

export function pageHeader(title, intro, ...extra) {
  return h('div', { class: 'page-header' },
    h('h1', { tabindex: -1, text: title }),
    intro ? h('p', { class: 'intro', text: intro }) : null,
    extra);
}

export function section(title, intro, ...children) {
  const id = `s-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return h('section', { class: 'panel', 'aria-labelledby': id },
    h('h2', { id, text: title }),
    intro ? h('p', { class: 'hint', text: intro }) : null,
    children);
}

export const loading = (what) => h('p', { class: 'loading', role: 'status', text: `Loading ${what}…` });

export function failure(error, what) {
  const message = error?.status === 404 ? `There is no such ${what}.` : `Could not load the ${what}: ${error?.message ?? error}`;
  return h('div', { class: 'error', role: 'alert' }, h('p', { text: message }), h('p', null, h('a', { href: link('/'), text: 'Back to the leaderboard' })));
}

export const entityLink = (id, name) => h('a', { href: link(`/entity/${id}`), text: name ?? id });

export const groupLink = (id, name) => h('a', { href: link(`/group/${id}`), text: name ?? id });

/** A stat card: label, big value with unit, small note. */
export function stat(label, value, unit, note, { tone = '', testid } = {}) {
  return h('div', { class: `stat ${tone}`, 'data-testid': testid },
    h('div', { class: 'stat-label', text: label }),
    h('div', { class: 'stat-value' }, h('span', { class: 'stat-number', text: value }), unit ? h('span', { class: 'stat-unit', text: ` ${unit}` }) : null),
    note ? h('div', { class: 'stat-note', text: note }) : null);
}

export const trendTone = (value) => (value > 0.05 ? 'worse' : value < -0.05 ? 'better' : '');

/** Labelled bars for a map {key: score}, largest first. */
export function breakdown(values, labelOf, caption, colorOf = () => '') {
  const entries = Object.entries(values ?? {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (!entries.length) return h('p', { class: 'empty', text: 'Nothing yet.' });
  return h('table', { class: 'breakdown' },
    h('caption', { class: 'visually-hidden', text: caption }),
    h('thead', { class: 'visually-hidden' }, h('tr', null, h('th', { scope: 'col', text: 'Part' }), h('th', { scope: 'col', text: 'Score (0–100)' }))),
    h('tbody', null, entries.map(([key, value]) => h('tr', null,
      h('th', { scope: 'row', text: labelOf(key) }),
      h('td', null, bar(value, null, colorOf(key)), h('span', { class: 'num', text: fmt.score(value) }))))));
}

export const categoryColor = (category) => `cat-${category}`;

/** "Scores as of now" or "as of 26 Nov 2026, 14:00". */
export const asOfText = (at) => (at ? `as of ${fmt.when(at)}` : 'now');

/**
 * Wraps a loader so that only the most recently started call may apply its result: a slow answer for the old time
 * range (a live refresh started before the user picked another range) must not paint over the new one.
 * The loader receives `isCurrent()` and checks it after each await, before touching the page.
 */
export function latestOnly(loader) {
  let generation = 0;
  return (...args) => {
    const mine = ++generation;
    return loader(() => mine === generation, ...args);
  };
}
