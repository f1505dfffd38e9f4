// Destinations: where the tenant's finished reports are delivered (e-mail, S3, SFTP, a
// webhook). The list shows each one's settings and which secrets it has, never their values;
// a new one is its type, a name and its settings as JSON (docs/delivery.md lists each type's).

import { api, can, enc } from './api.js';
import { field, h, replace, timeEl, uid } from './dom.js';
import { confirmButton, emptyState, pageHead } from './ui.js';

const EXAMPLES = {
  email: { to: ['team@example.com'], subject: 'Nightly orders' },
  s3: { endpoint_url: 'https://s3.example.com', bucket: 'reports', prefix: 'nightly', access_key_id: 'AKIA…', secret_access_key: '…' },
  sftp: { host: 'sftp.example.com', port: 22, username: 'reports', path: '/incoming', host_key: 'ssh-ed25519 AAAA…', password: '…' },
  webhook: { url: 'https://example.com/reports/in', signature: 'both' },
};
const SHOWN = new Set(['id', 'type', 'name', 'secrets_set', 'created_at', 'updated_at', 'generated_secrets']);

function settingsOf(d) {
  return Object.entries(d).filter(([key]) => !SHOWN.has(key))
    .map(([key, value]) => `${key}: ${Array.isArray(value) ? value.join(', ') : value}`).join(' · ');
}

export async function renderDestinations(ctx) {
  const { main, me, signal, notify, navigate } = ctx;
  const page = await api('/v1/destinations', { signal });
  const write = can(me, 'reports:write');
  const rows = page.results.map((d) => h('tr', { dataset: { destinationId: d.id, type: d.type } },
    h('td', { dataset: { label: 'Name' } }, h('strong', {}, d.name), h('div', {}, h('code', { class: 'muted' }, d.id))),
    h('td', { dataset: { label: 'Type' } }, d.type),
    h('td', { dataset: { label: 'Settings' }, class: 'mono' }, settingsOf(d)),
    h('td', { dataset: { label: 'Secrets' } }, d.secrets_set.length ? d.secrets_set.join(', ') : '—'),
    h('td', { dataset: { label: 'Created' } }, timeEl(d.created_at, '—', { short: true })),
    h('td', { dataset: { label: 'Actions' } }, write ? confirmButton('Delete', `Delete the destination ${d.name}`, async () => {
      try {
        await api(`/v1/destinations/${enc(d.id)}`, { method: 'DELETE' });
        notify('Destination deleted.');
        navigate('#/destinations');
      } catch (err) {
        notify(`${err.code ?? 'error'}: ${err.message}`, 'error');
      }
    }) : null)));
  replace(main,
    pageHead('Destinations', write ? h('a', { class: 'btn btn-primary', href: '#/destinations/new' }, 'New destination') : null),
    page.results.length
      ? h('table', { class: 'table responsive destinations-table' },
        h('thead', {}, h('tr', {}, ['Name', 'Type', 'Settings', 'Secrets', 'Created', ''].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, rows))
      : emptyState('No destinations yet: reports and schedules can be mailed, or sent to S3, SFTP or a webhook.',
        write ? h('a', { class: 'btn', href: '#/destinations/new' }, 'New destination') : null));
}

export async function renderNewDestination(ctx) {
  const { main, notify } = ctx;
  const type = h('select', { id: uid('type'), name: 'type' },
    Object.keys(EXAMPLES).map((t) => h('option', { value: t }, t)));
  const name = h('input', { id: uid('name'), type: 'text', maxLength: 200, placeholder: 'Finance team' });
  const settings = h('textarea', { id: uid('settings'), rows: 8, class: 'mono', spellcheck: 'false' });
  const example = () => { settings.value = JSON.stringify(EXAMPLES[type.value], null, 2); };
  type.addEventListener('change', example);
  example();
  const done = h('div', { class: 'card', hidden: true });
  const form = h('form', {
    class: 'card form',
    onsubmit: async (event) => {
      event.preventDefault();
      let body;
      try {
        body = JSON.parse(settings.value || '{}');
      } catch (err) {
        notify(`The settings are not JSON: ${err.message}`, 'error');
        return;
      }
      try {
        const made = await api('/v1/destinations', { method: 'POST', body: { ...body, type: type.value, name: name.value || null } });
        form.hidden = true;
        const generated = Object.entries(made.generated_secrets ?? {});
        replace(done,
          h('h2', {}, 'Destination created'),
          h('p', {}, 'Name it in a report or a schedule by its id: ', h('code', { dataset: { destination: 'id' } }, made.id)),
          generated.length ? h('p', {}, 'Shown this once, keep it: ', generated.map(([key, value]) => h('code', { class: 'hash secret', dataset: { secret: key } }, value))) : null,
          h('p', {}, h('a', { class: 'btn', href: '#/destinations' }, 'All destinations')));
        done.hidden = false;
        notify('Destination created.');
      } catch (err) {
        notify(`${err.code ?? 'error'}: ${err.message}`, 'error');
      }
    },
  },
  field('Type', type),
  field('Name', name),
  field('Settings and secrets (JSON)', settings, 'The secrets (passwords, keys) are sealed and never shown again.'),
  h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create destination'),
    h('a', { class: 'btn', href: '#/destinations' }, 'Cancel')));
  replace(main, pageHead('New destination'), form, done);
}
