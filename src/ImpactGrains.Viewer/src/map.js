// The world map of impact by region: a choropleth of region scores (ISO 3166-1 alpha-2) over world-atlas's 1:110m
// country shapes (Natural Earth), read with topojson-client and drawn as SVG with a d3-geo Equal Earth projection.
// Everything is in the bundle (loaded when a page first shows a map): nothing is fetched from elsewhere. Places too
// small for these shapes get a dot where they lie (build.mjs works those out from the 1:50m shapes). GLOBAL, impact
// with no region, has no place and is shown beside the map.
import { geoEqualEarth, geoPath } from 'd3-geo';
import { feature } from 'topojson-client';
import world from 'world-atlas/countries-110m.json';
import { iso31661NumericToAlpha2 } from 'iso-3166';
import smallRegions from 'impact:small-regions';
import { h, replace, s } from './dom.js';
import * as fmt from './format.js';
import { rovingFocus } from './roving.js';

const width = 960;
const antarctica = '010';
let geometry = null;

/** The projected shapes, worked out once per page. */
function shapes() {
  if (geometry) return geometry;
  const countries = feature(world, world.objects.countries).features.filter((f) => f.id !== antarctica);
  const collection = { type: 'FeatureCollection', features: countries };
  const projection = geoEqualEarth().fitWidth(width, collection);
  const path = geoPath(projection);
  const [[x0, y0], [x1, y1]] = path.bounds(collection);
  // A label or tooltip belongs on a country's largest piece: the contiguous United States, not between it and Alaska.
  const labelPoint = (f) => {
    if (f.geometry.type !== 'MultiPolygon') return path.centroid(f);
    const pieces = f.geometry.coordinates.map((coordinates) => ({ type: 'Polygon', coordinates }));
    return path.centroid(pieces.reduce((a, b) => (path.area(a) >= path.area(b) ? a : b)));
  };
  const drawn = countries.map((f) => ({
    code: iso31661NumericToAlpha2[f.id] ?? null,
    name: f.properties.name,
    d: path(f),
    at: labelPoint(f),
  }));
  const inside = ([x, y]) => x >= x0 && x <= x1 && y >= y0 && y <= y1;
  const dots = new Map();
  for (const [code, lonLat] of Object.entries(smallRegions)) {
    const point = projection(lonLat);
    if (point && inside(point)) dots.set(code, point);
  }
  geometry = {
    viewBox: `${Math.floor(x0)} ${Math.floor(y0)} ${Math.ceil(x1 - x0)} ${Math.ceil(y1 - y0)}`,
    byCode: new Map(drawn.filter((c) => c.code).map((c) => [c.code, c])),
    drawn,
    dots,
  };
  return geometry;
}

/** Whether a region can be placed on the map (as a shape or a dot). */
export function onMap(code) {
  const g = shapes();
  return g.byCode.has(code) || g.dots.has(code);
}

/**
 * A map of region scores in container. label (a string or a function) names whose scores they are ("Tesla’s score"); regionHref(code) is
 * where a region leads (the leaderboard ranked by it). Returns { update(regions), highlight(code|null) }.
 */
