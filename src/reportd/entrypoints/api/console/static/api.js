// The native API, with the key kept in this tab's session storage only.

const STORAGE_KEY = 'reportd.apiKey';

export const session = {
  get key() { return sessionStorage.getItem(STORAGE_KEY); },
  set(key) { sessionStorage.setItem(STORAGE_KEY, key); },
  clear() { sessionStorage.removeItem(STORAGE_KEY); },
};

/** An error answer of the API: {"error": {code, message, details}} with its HTTP status. */
export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

function headers(key, extra = {}) {
  return { Authorization: `Bearer ${key ?? session.key ?? ''}`, ...extra };
}

async function errorOf(response) {
  let body = null;
  try { body = await response.json(); } catch { /* not JSON */ }
  const error = body?.error ?? {};
  if (response.status === 401) window.dispatchEvent(new CustomEvent('reportd:unauthorized'));
  return new ApiError(
    response.status,
    error.code ?? `http_${response.status}`,
    error.message ?? (response.statusText || 'The request failed.'),
    error.details,
  );
}

async function send(path, { method = 'GET', body, signal, key, accept = 'application/json' } = {}) {
  const init = { method, signal, cache: 'no-store', headers: headers(key, { Accept: accept }) };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  try {
    return await fetch(path, init);
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network_error', 'The server could not be reached.');
  }
}

/** A JSON call; resolves to the body (null for 204), rejects with ApiError. */
export async function api(path, options = {}) {
  const response = await send(path, options);
  if (!response.ok) throw await errorOf(response);
  if (response.status === 204) return null;
  return response.json();
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== null && v !== undefined && v !== '') search.set(k, v);
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

export const enc = encodeURIComponent;

/**
 * Read a server-sent event stream with fetch, because EventSource cannot send the key.
 * Calls onEvent({event, id, data}) per event; resolves when the server ends the stream.
 */
export async function readEvents(path, onEvent, signal) {
  const response = await send(path, { signal, accept: 'text/event-stream' });
  if (!response.ok) throw await errorOf(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const parser = sseParser(onEvent);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      parser.push(value);
    }
  } finally {
    reader.releaseLock();
  }
}

/** The SSE line protocol (https://html.spec.whatwg.org/#event-stream-interpretation). */
export function sseParser(onEvent) {
  let buffer = '';
  let data = [];
  let event = '';
  let id = '';
  function line(text) {
    if (text === '') {
      if (data.length) onEvent({ event: event || 'message', id, data: data.join('\n') });
      data = [];
      event = '';
      return;
    }
    if (text.startsWith(':')) return; // a comment (keep-alive)
    const colon = text.indexOf(':');
    const name = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (name === 'data') data.push(value);
    else if (name === 'event') event = value;
    else if (name === 'id') id = value;
  }
  return {
    push(chunk) {
      buffer += chunk;
      let end = buffer.indexOf('\n');
      while (end >= 0) {
        line(buffer.slice(0, end).replace(/\r$/, ''));
        buffer = buffer.slice(end + 1);
        end = buffer.indexOf('\n');
      }
    },
  };
}

/** A signed link for one file of a report, then the browser goes there (a download). */
export async function downloadArtifact(report, artifact) {
  const link = await signedLink(report, artifact);
  window.location.assign(link.download_url);
  return link;
}

export function signedLink(report, artifact, expiresIn) {
  return api(`/v1/reports/${enc(report.id)}/download_url${query({
    format: artifact.format,
    part: artifact.part ?? '',
    expires_in: expiresIn ?? '',
  })}`);
}

export function can(me, scope) {
  return Boolean(me && (me.scopes.includes('admin') || me.scopes.includes(scope)));
}
