// One Server-Sent Events connection to /api/stream for the whole page, read with fetch rather than EventSource so
// that it can send the API key header. On a lost connection it reconnects after the server's `retry` interval and
// sends Last-Event-ID, so the server replays what was missed; a `reset` event means that was not possible.
import { authHeaders, onKeyChange, reportUnauthorized } from './api.js';

const listeners = new Map();
let started = false;
let controller = null;
let lastEventId = null;
let retryMs = 3000;
let status = 'connecting';
const statusListeners = new Set();

function emit(type, data) {
  for (const listener of listeners.get(type) ?? []) {
    try {
      listener(data);
    } catch (error) {
      console.error(error);
    }
  }
}

function setStatus(next) {
  status = next;
  for (const listener of statusListeners) listener(status);
}

const sleep = (ms, signal) => new Promise((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
});

/** Reads SSE frames (text/event-stream) from a response body and hands each event to `dispatch`. */
async function readEvents(body, dispatch) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let event = { type: 'message', data: [], id: null };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let newline;
    while ((newline = buffer.search(/\r\n|\n|\r/)) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
      if (line === '') {
        if (event.id !== null) lastEventId = event.id;
        if (event.data.length) dispatch(event.type, event.data.join('\n'));
        event = { type: 'message', data: [], id: null };
        continue;
      }
      if (line.startsWith(':')) continue; // a heartbeat comment
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event.type = text;
      else if (field === 'data') event.data.push(text);
      else if (field === 'id') event.id = text;
      else if (field === 'retry' && /^\d+$/.test(text)) retryMs = Number(text);
    }
  }
}

async function run(signal) {
  while (!signal.aborted) {
    let dropped = false;
    try {
      const headers = { Accept: 'text/event-stream', ...authHeaders() };
      if (lastEventId) headers['Last-Event-ID'] = lastEventId;
      const response = await fetch('/api/stream', { headers, cache: 'no-store', signal });
      if (response.status === 401 || response.status === 403) {
        setStatus('closed');
        reportUnauthorized(response.status);
        return; // connect() runs again when a key is given
      }
      if (!response.ok || !response.body) throw new Error(`stream: HTTP ${response.status}`);
      setStatus('connected');
      await readEvents(response.body, (type, text) => {
        let data = {};
        try {
          data = JSON.parse(text);
        } catch {
          return;
        }
        if (type === 'dropped') dropped = true;
        emit(type, data);
      });
    } catch (error) {
      if (signal.aborted) return;
      if (!(error instanceof TypeError)) console.warn(error);
    }
    if (signal.aborted) return;
    setStatus('reconnecting');
    if (dropped) {
      // The server dropped a client that fell behind: start afresh and reload the view.
      lastEventId = null;
      await sleep(1000, signal);
      emit('reset', { reason: 'dropped' });
      continue;
    }
    await sleep(retryMs, signal);
  }
}

export function connect() {
  if (!started) {
    started = true;
    onKeyChange(() => {
      controller?.abort();
      controller = null;
      connect();
    });
  }
  if (controller) return;
  controller = new AbortController();
  const mine = controller;
  run(mine.signal).finally(() => {
    if (controller === mine) controller = null;
  });
}

/** Subscribes to a stream event type ('score', 'alert', 'incident', 'reset'); returns the unsubscribe function. */
export function on(type, listener) {
  if (!listeners.has(type)) listeners.set(type, new Set());
  listeners.get(type).add(listener);
  return () => listeners.get(type).delete(listener);
}

export function onStatus(listener) {
  statusListeners.add(listener);
  listener(status);
  return () => statusListeners.delete(listener);
}

/** Calls fn at most once per interval, the last call winning (for refreshes driven by many stream events). */
export function throttle(fn, interval) {
  let timer = null;
  let pending = false;
  let last = 0;
  const run = () => {
    timer = null;
    pending = false;
    last = Date.now();
    fn();
  };
  const throttled = () => {
    if (timer) {
      pending = true;
      return;
    }
    const wait = Math.max(0, last + interval - Date.now());
    timer = setTimeout(run, wait);
  };
  throttled.cancel = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    return pending;
  };
  return throttled;
}
