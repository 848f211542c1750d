// One Tab stop for a set of many small targets (the markers on a chart, the countries on a map): Tab reaches the
// set once, the arrow keys, Home and End move within it, and the set remembers where the reader was when its items
// are drawn anew by a live update.

/**
 * Makes the elements under container matching selector (each with a data-key) a roving set. Call refresh() after
 * the items change. onMove(element) runs when the arrow keys move focus (focus events fire as well).
 */
export function rovingFocus(container, selector, { onMove } = {}) {
  let activeKey = null;
  const items = () => [...container.querySelectorAll(selector)];

  function apply() {
    const all = items();
    if (!all.some((el) => el.dataset.key === activeKey)) activeKey = all[0]?.dataset.key ?? null;
    for (const el of all) el.setAttribute('tabindex', el.dataset.key === activeKey ? '0' : '-1');
  }

  function focusItem(el) {
    if (!el) return;
    activeKey = el.dataset.key;
    apply();
    el.focus();
    onMove?.(el);
  }

  container.addEventListener('focusin', (event) => {
    const el = event.target.closest?.(selector);
    if (el && container.contains(el)) {
      activeKey = el.dataset.key;
      apply();
    }
  });

  container.addEventListener('keydown', (event) => {
    const all = items();
    const index = all.findIndex((el) => el === document.activeElement);
    if (index < 0) return;
    const moves = { ArrowRight: index + 1, ArrowDown: index + 1, ArrowLeft: index - 1, ArrowUp: index - 1, Home: 0, End: all.length - 1 };
    if (!(event.key in moves)) return;
    event.preventDefault();
    focusItem(all[Math.max(0, Math.min(all.length - 1, moves[event.key]))]);
  });

  return {
    refresh: apply,
    /** The element focused now within the set, or null. */
    focused: () => items().find((el) => el === document.activeElement) ?? null,
  };
}
