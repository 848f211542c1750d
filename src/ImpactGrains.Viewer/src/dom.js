// Builds DOM nodes from data without ever parsing it as HTML: text goes in through text nodes and textContent only.

/** h('a', {href, class, text}, ...children): an element; children are nodes, strings or numbers (as text), arrays. */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === 'class') el.className = value;
      else if (key === 'text') el.textContent = String(value);
      else if (key === 'dataset') Object.assign(el.dataset, value);
      else if (key === 'style') for (const [name, v] of Object.entries(value)) el.style.setProperty(name, v);
      else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
      else if (value === true) el.setAttribute(key, '');
      else el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

const svgNamespace = 'http://www.w3.org/2000/svg';

/** s('path', {d, class}, ...children): an SVG element, built like h(); attributes are set as they are. */
export function s(tag, props, ...children) {
  const el = document.createElementNS(svgNamespace, tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === 'text') el.textContent = String(value);
      else if (key === 'dataset') Object.assign(el.dataset, value);
      else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
      else el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replaces the children of el. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** A table wrapped so that it scrolls sideways on a narrow screen; the wrapper is focusable for keyboard scrolling. */
export function table(caption, headers, rows, { captionVisible = false, className = '' } = {}) {
  return h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': caption },
    h('table', { class: `data ${className}` },
      h('caption', { class: captionVisible ? '' : 'visually-hidden', text: caption }),
      h('thead', null, h('tr', null, headers.map((header) =>
        typeof header === 'string' ? h('th', { scope: 'col', text: header }) : h('th', { scope: 'col', class: header.class, text: header.text })))),
      h('tbody', null, rows)));
}

/** A horizontal bar for a value from 0 to 100, with the number as text beside it. */
export function bar(value, label, color) {
  const width = `${Math.max(0, Math.min(100, value)).toFixed(1)}%`;
  return h('span', { class: 'bar', 'aria-hidden': 'true' },
    h('span', { class: `bar-fill ${color ?? ''}`, style: { width } }));
}

export function visuallyHidden(text) {
  return h('span', { class: 'visually-hidden', text });
}
