// Colours the canvas charts need, read from the stylesheet's custom properties so that light and dark mode are
// decided in one place (style.css); charts subscribe to hear when the reader's colour scheme changes.

const scheme = window.matchMedia('(prefers-color-scheme: dark)');
const listeners = new Set();
scheme.addEventListener('change', () => {
  for (const listener of listeners) listener();
});

/** Calls listener whenever light and dark mode switch; returns the unsubscribe function. */
export function onThemeChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export const isDark = () => scheme.matches;

/** The value of a custom property of the page, such as '--text'. */
export function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** The colours of axes, grid and the score line, as the stylesheet sets them now. */
export function chartColors() {
  return {
    text: cssVar('--chart-text'),
    grid: cssVar('--chart-grid'),
    ticks: cssVar('--chart-ticks'),
    line: cssVar('--chart-line'),
    fill: cssVar('--chart-fill'),
  };
}

/**
 * Eight series for comparisons: each has its own colour and its own dash pattern, so that lines stay apart for
 * readers who cannot tell the colours apart and in print. The colours keep 3:1 against the panel in both schemes.
 */
export function seriesStyles() {
  const dashes = [[], [10, 5], [2, 4], [14, 4, 3, 4], [6, 3], [1, 3, 8, 3], [18, 6], [4, 2, 1, 2]];
  return dashes.map((dash, i) => ({ color: cssVar(`--series-${i + 1}`), dash }));
}
