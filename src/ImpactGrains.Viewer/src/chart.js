// The score history charts: uPlot (a small, well-kept time-series library) draws them on a canvas. Everything a chart
// shows is also offered as text: a summary, the numbers as a table, and the events it marks as buttons (one Tab stop,
// arrow keys within) and as a table.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h, replace, table, visuallyHidden } from './dom.js';
import * as fmt from './format.js';
import { rovingFocus } from './roving.js';
import { chartColors, seriesStyles, onThemeChange } from './theme.js';

export const ranges = [
  { key: '24h', label: '24 hours', span: 24 * 3600e3, step: 'PT15M' },
  { key: '7d', label: '7 days', span: 7 * 86400e3, step: 'PT1H' },
  { key: '30d', label: '30 days', span: 30 * 86400e3, step: 'PT6H' },
  { key: '90d', label: '90 days', span: 90 * 86400e3, step: 'P1D' },
];

export const rangeOf = (key) => ranges.find((r) => r.key === key) ?? ranges[1];

/**
 * The millisecond at or just after an instant: an event's own instant (7 fractional digits from the API) rounded up,
 * so that a chart ending there still counts the event. JavaScript dates keep milliseconds only.
 */
export function ceilToMillisecond(iso) {
  const ms = Date.parse(iso);
  const fraction = /\.(\d+)/.exec(iso)?.[1] ?? '';
  return /[1-9]/.test(fraction.slice(3)) ? ms + 1 : ms;
}

/** from, to and step for /history, ending at `at` (or now). */
export function historyParams(rangeKey, at) {
  const range = rangeOf(rangeKey);
  const to = at ? new Date(ceilToMillisecond(at)) : new Date();
  const from = new Date(to.getTime() - range.span);
  return { from: from.toISOString(), to: to.toISOString(), step: range.step };
}

/** A radio group choosing the time range. */
export function rangePicker(current, onChange, name = 'range') {
  return h('fieldset', { class: 'segmented' },
    h('legend', { text: 'Time range' }),
    ranges.map((range) => {
      const id = `${name}-${range.key}`;
      return h('span', { class: 'segment' },
        h('input', { type: 'radio', id, name, value: range.key, checked: range.key === current, onchange: () => onChange(range.key) }),
        h('label', { for: id, text: range.label }));
    }));
}

/**
 * The event whose marker was just used to show its moment: the chart of the page that moment opens puts focus back
 * on that event's marker, so that a keyboard user stays where they were.
 */
let refocus = null; // { id, until }

const timeLabel = (seconds) => fmt.when(new Date(seconds * 1000).toISOString());
const phone = () => window.matchMedia('(max-width: 600px)').matches;

/** Axes whose colours are read from the stylesheet at each draw, so that a switch to dark mode recolours them. */
function axes(colors) {
  const axis = () => ({
    stroke: () => colors().text,
    grid: { stroke: () => colors().grid, width: 1 },
    ticks: { stroke: () => colors().ticks },
  });
  return [axis(), { ...axis(), label: 'Score (0–100)', size: 50 }];
}

/**
 * Creates a uPlot in box from makeOptions(width, height) and data(), keeps it sized to the box, and builds it anew
 * when the colour scheme changes. Returns { plot(), setData(data), destroy() }.
 */
function livePlot(box, makeOptions, data, onBuild) {
  let plot = null;
  const width = () => Math.max(260, Math.floor(box.clientWidth || 600));
  const height = () => (phone() ? 220 : 280);
  function build() {
    plot?.destroy();
    plot = new uPlot(makeOptions(width(), height()), data(), box);
    plot.root.querySelector('.u-legend')?.setAttribute('aria-hidden', 'true'); // a mouse readout; the table says the same
    onBuild?.(plot);
  }
  build();
  const observer = new ResizeObserver(() => {
    if (plot.width !== width()) plot.setSize({ width: width(), height: height() });
  });
  observer.observe(box);
  const stopTheme = onThemeChange(build);
  return {
    plot: () => plot,
    setData: (next) => plot.setData(next),
    destroy() {
      stopTheme();
      observer.disconnect();
      plot.destroy();
    },
  };
}

function summaryOf(label, points) {
  if (!points.length) return 'No points in this range.';
  const scores = points.map((p) => p.score);
  return `${label} from ${fmt.when(points[0].at)} to ${fmt.when(points[points.length - 1].at)}: ` +
    `started at ${fmt.score(scores[0])}, peaked at ${fmt.score(Math.max(...scores))}, ended at ${fmt.score(scores[scores.length - 1])} (scores 0–100).`;
}

