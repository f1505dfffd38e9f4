// A filter box that the server checks as you type (250 ms after the last key), pointing at
// the character where an error is.

import { ApiError, api, enc } from './api.js';
import { h, replace, uid } from './dom.js';

const DEBOUNCE_MS = 250;
const OPERATORS = 'eq ne gt ge lt le co sw ew pr in';

export function filterBox(templateId, fields, initial = '') {
  const id = uid('filter');
  const filterable = fields.filter((f) => f.filterable).map((f) => f.name);
  const input = h('input', {
    id,
    name: 'filter',
    type: 'text',
    class: 'mono',
    value: initial,
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: filterable.length ? `${filterable[0]} eq …` : '',
    'aria-describedby': `${id}-hint ${id}-status`,
  });
  const status = h('div', { class: 'filter-status', id: `${id}-status`, role: 'status', 'aria-live': 'polite' });
  const pointer = h('pre', { class: 'filter-pointer', 'aria-hidden': 'true', hidden: true });
  const hint = h('p', { class: 'hint', id: `${id}-hint` },
    filterable.length ? ['Filterable fields: ', filterable.join(', '), '. Operators: ', OPERATORS,
      ', and/or/not, parentheses; strings in "double quotes".'] : 'No field of this template is filterable.');
  const element = h('div', { class: 'field filter-box' },
    h('label', { for: id }, 'Filter'), input, pointer, status, hint);

  let timer = null;
  let inflight = null;
  let sequence = 0;
  let state = { valid: true };

  function show(result, text) {
    state = result;
    input.classList.toggle('invalid', !result.valid);
    element.dataset.state = result.valid ? (text ? 'valid' : 'empty') : 'invalid';
    if (result.valid) {
      input.removeAttribute('aria-invalid');
      pointer.hidden = true;
      replace(status, text ? h('span', { class: 'ok' }, '✓ Valid filter') : '');
      return;
    }
    const { error } = result;
    input.setAttribute('aria-invalid', 'true');
    const position = Number.isInteger(error.details?.position) ? error.details.position : null;
    replace(status, h('span', { class: 'bad' }, h('code', { class: 'error-code' }, error.code), ' ', error.message));
    if (position === null) {
      pointer.hidden = true;
      return;
    }
    const expression = error.details?.expression ?? text;
    const at = Math.min(position, expression.length);
    const char = expression.slice(at, at + 1) || ' ';
    replace(pointer,
      expression.slice(0, at), h('span', { class: 'err-char', dataset: { position: at } }, char), expression.slice(at + 1),
      '\n', ' '.repeat(at), h('span', { class: 'caret' }, '^'), ` position ${position}`);
    pointer.hidden = false;
    const mark = pointer.querySelector('.err-char');
    pointer.scrollLeft = Math.max(0, mark.offsetLeft - pointer.clientWidth / 2);
  }

  async function check() {
    clearTimeout(timer);
    timer = null;
    const text = input.value;
    sequence += 1;
    const mine = sequence;
    inflight?.abort();
    if (!text.trim()) {
      show({ valid: true }, '');
      return state;
    }
    inflight = new AbortController();
    replace(status, h('span', { class: 'muted' }, 'Checking…'));
    try {
      await api(`/v1/templates/${enc(templateId)}/validate`, { method: 'POST', body: { filter: text }, signal: inflight.signal });
      if (mine === sequence) show({ valid: true }, text);
    } catch (err) {
      if (err.name === 'AbortError') return state;
      if (mine === sequence) show({ valid: false, error: err instanceof ApiError ? err : { code: 'error', message: String(err) } }, text);
    }
    return state;
  }

  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(check, DEBOUNCE_MS);
  });
  if (initial) check();

  return {
    element,
    input,
    check,
    /** An error from a create (invalid_filter) shown like one found while typing. */
    showError(error) { show({ valid: false, error }, input.value); input.focus(); },
    read() { return { value: input.value.trim() ? input.value : null }; },
  };
}
