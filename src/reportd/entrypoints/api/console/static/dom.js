// Building the DOM without innerHTML: every piece of data becomes a text node.

const PROPERTIES = new Set([
  'value', 'checked', 'disabled', 'selected', 'hidden', 'required', 'readOnly',
  'multiple', 'indeterminate', 'open', 'defaultChecked',
]);

/**
 * h('a', {href: '#/x', class: 'btn', onclick: fn}, 'text', child, [more]) -> Element.
 * Strings and numbers become text nodes; null, undefined and false are skipped.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (PROPERTIES.has(key)) el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(parent, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

let counter = 0;
/** A unique id for label/control pairs. */
export function uid(prefix = 'c') {
  counter += 1;
  return `${prefix}-${counter}`;
}

const UNITS = ['bytes', 'KB', 'MB', 'GB', 'TB'];
export function formatBytes(size) {
  if (size === null || size === undefined) return '';
  if (size < 1024) return `${size} ${size === 1 ? 'byte' : 'bytes'}`;
  let value = size;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`;
}

const NUMBER = new Intl.NumberFormat();
export function formatNumber(n) {
  return n === null || n === undefined ? '' : NUMBER.format(n);
}

const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
export function formatTime(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : DATE_TIME.format(date);
}

const SHORT = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** A <time> element with the local time shown and the exact UTC time as its title. */
export function timeEl(iso, fallback = '—', { short = false } = {}) {
  if (!iso) return h('span', { class: 'muted' }, fallback);
  const shown = short ? SHORT.format(new Date(iso)) : formatTime(iso);
  return h('time', { datetime: iso, title: iso }, shown);
}

const RELATIVE = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
export function formatRelative(iso, now = Date.now()) {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 60) return RELATIVE.format(seconds, 'second');
  if (abs < 3600) return RELATIVE.format(Math.round(seconds / 60), 'minute');
  if (abs < 86400) return RELATIVE.format(Math.round(seconds / 3600), 'hour');
  return RELATIVE.format(Math.round(seconds / 86400), 'day');
}

export function humanize(name) {
  const words = String(name).replace(/[_-]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function shortId(id) {
  return String(id).slice(0, 8);
}

export function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}

/** A labelled form row: <div class=field><label for>text</label>control<p hint></div>. */
export function field(labelText, control, hint) {
  const id = control.id || uid('f');
  control.id = id;
  const parts = [h('label', { for: id }, labelText), control];
  if (hint) {
    const hintId = `${id}-hint`;
    control.setAttribute('aria-describedby', hintId);
    parts.push(h('p', { class: 'hint', id: hintId }, hint));
  }
  return h('div', { class: 'field' }, parts);
}

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}