function pointsTable(label, points) {
  return table(`${label} at each point`, ['Time', 'Score (0–100)'],
    points.map((p) => h('tr', null, h('td', { text: fmt.when(p.at) }), h('td', { class: 'num', text: fmt.score(p.score) }))));
}

/**
 * The score history of one entity or group, with the events behind it marked where they occurred.
 * points: [{at, score}]. markers: from markers.js (or null for none). onPick(isoInstant) shows a moment; it is called
 * for a click on the chart and for a marker (with the event's own instant, so that the event counts). momentHref(at)
 * is the link to that moment for the table of events; asOf says whether the chart ends in the past ('then', not 'now').
 * Returns { update(points, markers, notes), destroy() }.
 */
export function scoreChart(container, points, { label = 'Score', onPick, momentHref, markers = null, notes = [], floor = 0, asOf = null } = {}) {
  let xs = [];
  let ys = [];
  let current = { points, markers, notes, floor };
  const plotBox = h('div', { class: 'chart-canvas' });
  const caption = h('figcaption', { class: 'chart-caption' });
  const numbers = h('details', { class: 'chart-table', 'data-testid': 'points-table' });
  const eventsBox = h('details', { class: 'chart-table chart-events', 'data-testid': 'marker-table' });
  const help = h('p', { class: 'marker-help', id: `marker-help-${Math.random().toString(36).slice(2)}` });
  const layer = h('div', { class: 'marker-layer', role: 'toolbar', 'aria-label': `Events on the chart of ${label}`, 'aria-describedby': help.id });
  const tip = h('div', { class: 'marker-tip', role: 'tooltip', id: `marker-tip-${Math.random().toString(36).slice(2)}`, hidden: true });
  const roving = rovingFocus(layer, 'button.marker', { onMove: (el) => showTip(el) });
  let clusters = [];
  let tipKey = null;

  container.replaceChildren(h('figure', { class: 'chart' }, plotBox, caption, help, numbers, eventsBox));

  function setAll(next) {
    current = { ...current, ...next };
    xs = current.points.map((p) => Date.parse(p.at) / 1000);
    ys = current.points.map((p) => p.score);
  }
  setAll({});

  const colors = () => chartColors();
  const makeOptions = (width, height) => ({
    width,
    height,
    scales: { x: { time: true }, y: { range: [0, 100] } },
    series: [
      { value: (u, v) => (v == null ? '—' : timeLabel(v)) },
      {
        label, stroke: () => colors().line, width: 2, fill: () => colors().fill, points: { show: false },
        value: (u, v) => (v == null ? '—' : fmt.score(v)),
      },
    ],
    axes: axes(colors),
    cursor: { drag: { x: false, y: false } },
    legend: { live: true },
    hooks: {
      draw: [(u) => layoutMarkers(u)],
      setSize: [(u) => placeLayer(u)],
    },
  });

  const chart = livePlot(plotBox, makeOptions, () => [xs, ys], (plot) => {
    plot.ctx.canvas.setAttribute('role', 'img');
    plot.ctx.canvas.setAttribute('aria-label', summaryOf(label, current.points));
    const wrap = plot.root.querySelector('.u-wrap');
    wrap.append(layer, tip);
    placeLayer(plot);
    if (onPick) {
      plot.over.addEventListener('click', () => {
        const index = plot.cursor.idx;
        if (index != null && xs[index] != null) onPick(new Date(xs[index] * 1000).toISOString());
      });
      plot.over.title = 'Click to show this moment';
    }
  });

  function placeLayer(u) {
    for (const side of ['left', 'top', 'width', 'height']) layer.style.setProperty(side, u.over.style[side]);
  }

  /** The score line's height at a time (seconds), as drawn: straight between the points either side. */
  function scoreAt(t) {
    if (!xs.length) return 0;
    if (t <= xs[0]) return ys[0];
    for (let i = 1; i < xs.length; i++) {
      if (t <= xs[i]) {
        const f = (t - xs[i - 1]) / (xs[i] - xs[i - 1]);
        return ys[i - 1] + f * (ys[i] - ys[i - 1]);
      }
    }
    return ys[ys.length - 1];
  }

  /**
   * Events whose markers would overlap share one marker that counts them: a marker stands at its first event, and
   * takes every later event closer to it than a marker's width, so that markers are always that far apart.
   */
  function cluster(u, list) {
    const gap = 22;
    const groups = [];
    for (const m of list) {
      const x = u.valToPos(m.time / 1000, 'x');
      const current = groups[groups.length - 1];
      if (current && x - current.x < gap) current.items.push(m);
      else groups.push({ x, items: [m] });
    }
    return groups;
  }

  const pointsOf = (c) => c.contribution == null ? 0 : c.contribution;
  const pointsText = (m) => {
    if (m.contribution != null) return `${fmt.score(m.contribution)} points ${asOf ? 'then' : 'now'}`;
    return current.floor > 0 ? `under ${fmt.score(current.floor)} points ${asOf ? 'then' : 'now'}` : `no longer counts ${asOf ? 'then' : 'now'}`;
  };
  const whereText = (m) => [
    m.member && m.member !== m.entity ? `through ${m.memberName}` : null,
    m.own ? (m.member ? `${m.entityName}’s own event` : 'own event') : `inherited from ${m.entityName}`,
    m.region ? fmt.regionLabel(m.region) : null,
  ].filter(Boolean).join(', ');

  function describe(c) {
    if (c.items.length === 1) {
      const m = c.items[0];
      return `${fmt.eventTypeLabel(m.type)}, ${whereText(m)}, ${fmt.when(m.occurredAt)}: ${pointsText(m)}.${m.summary ? ` ${m.summary}.` : ''} Activate to show this moment.`;
    }
    const top = [...c.items].sort((a, b) => pointsOf(b) - pointsOf(a))[0];
    const first = c.items[0];
    const last = c.items[c.items.length - 1];
    return `${c.items.length} events from ${fmt.when(first.occurredAt)} to ${fmt.when(last.occurredAt)}; the largest: ` +
      `${fmt.eventTypeLabel(top.type)}, ${whereText(top)}, ${pointsText(top)}. Activate to show the moment of the last.`;
  }

  function layoutMarkers(u) {
    placeLayer(u);
    const list = (current.markers ?? []).filter((m) => xs.length && m.time / 1000 >= xs[0] && m.time / 1000 <= xs[xs.length - 1]);
    const focusedKey = layer.contains(document.activeElement) ? document.activeElement.dataset.key : null;
    clusters = cluster(u, list);
    const colorsNow = colors();
    // Thin guides from each marker down to the time axis, on the canvas under the markers.
    const ctx = u.ctx;
    ctx.save();
    ctx.strokeStyle = colorsNow.ticks;
    ctx.setLineDash([3, 3]);
    ctx.lineWidth = 1;
    const bottom = u.bbox.top + u.bbox.height;
    for (const c of clusters) {
      const x = Math.round(u.valToPos(c.items[0].time / 1000, 'x', true)) + 0.5;
      const y = u.valToPos(scoreAt(c.items[0].time / 1000), 'y', true);
      ctx.beginPath();
      ctx.moveTo(x, y);
      ctx.lineTo(x, bottom);
      ctx.stroke();
    }
    ctx.restore();

    layer.replaceChildren(...clusters.map((c) => {
      const last = c.items[c.items.length - 1];
      const own = c.items.every((m) => m.own);
      const inherited = c.items.every((m) => !m.own);
      const total = c.items.reduce((sum, m) => sum + pointsOf(m), 0);
      const size = Math.round(12 + Math.min(12, Math.sqrt(total) * 2));
      const many = c.items.length > 1;
      const top = [...c.items].sort((a, b) => pointsOf(b) - pointsOf(a))[0];
      const button = h('button', {
        type: 'button',
        class: `marker ${many ? 'cluster' : ''} ${own ? 'own' : inherited ? 'inherited' : 'mixed'} cat-${top.category}`,
        'data-key': many ? `cluster|${c.items[0].key}` : last.key,
        'data-event': many ? null : last.id,
        'data-count': c.items.length,
        'data-at': last.occurredAt,
        'aria-label': describe(c), // says all the tooltip says
        onclick: (event) => {
          event.stopPropagation();
          refocus = { id: last.id, until: Date.now() + 10_000 };
          onPick?.(last.occurredAt);
        },
        onmouseenter: (event) => showTip(event.currentTarget),
        onmouseleave: () => hideTip(),
        onfocus: (event) => showTip(event.currentTarget),
        onblur: () => hideTip(),
        onkeydown: (event) => event.key === 'Escape' && hideTip(),
      }, h('span', { class: 'marker-shape', 'aria-hidden': 'true', text: many ? (c.items.length > 99 ? '99+' : String(c.items.length)) : '' }));
      const first = c.items[0];
      button.style.setProperty('left', `${u.valToPos(first.time / 1000, 'x').toFixed(1)}px`);
      button.style.setProperty('top', `${u.valToPos(scoreAt(first.time / 1000), 'y').toFixed(1)}px`);
      button.style.setProperty('--size', `${size}px`);
      button.cluster = c;
      return button;
    }));
    layer.hidden = clusters.length === 0;
    roving.refresh();
    if (focusedKey) {
      const again = [...layer.children].find((el) => el.dataset.key === focusedKey);
      again?.focus({ preventScroll: true });
    } else if (refocus && layer.isConnected) {
      const used = refocus.until > Date.now() ? [...layer.children].find((el) => el.cluster.items.some((m) => m.id === refocus.id)) : null;
      if (used || refocus.until <= Date.now()) refocus = null;
      used?.focus();
    }
    if (tipKey) {
      const shown = [...layer.children].find((el) => el.dataset.key === tipKey);
      if (shown) showTip(shown);
      else hideTip();
    }
  }

  function showTip(button) {
    const c = button.cluster;
    if (!c) return;
    tipKey = button.dataset.key;
    const rows = [...c.items].reverse().slice(0, 4);
    replace(tip, 
      c.items.length > 1 ? h('p', { class: 'tip-title', text: `${c.items.length} events` }) : null,
      rows.map((m) => h('div', { class: 'tip-event' },
        h('p', { class: 'tip-title' }, h('span', { class: `dot cat-${m.category}`, 'aria-hidden': 'true' }), fmt.eventTypeLabel(m.type),
          h('span', { class: 'tip-kind', text: m.own ? ' · own' : ' · inherited' })),
        h('p', { text: `${whereText(m)} · ${fmt.when(m.occurredAt)}` }),
        h('p', { class: 'tip-points', text: pointsText(m) }),
        m.summary ? h('p', { class: 'tip-summary', text: m.summary }) : null)),
      c.items.length > rows.length ? h('p', { class: 'tip-more', text: `and ${c.items.length - rows.length} more` }) : null,
      h('p', { class: 'tip-hint', text: c.items.length > 1 ? 'Click to show the moment of the last one.' : 'Click to show this moment.' }));
    tip.hidden = false;
    const wrap = tip.parentElement;
    const layerLeft = parseFloat(layer.style.left) || 0;
    const layerTop = parseFloat(layer.style.top) || 0;
    const x = layerLeft + parseFloat(button.style.left);
    const y = layerTop + parseFloat(button.style.top);
    const width = tip.offsetWidth;
    const left = Math.max(0, Math.min((wrap?.clientWidth ?? width) - width, x - width / 2));
    const above = y - tip.offsetHeight - 14;
    tip.style.setProperty('left', `${left}px`);
    tip.style.setProperty('top', `${above >= 0 ? above : y + 14}px`);
  }

  function hideTip() {
    tipKey = null;
    tip.hidden = true;
  }

  function renderText() {
    const { points: pts, markers: list, notes: extra } = current;
    const summary = summaryOf(label, pts);
    chart.plot().ctx.canvas.setAttribute('aria-label', summary);
    const inRange = (list ?? []).filter((m) => xs.length && m.time / 1000 >= xs[0] && m.time / 1000 <= xs[xs.length - 1]);
    const ownCount = inRange.filter((m) => m.own).length;
    caption.textContent = list == null ? summary
      : `${summary} ${inRange.length ? `${fmt.count(inRange.length)} event${inRange.length === 1 ? '' : 's'} marked (${fmt.count(ownCount)} own, ${fmt.count(inRange.length - ownCount)} inherited)` : 'No event in this range'}` +
        `${extra?.length ? `; ${extra.join('; ')}` : ''}.`;
    help.hidden = !inRange.length;
    help.textContent = 'Markers: a filled circle is an own event, a hollow diamond an inherited one, a numbered square several events close together; ' +
      'the larger, the more points it counts for now. Hover or focus one for details (Tab to reach them, then the arrow keys); click or press Enter to see the page at that moment.';
    numbers.replaceChildren(h('summary', { text: 'Show the numbers' }), pointsTable(label, pts));
    if (list == null) {
      eventsBox.hidden = true;
      return;
    }
    eventsBox.hidden = false;
    const newest = [...inRange].reverse();
    const shown = newest.slice(0, 300);
    eventsBox.replaceChildren(
      h('summary', { text: `Show the events marked (${fmt.count(inRange.length)})` }),
      inRange.length > shown.length ? h('p', { class: 'hint', text: `The ${shown.length} newest of ${fmt.count(inRange.length)}.` }) : null,
      table(`Events marked on the chart of ${label}`, ['When', 'Event', 'Where it happened', { text: 'Points', class: 'num' }, 'Moment'],
        shown.map((m) => h('tr', { 'data-event': m.id, class: m.own ? '' : 'inherited' },
          h('td', null, h('time', { datetime: m.occurredAt, text: fmt.when(m.occurredAt) })),
          h('th', { scope: 'row' }, h('span', { class: 'event-type', text: fmt.eventTypeLabel(m.type) }), m.summary ? h('span', { class: 'event-id', text: m.summary }) : null),
          h('td', { text: whereText(m) }),
          h('td', { class: 'num', text: m.contribution == null ? '—' : fmt.score(m.contribution) }),
          h('td', null, momentHref
            ? h('a', { href: momentHref(m.occurredAt) }, 'Show this moment', visuallyHidden(`: ${fmt.eventTypeLabel(m.type)}, ${fmt.when(m.occurredAt)}`))
            : null)))));
  }

  chart.setData([xs, ys]);
  renderText();

  return {
    update(nextPoints, nextMarkers = current.markers, nextNotes = current.notes, nextFloor = current.floor) {
      setAll({ points: nextPoints, markers: nextMarkers, notes: nextNotes, floor: nextFloor });
      chart.setData([xs, ys]);
      renderText();
    },
    destroy() {
      chart.destroy();
    },
  };
}

