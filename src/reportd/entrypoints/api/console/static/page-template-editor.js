// The tenant's template editor: the definition as JSON, checked by the server as you type
// (POST /v1/templates/validate, 400 ms after the last key), each problem shown at its path.

import { ApiError, api, enc } from './api.js';
import { h, replace, uid } from './dom.js';
import { pageHead } from './ui.js';

const DEBOUNCE_MS = 400;
const STARTER = {
  id: 'my_report',
  name: 'My report',
  source: '',
  query: 'SELECT ... FROM ... WHERE ... >= :since',
  fields: [{ name: 'id', type: 'integer', filterable: true, sortable: true }],
  parameters: { type: 'object', properties: { since: { type: 'string', format: 'date', default: '2024-01-01' } } },
  formats: ['csv', 'json'],
};

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The JSON merge patch (RFC 7396) that turns `before` into `after`. */
export function mergePatch(before, after) {
  const patch = {};
  for (const key of Object.keys(before)) if (!(key in after)) patch[key] = null;
  for (const [key, value] of Object.entries(after)) {
    if (isObject(value) && isObject(before[key])) {
      const inner = mergePatch(before[key], value);
      if (Object.keys(inner).length) patch[key] = inner;
    } else if (JSON.stringify(value) !== JSON.stringify(before[key])) {
      patch[key] = value;
    }
  }
  return patch;
}

/** Where a JSON.parse error is, as "line L, column C", from the message browsers give. */
function jsonPosition(text, err) {
  const match = /position (\d+)/.exec(err.message);
  if (!match) return err.message;
  const at = Number(match[1]);
  const before = text.slice(0, at).split('\n');
  return `line ${before.length}, column ${before[before.length - 1].length + 1}`;
}

/** The problems of an API refusal, each with the path in the document it is about. */
function problemsOf(error) {
  if (Array.isArray(error.details?.errors)) return error.details.errors;
  const path = error.details?.path ?? '';
  const reason = error.details?.reason ? ` (${error.details.reason})` : '';
  return [{ path, message: `${error.message}${reason}` }];
}

function editor({ main, notify, navigate }, { title, initial, save }) {
  const id = uid('definition');
  const area = h('textarea', {
    id,
    class: 'mono template-definition',
    rows: 24,
    spellcheck: 'false',
    autocomplete: 'off',
    'aria-describedby': `${id}-status`,
  });
  area.value = JSON.stringify(initial, null, 2);
  const status = h('div', { class: 'template-status', id: `${id}-status`, role: 'status', 'aria-live': 'polite' });
  const saveButton = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save');
  const box = h('div', { class: 'field template-editor' },
    h('label', { for: id }, 'Definition (JSON: the template file\'s model)'), area, status);

  let timer = null;
  let sequence = 0;
  let inflight = null;

  function show(state, children) {
    box.dataset.state = state;
    area.classList.toggle('invalid', state === 'invalid');
    if (state === 'invalid') area.setAttribute('aria-invalid', 'true');
    else area.removeAttribute('aria-invalid');
    replace(status, ...children);
  }

  function showProblems(code, problems) {
    show('invalid', [
      h('p', { class: 'bad' }, h('code', { class: 'error-code' }, code), ` ${problems.length} problem${problems.length === 1 ? '' : 's'}`),
      h('ul', { class: 'template-problems' }, problems.map((p) => h('li', { dataset: { path: p.path } },
        p.path ? h('code', { class: 'problem-path' }, p.path) : null, ' ', p.message))),
    ]);
  }

  function parsed() {
    try {
      return { body: JSON.parse(area.value) };
    } catch (err) {
      showProblems('invalid_json', [{ path: '', message: `not JSON at ${jsonPosition(area.value, err)}` }]);
      return null;
    }
  }

  async function check() {
    const asked = parsed();
    if (!asked) return;
    const mine = ++sequence;
    inflight?.abort();
    inflight = new AbortController();
    show('checking', [h('span', { class: 'muted' }, 'Checking…')]);
    try {
      const answer = await api('/v1/templates/validate', { method: 'POST', body: asked.body, signal: inflight.signal });
      if (mine !== sequence) return;
      show('valid', [h('span', { class: 'ok' }, `✓ Valid template; columns: ${answer.columns.join(', ')}`)]);
    } catch (err) {
      if (err.name === 'AbortError' || mine !== sequence) return;
      if (err instanceof ApiError) showProblems(err.code, problemsOf(err));
      else throw err;
    }
  }

  area.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(check, DEBOUNCE_MS);
  });

  const form = h('form', {
    class: 'card form',
    'aria-label': title,
    onsubmit: async (event) => {
      event.preventDefault();
      const asked = parsed();
      if (!asked) return;
      saveButton.disabled = true;
      try {
        const saved = await save(asked.body);
        notify(`Template ${saved.id} saved as version ${saved.version}.`);
        navigate(`#/templates/${enc(saved.id)}`);
      } catch (err) {
        if (err instanceof ApiError) showProblems(err.code, problemsOf(err));
        else throw err;
      } finally {
        saveButton.disabled = false;
      }
    },
  }, box, h('div', { class: 'actions' }, saveButton, h('a', { class: 'btn', href: '#/templates' }, 'Cancel')));
  replace(main, pageHead(title), form);
  check();
}

export async function renderNewTemplate(ctx) {
  editor(ctx, {
    title: 'New template',
    initial: STARTER,
    save: (body) => api('/v1/templates', { method: 'POST', body }),
  });
}

export async function renderEditTemplate(ctx) {
  const { params, signal } = ctx;
  const t = await api(`/v1/templates/${enc(params[0])}`, { signal });
  editor(ctx, {
    title: `Edit ${t.name}`,
    initial: t.definition ?? {},
    // What changed, as a merge patch, refused if someone saved since this page was opened.
    save: (body) => api(`/v1/templates/${enc(t.id)}`, {
      method: 'PATCH',
      body: { ...mergePatch(t.definition ?? {}, body), version: t.version },
    }),
  });
}