export function worldMap(container, { label: labelOf, regionHref }) {
  const g = shapes();
  const labelText = () => (typeof labelOf === 'function' ? labelOf() : labelOf) ?? 'the score';
  const tip = h('div', { class: 'map-tip', role: 'tooltip', id: `map-tip-${Math.random().toString(36).slice(2)}`, hidden: true });
  const base = s('g', { class: 'map-base', 'aria-hidden': 'true' });
  const hit = s('g', { class: 'map-hit' });
  const outline = s('path', { class: 'map-outline', 'aria-hidden': 'true', d: '' });
  const labels = s('g', { class: 'map-labels', 'aria-hidden': 'true' });
  const svg = s('svg', { class: 'map-svg', viewBox: g.viewBox, role: 'group', preserveAspectRatio: 'xMidYMid meet' }, base, hit, outline, labels);
  const figure = h('div', { class: 'map-figure', 'data-testid': 'map' }, svg, tip);
  const global = h('div', { class: 'map-global', 'data-testid': 'map-global' });
  const legend = h('div', { class: 'map-legend' });
  const offMap = h('p', { class: 'map-offmap hint', 'data-testid': 'map-offmap' });
  const help = h('p', { class: 'hint map-help', id: `map-help-${Math.random().toString(36).slice(2)}`,
    text: 'Hover or focus a country for its score (Tab reaches the map, the arrow keys move between the regions hit, largest first); click or press Enter to rank entities by their impact there.' });
  svg.setAttribute('aria-describedby', help.id);
  container.replaceChildren(h('div', { class: 'map' }, figure, h('div', { class: 'map-side' }, global, legend, offMap)), help);
  const roving = rovingFocus(hit, 'a.region', { onMove: (el) => show(el) });
  let scores = new Map();
  let ranking = [];
  let tipCode = null;
  let labelWidth = 0;

  /**
   * Names on the map for the regions hit hardest, so that the map reads without its colours, at least 11 px tall
   * however small the map is drawn; a label that would cover one already placed is left out (the region keeps its
   * tooltip and its row in the table).
   */
  function drawLabels() {
    const viewWidth = Number(g.viewBox.split(' ')[2]);
    labelWidth = svg.clientWidth || viewWidth;
    const size = Math.max(15, (11 * viewWidth) / labelWidth);
    const placed = [];
    labels.replaceChildren(...ranking.slice(0, 12).flatMap((code) => {
      const [x, y] = place(code);
      const text = `${code} ${fmt.score(scores.get(code))}`;
      const half = text.length * size * 0.31;
      const box = { left: x - half, right: x + half, top: y - size * 0.55, bottom: y + size * 0.6 };
      if (placed.length >= 6 || placed.some((b) => box.left < b.right && b.left < box.right && box.top < b.bottom && b.top < box.bottom)) return [];
      placed.push(box);
      const label = s('text', { x: x.toFixed(1), y: (y + size / 3).toFixed(1), class: 'map-label', 'text-anchor': 'middle', text });
      label.style.setProperty('font-size', `${size.toFixed(1)}px`);
      label.style.setProperty('stroke-width', `${(size / 4).toFixed(1)}px`);
      return [label];
    }));
  }
  const resized = new ResizeObserver(() => {
    if (!figure.isConnected) resized.disconnect(); // the page moved on
    else if (svg.clientWidth && Math.abs(svg.clientWidth - labelWidth) > 20) drawLabels();
  });
  resized.observe(figure);

  legend.replaceChildren(h('p', { class: 'map-legend-title', text: 'Score in the region (0–100)' }),
    h('ul', { class: 'map-legend-list' }, [...fmt.regionBins].reverse().map((b) => h('li', null,
      h('span', { class: `swatch bin-${b.bin}`, 'aria-hidden': 'true' }), b.label)),
    h('li', null, h('span', { class: 'swatch bin-0', 'aria-hidden': 'true' }), 'no impact')));

  function place(code) {
    const shape = g.byCode.get(code);
    if (shape) return shape.at;
    return g.dots.get(code) ?? null;
  }

  function describe(code, score, rank, total) {
    return `${fmt.regionLabel(code)}: ${fmt.score(score)} out of 100, ${ordinal(rank)} of ${total} region${total === 1 ? '' : 's'} hit`;
  }

  function show(el) {
    const code = el.dataset.region;
    const score = scores.get(code) ?? 0;
    const ranked = [...scores.entries()].filter(([c]) => c !== 'GLOBAL').sort((a, b) => b[1] - a[1]);
    const rank = ranked.findIndex(([c]) => c === code) + 1;
    tipCode = code;
    replace(tip, 
      h('p', { class: 'tip-title', text: fmt.regionLabel(code) }),
      h('p', { class: 'tip-points', text: `${fmt.score(score)} / 100` }),
      h('p', { text: `${ordinal(rank)} of ${ranked.length} region${ranked.length === 1 ? '' : 's'} hit · ${labelText()}` }),
      regionHref ? h('p', { class: 'tip-hint', text: `Click to rank entities by their impact in ${fmt.regionName(code)}.` }) : null);
    tip.hidden = false;
    highlight(code);
    const point = place(code);
    if (!point) return;
    const box = svg.getBoundingClientRect();
    const frame = figure.getBoundingClientRect();
    const [vx, vy, vw, vh] = g.viewBox.split(' ').map(Number);
    const scale = Math.min(box.width / vw, box.height / vh);
    const x = box.left - frame.left + (box.width - vw * scale) / 2 + (point[0] - vx) * scale;
    const y = box.top - frame.top + (box.height - vh * scale) / 2 + (point[1] - vy) * scale;
    const tipWidth = tip.offsetWidth;
    tip.style.setProperty('left', `${Math.max(0, Math.min(figure.clientWidth - tipWidth, x - tipWidth / 2))}px`);
    const above = y - tip.offsetHeight - 12;
    tip.style.setProperty('top', `${above >= 0 ? above : y + 12}px`);
  }

  function hide() {
    tipCode = null;
    tip.hidden = true;
    highlight(null);
  }

  /** Outlines a region (from the map or its table); null clears it. */
  function highlight(code) {
    const shape = code ? g.byCode.get(code) : null;
    const dot = code && !shape ? g.dots.get(code) : null;
    outline.setAttribute('d', shape ? shape.d : dot ? `M${dot[0] - 7},${dot[1]}a7,7 0 1,0 14,0a7,7 0 1,0 -14,0` : '');
  }

  function update(regions) {
    scores = new Map(Object.entries(regions ?? {}).filter(([, v]) => v > 0));
    const focusedCode = hit.contains(document.activeElement) ? document.activeElement.dataset.region : null;
    const hitCodes = [...scores.keys()].filter((c) => c !== 'GLOBAL' && place(c));
    const ranked = hitCodes.sort((a, b) => scores.get(b) - scores.get(a) || a.localeCompare(b));
    const total = ranked.length;

    base.replaceChildren(...g.drawn.map((c) => s('path', { d: c.d, class: 'country bin-0' })));
    hit.replaceChildren(...ranked.map((code, i) => {
      const score = scores.get(code);
      const shape = g.byCode.get(code);
      const point = g.dots.get(code);
      const mark = shape
        ? s('path', { d: shape.d, class: `country bin-${fmt.regionBin(score)}` })
        : s('circle', { cx: point[0].toFixed(1), cy: point[1].toFixed(1), r: 5, class: `country dot bin-${fmt.regionBin(score)}` });
      return s('a', {
        class: 'region', href: regionHref ? regionHref(code) : null, role: regionHref ? null : 'img',
        'data-key': code, 'data-region': code, 'data-bin': fmt.regionBin(score), 'data-score': fmt.score(score),
        'aria-label': describe(code, score, i + 1, total), // says all the tooltip says
        onmouseenter: (event) => show(event.currentTarget), onmouseleave: hide,
        onfocus: (event) => show(event.currentTarget), onblur: hide,
        onkeydown: (event) => event.key === 'Escape' && hide(),
      }, mark);
    }));
    ranking = ranked;
    drawLabels();
    svg.setAttribute('aria-label', total
      ? `World map of ${labelText()} by region: ${total} region${total === 1 ? '' : 's'} hit, the worst ${fmt.regionLabel(ranked[0])} at ${fmt.score(scores.get(ranked[0]))}.`
      : `World map of ${labelText()} by region: no region is hit.`);
    roving.refresh();
    if (focusedCode) [...hit.children].find((el) => el.dataset.region === focusedCode)?.focus({ preventScroll: true });
    if (tipCode) {
      const el = [...hit.children].find((a) => a.dataset.region === tipCode);
      if (el) show(el);
      else hide();
    }

    const globalScore = scores.get('GLOBAL');
    global.replaceChildren(
      h('p', { class: 'map-global-title', text: 'Global (no region)' }),
      h('p', { class: 'map-global-value' },
        h('span', { class: `swatch bin-${fmt.regionBin(globalScore ?? 0)}`, 'aria-hidden': 'true' }),
        h('strong', { text: globalScore ? fmt.score(globalScore) : '0.0' }), ' / 100'),
      h('p', { class: 'hint', text: 'Events reported without a region: they count everywhere and have no place on the map.' }));
    global.dataset.score = fmt.score(globalScore ?? 0);
    const unplaced = [...scores.keys()].filter((c) => c !== 'GLOBAL' && !place(c)).sort();
    offMap.hidden = unplaced.length === 0;
    offMap.textContent = unplaced.length
      ? `Not on the map: ${unplaced.map((c) => `${fmt.regionLabel(c)} ${fmt.score(scores.get(c))}`).join(', ')}.`
      : '';
  }

  return { update, highlight };
}

function ordinal(n) {
  const rules = new Intl.PluralRules('en', { type: 'ordinal' });
  const suffix = { one: 'st', two: 'nd', few: 'rd', other: 'th' }[rules.select(n)];
  return `${n}${suffix}`;
}