/**
 * Several histories on one chart, sampled at the same instants: series [{id, label, points}]. Each line has its own
 * colour and dash pattern (seriesStyles), in the order given. Returns { destroy() }.
 */
export function compareChart(container, series, { onPick } = {}) {
  const plotBox = h('div', { class: 'chart-canvas' });
  const caption = h('figcaption', { class: 'chart-caption' });
  const xs = (series[0]?.points ?? []).map((p) => Date.parse(p.at) / 1000);
  const data = [xs, ...series.map((s) => s.points.map((p) => p.score))];
  const summary = series.map((s) => {
    if (!s.points.length) return `${s.label}: no points.`;
    const scores = s.points.map((p) => p.score);
    return `${s.label}: from ${fmt.score(scores[0])} to ${fmt.score(scores[scores.length - 1])}, peak ${fmt.score(Math.max(...scores))}.`;
  }).join(' ');
  caption.textContent = xs.length
    ? `Scores (0–100) from ${timeLabel(xs[0])} to ${timeLabel(xs[xs.length - 1])}. ${summary}`
    : 'No points in this range.';
  const numbers = h('details', { class: 'chart-table' },
    h('summary', { text: 'Show the numbers' }),
    table('Scores at each point', ['Time', ...series.map((s) => ({ text: s.label, class: 'num' }))],
      xs.map((x, i) => h('tr', null, h('td', { text: timeLabel(x) }), series.map((s, j) => h('td', { class: 'num', text: fmt.score(data[j + 1][i]) }))))));
  container.replaceChildren(h('figure', { class: 'chart', 'data-series': series.map((s) => s.id).join(',') }, plotBox, caption, numbers));

  const colors = () => chartColors();
  const makeOptions = (width, height) => {
    const styles = seriesStyles();
    return {
      width,
      height,
      scales: { x: { time: true }, y: { range: [0, 100] } },
      series: [
        { value: (u, v) => (v == null ? '—' : timeLabel(v)) },
        ...series.map((s, i) => ({
          label: s.label, stroke: styles[i % styles.length].color, dash: styles[i % styles.length].dash, width: 2,
          points: { show: false }, value: (u, v) => (v == null ? '—' : fmt.score(v)),
        })),
      ],
      axes: axes(colors),
      cursor: { drag: { x: false, y: false } },
      legend: { live: true },
    };
  };
  const chart = livePlot(plotBox, makeOptions, () => data, (plot) => {
    plot.ctx.canvas.setAttribute('role', 'img');
    plot.ctx.canvas.setAttribute('aria-label', caption.textContent);
    if (onPick) {
      plot.over.addEventListener('click', () => {
        const index = plot.cursor.idx;
        if (index != null && xs[index] != null) onPick(new Date(xs[index] * 1000).toISOString());
      });
      plot.over.title = 'Click to show this moment';
    }
  });
  return { destroy: () => chart.destroy() };
}
