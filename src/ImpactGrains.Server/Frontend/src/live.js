// One Server-Sent Events connection to /api/stream for the whole page. The browser reconnects by itself and sends
// Last-Event-ID, so the server replays what was missed; a `reset` event means that was not possible.

const listeners = new Map();
let source = null;
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

export function connect() {
  if (source) return;
  source = new EventSource('/api/stream');
  source.addEventListener('open', () => setStatus('connected'));
  source.addEventListener('error', () => setStatus(source.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting'));
  for (const type of ['score', 'alert', 'incident', 'reset', 'dropped']) {
    source.addEventListener(type, (message) => {
      let data = {};
      try {
        data = JSON.parse(message.data);
      } catch {
        return;
      }
      emit(type, data);
    });
  }
  // A client that fell behind is dropped by the server: start afresh and reload the view.
  source.addEventListener('dropped', () => {
    source.close();
    source = null;
    setStatus('reconnecting');
    setTimeout(() => {
      connect();
      emit('reset', { reason: 'dropped' });
    }, 1000);
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
