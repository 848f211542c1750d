// "Where": the world map of region scores beside the same scores as a table (the map's keyboard and screen-reader
// equivalent, and its numbers). The map's code and shapes load with the first page that shows one.
import { h, replace, bar } from '../dom.js';
import * as fmt from '../format.js';
import { link } from '../state.js';
import { loading } from './common.js';

let mapModule = null;
const loadMapModule = () => (mapModule ??= import('../map.js'));

/** label: whose scores these are ("Tesla’s score"). Returns { root, update(regions) }. */
export function regionsPanel({ label, caption }) {
  const mapBox = h('div', { class: 'map-box' }, loading('the map'));
  const tableBox = h('div', { class: 'region-table', 'data-testid': 'regions' });
  const root = h('div', { class: 'where' }, mapBox, tableBox);
  let map = null;
  let latest = {};
  const regionHref = (code) => link('/', { region: code });

  loadMapModule().then((module) => {
    map = module.worldMap(mapBox, { label, regionHref });
    map.update(latest);
  }).catch((error) => {
    replace(mapBox, h('p', { class: 'error', role: 'alert', text: `The map could not be loaded (${error?.message ?? error}); the table lists the same scores.` }));
  });

  function renderTable(regions) {
    const entries = Object.entries(regions ?? {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    if (!entries.length) {
      replace(tableBox, h('p', { class: 'empty', text: 'No region is hit.' }));
      return;
    }
    replace(tableBox, h('table', { class: 'breakdown regions' },
      h('caption', { class: 'visually-hidden', text: caption }),
      h('thead', { class: 'visually-hidden' }, h('tr', null, h('th', { scope: 'col', text: 'Region' }), h('th', { scope: 'col', text: 'Score (0–100)' }))),
      h('tbody', null, entries.map(([code, value]) => h('tr', {
        'data-region': code,
        onmouseenter: () => map?.highlight(code),
        onmouseleave: () => map?.highlight(null),
      },
      h('th', { scope: 'row' },
        h('span', { class: `swatch bin-${fmt.regionBin(value)}`, 'aria-hidden': 'true' }),
        h('a', { href: regionHref(code), text: fmt.regionLabel(code), title: `Rank entities by their impact in ${fmt.regionName(code)}` })),
      h('td', null, bar(value), h('span', { class: 'num', text: fmt.score(value) })))))));
  }

  return {
    root,
    update(regions) {
      latest = regions ?? {};
      renderTable(latest);
      map?.update(latest);
    },
  };
}
