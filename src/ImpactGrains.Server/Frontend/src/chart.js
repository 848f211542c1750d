// The score history chart: uPlot (a small, well-kept time-series library) draws it; the numbers are also offered as a
// summary and a table for screen readers and keyboards.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h, table } from './dom.js';
import * as fmt from './format.js';

export const ranges = [
  { key: '24h', label: '24 hours', span: 24 * 3600e3, step: 'PT15M' },
  { key: '7d', label: '7 days', span: 7 * 86400e3, step: 'PT1H' },
  { key: '30d', label: '30 days', span: 30 * 86400e3, step: 'PT6H' },
  { key: '90d', label: '90 days', span: 90 * 86400e3, step: 'P1D' },
];

export const rangeOf = (key) => ranges.find((r) => r.key === key) ?? ranges[1];

/** from, to and step for /history, ending at `at` (or now). */
export function historyParams(rangeKey, at) {
  const range = rangeOf(rangeKey);
  const to = at ? new Date(Date.parse(at)) : new Date();
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
 * Draws points [{at, score}] into container. onPick(isoInstant) is called when a point is clicked (to show that
 * moment). Returns { destroy }.
 */
export function scoreChart(container, points, { label = 'Score', onPick } = {}) {
  const xs = points.map((p) => Date.parse(p.at) / 1000);
  const ys = points.map((p) => p.score);
  const plotBox = h('div', { class: 'chart-canvas' });
  const scores = ys.length ? ys : [0];
  const first = scores[0];
  const lastValue = scores[scores.length - 1];
  const max = Math.max(...scores);
  const summary = points.length
    ? `${label} from ${fmt.when(points[0].at)} to ${fmt.when(points[points.length - 1].at)}: ` +
      `started at ${fmt.score(first)}, peaked at ${fmt.score(max)}, ended at ${fmt.score(lastValue)} (scores 0–100).`
    : 'No points in this range.';
  container.replaceChildren(
    h('figure', { class: 'chart' },
      h('div', { role: 'img', 'aria-label': summary }, plotBox),
      h('figcaption', { class: 'chart-caption', text: summary }),
      h('details', { class: 'chart-table' },
        h('summary', { text: 'Show the numbers' }),
        table(`${label} at each point`, ['Time', 'Score (0–100)'],
          points.map((p) => h('tr', null, h('td', { text: fmt.when(p.at) }), h('td', { class: 'num', text: fmt.score(p.score) })))))));

  const width = () => Math.max(260, Math.floor(plotBox.clientWidth || container.clientWidth || 600));
  const height = () => (window.matchMedia('(max-width: 600px)').matches ? 200 : 260);
  const options = {
    width: width(),
    height: height(),
    scales: { x: { time: true }, y: { range: [0, 100] } },
    series: [
      { value: (u, v) => (v == null ? '—' : fmt.when(new Date(v * 1000).toISOString())) },
      { label, stroke: '#b42318', width: 2, fill: 'rgba(180, 35, 24, 0.10)', points: { show: false }, value: (u, v) => (v == null ? '—' : fmt.score(v)) },
    ],
    axes: [
      { stroke: '#3d3d3d', grid: { stroke: '#e3e3e3', width: 1 }, ticks: { stroke: '#c8c8c8' } },
      { stroke: '#3d3d3d', grid: { stroke: '#e3e3e3', width: 1 }, ticks: { stroke: '#c8c8c8' }, label: 'Score (0–100)', size: 50 },
    ],
    cursor: { drag: { x: false, y: false } },
    legend: { live: true },
  };
  const plot = new uPlot(options, [xs, ys], plotBox);
  if (onPick) {
    plot.over.addEventListener('click', () => {
      const index = plot.cursor.idx;
      if (index != null && xs[index] != null) onPick(new Date(xs[index] * 1000).toISOString());
    });
    plot.over.title = 'Click to show this moment';
  }
  const observer = new ResizeObserver(() => plot.setSize({ width: width(), height: height() }));
  observer.observe(plotBox);
  return {
    destroy() {
      observer.disconnect();
      plot.destroy();
    },
  };
}
