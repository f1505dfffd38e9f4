// API keys of the signed-in tenant (for admin keys): create one with its scopes (the secret is
// shown this once), see which exist and when they were made, revoke one.

import { api, enc } from './api.js';
import { field, h, replace, timeEl, uid } from './dom.js';
import { confirmButton, emptyState, errorAlert, pageHead } from './ui.js';

const SCOPES = ['reports:read', 'reports:write', 'templates:read', 'templates:write',
  'schedules:read', 'schedules:write', 'admin'];

export async function renderKeys(ctx) {
  const { main, signal, notify, navigate } = ctx;
  const page = await api('/v1/keys', { signal });
  const name = h('input', { type: 'text', id: uid('name'), required: true, maxlength: 200, placeholder: 'ci-exports' });
  const boxes = SCOPES.map((scope) => h('input', { type: 'checkbox', name: 'scopes', value: scope, checked: scope === 'reports:read' }));
  const shown = h('div', { class: 'card', hidden: true });
  const problems = h('div', { class: 'form-problems', tabindex: '-1' });
  const form = h('form', {
    class: 'card form',
    'aria-label': 'New API key',
    onsubmit: async (event) => {
      event.preventDefault();
      replace(problems);
      const scopes = boxes.filter((b) => b.checked).map((b) => b.value);
      try {
        const created = await api('/v1/keys', { method: 'POST', body: { name: name.value.trim(), scopes } });
        replace(shown,
          h('h2', {}, `Key ${created.name} created`),
          h('p', {}, 'Copy it now: it is shown this once, and reportd keeps only its hash.'),
          h('code', { class: 'hash secret', dataset: { secret: 'key' } }, created.secret),
          h('p', {}, h('a', { class: 'btn', href: '#/keys', onclick: () => navigate('#/keys') }, 'Done')));
        shown.hidden = false;
        form.hidden = true;
        notify('Key created.');
      } catch (err) {
        replace(problems, errorAlert(err));
        problems.focus();
      }
    },
  },
  h('h2', {}, 'New key'),
  field('Name', name, 'Shown as created_by on what the key makes.'),
  h('fieldset', {}, h('legend', {}, 'Scopes'), boxes.map((box) => h('label', { class: 'check' }, box, ' ', box.value))),
  problems,
  h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create key')));
  const rows = page.results.map((k) => h('tr', { dataset: { keyId: k.id, revoked: String(Boolean(k.revoked_at)) } },
    h('td', { dataset: { label: 'Name' } }, k.name, h('div', { class: 'sub mono' }, k.id)),
    h('td', { dataset: { label: 'Scopes' } }, k.scopes.join(', ')),
    h('td', { dataset: { label: 'Created' } }, timeEl(k.created_at, '—', { short: true })),
    h('td', { dataset: { label: 'Revoked' } }, timeEl(k.revoked_at, '—', { short: true })),
    h('td', { dataset: { label: 'Actions' } }, k.revoked_at ? null : confirmButton('Revoke', `Revoke key ${k.name}`, async () => {
      try {
        await api(`/v1/keys/${enc(k.id)}/revoke`, { method: 'POST' });
        notify('Key revoked.');
        navigate('#/keys');
      } catch (err) {
        notify(`${err.code ?? 'error'}: ${err.message}`, 'error');
      }
    }))));
  replace(main,
    pageHead('API keys'),
    form, shown,
    page.results.length
      ? h('table', { class: 'table responsive keys-table' },
        h('thead', {}, h('tr', {}, ['Name', 'Scopes', 'Created', 'Revoked', ''].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, rows))
      : emptyState('No keys yet.'));
}
