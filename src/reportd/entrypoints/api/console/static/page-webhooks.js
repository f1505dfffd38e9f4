// Webhooks: the tenant's subscriptions, a new one (its signing secret shown once), and each
// one's delivery log: what was sent, when, how it went, and when it is tried again. Each
// subscription chooses its signature headers: reportd's own, Standard Webhooks', or both.

import { api, can, enc, query } from './api.js';
import { field, h, replace, timeEl, uid } from './dom.js';
import { confirmButton, emptyState, pageHead } from './ui.js';

const EVENTS = [
  'report.finished', 'report.failed', 'report.canceled', 'report.expired',
  'report.delivered', 'report.delivery_failed', // a delivery's outcome (docs/delivery.md)
];
const CHECKED = new Set(['report.finished', 'report.failed', 'report.canceled']);
const SIGNATURES = [
  ['both', 'Both: Reportd-Signature and Standard Webhooks'],
  ['standard', 'Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature)'],
  ['reportd', 'Reportd-Signature only'],
];

function signatureSelect(value) {
  const select = h('select', { id: uid('signature'), name: 'signature' },
    SIGNATURES.map(([scheme, label]) => h('option', { value: scheme }, label)));
  select.value = value;
  return select;
}

const SIGNATURE_HINT = 'Standard Webhooks headers verify with the standardwebhooks library of any language, given the same secret.';

export async function renderWebhooks(ctx) {
  const { main, me, signal, notify, navigate } = ctx;
  const page = await api('/v1/webhooks', { signal });
  const write = can(me, 'reports:write');
  const rows = page.results.map((w) => h('tr', { dataset: { webhookId: w.id } },
    h('td', { dataset: { label: 'URL' } }, h('a', { href: `#/webhooks/${enc(w.id)}`, class: 'mono' }, w.url)),
    h('td', { dataset: { label: 'Events' } }, w.events.join(', ')),
    h('td', { dataset: { label: 'Signature', signature: w.signature } }, w.signature),
    h('td', { dataset: { label: 'Created' } }, timeEl(w.created_at, '—', { short: true })),
    h('td', { dataset: { label: 'Actions' } }, write ? confirmButton('Delete', `Delete the webhook to ${w.url}`, async () => {
      try {
        await api(`/v1/webhooks/${enc(w.id)}`, { method: 'DELETE' });
        notify('Webhook deleted.');
        navigate('#/webhooks');
      } catch (err) {
        notify(`${err.code ?? 'error'}: ${err.message}`, 'error');
      }
    }) : null)));
  replace(main,
    pageHead('Webhooks', write ? h('a', { class: 'btn btn-primary', href: '#/webhooks/new' }, 'New webhook') : null),
    page.results.length
      ? h('table', { class: 'table responsive' },
        h('thead', {}, h('tr', {}, ['URL', 'Events', 'Signature', 'Created', ''].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, rows))
      : emptyState('No webhooks yet: reportd can POST each report to your server when it ends.',
        write ? h('a', { class: 'btn', href: '#/webhooks/new' }, 'New webhook') : null));
}

export async function renderNewWebhook(ctx) {
  const { main, notify } = ctx;
  const urlId = uid('url');
  const url = h('input', { id: urlId, type: 'url', required: true, placeholder: 'https://example.com/hooks/reportd', class: 'mono' });
  const boxes = EVENTS.map((event) => h('input', { type: 'checkbox', value: event, checked: CHECKED.has(event), name: 'events' }));
  const signature = signatureSelect('both');
  const secretArea = h('div', { class: 'card', hidden: true });
  const form = h('form', {
    class: 'card form',
    onsubmit: async (event) => {
      event.preventDefault();
      const events = boxes.filter((b) => b.checked).map((b) => b.value);
      try {
        const created = await api('/v1/webhooks', { method: 'POST', body: { url: url.value, events, signature: signature.value } });
        form.hidden = true;
        replace(secretArea,
          h('h2', {}, 'Webhook created'),
          h('p', {}, 'Its signing secret is shown this once: store it where your receiver checks signatures.'),
          h('code', { class: 'hash secret', dataset: { secret: 'webhook' } }, created.secret),
          h('p', {}, h('a', { class: 'btn', href: `#/webhooks/${enc(created.id)}` }, 'See its deliveries')));
        secretArea.hidden = false;
        notify('Webhook created.');
      } catch (err) {
        notify(`${err.code ?? 'error'}: ${err.message}`, 'error');
      }
    },
  },
  field('URL', url, 'reportd POSTs the report resource there, signed.'),
  h('fieldset', {}, h('legend', {}, 'Events'),
    boxes.map((box) => h('label', { class: 'check' }, box, ' ', box.value))),
  field('Signature', signature, SIGNATURE_HINT),
  h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create webhook'),
    h('a', { class: 'btn', href: '#/webhooks' }, 'Cancel')));
  replace(main, pageHead('New webhook'), form, secretArea);
}

// A subscription's scheme, switched in place: the secret stays, so its receiver can move to a
// Standard Webhooks library without a new secret.
function signatureForm(hook, shown, notify) {
  const select = signatureSelect(hook.signature);
  return h('form', {
    class: 'card form',
    'aria-label': 'Signing scheme',
    onsubmit: async (event) => {
      event.preventDefault();
      try {
        const saved = await api(`/v1/webhooks/${enc(hook.id)}`, { method: 'PATCH', body: { signature: select.value } });
        shown.textContent = saved.signature;
        shown.dataset.signature = saved.signature;
        notify(`Deliveries are now signed: ${saved.signature}.`);
      } catch (err) {
        notify(`${err.code ?? 'error'}: ${err.message}`, 'error');
      }
    },
  }, h('h2', {}, 'Signing'), field('Signature', select, SIGNATURE_HINT),
  h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn' }, 'Change signature')));
}

export async function renderWebhook(ctx) {
  const { main, params, signal, me, notify } = ctx;
  const id = params[0];
  const [hook, log] = await Promise.all([
    api(`/v1/webhooks/${enc(id)}`, { signal }),
    api(`/v1/webhooks/${enc(id)}/deliveries${query({ limit: 100 })}`, { signal }),
  ]);
  const shown = h('dd', { dataset: { signature: hook.signature } }, hook.signature);
  const rows = log.results.map((d) => h('tr', { dataset: { deliveryId: d.id, state: d.state } },
    h('td', { dataset: { label: 'Report' } }, h('a', { href: `#/reports/${enc(d.report_id)}` }, d.report_id.slice(0, 8))),
    h('td', { dataset: { label: 'Event' } }, d.event),
    h('td', { dataset: { label: 'State' } }, h('span', { class: `state state-${d.state}` }, d.state)),
    h('td', { dataset: { label: 'Attempts' } }, String(d.attempts)),
    h('td', { dataset: { label: 'Answer' } }, d.last_status ? String(d.last_status) : (d.last_error ?? '—')),
    h('td', { dataset: { label: 'Next try' } }, timeEl(d.next_attempt_at, '—', { short: true })),
    h('td', { dataset: { label: 'Delivered' } }, timeEl(d.delivered_at, '—', { short: true }))));
  replace(main,
    pageHead('Webhook', h('a', { class: 'btn', href: '#/webhooks' }, '← All webhooks')),
    h('section', { class: 'card' }, h('dl', { class: 'details' },
      h('dt', {}, 'URL'), h('dd', {}, h('code', {}, hook.url)),
      h('dt', {}, 'Events'), h('dd', {}, hook.events.join(', ')),
      h('dt', {}, 'Signature'), shown,
      h('dt', {}, 'Created'), h('dd', {}, timeEl(hook.created_at)))),
    can(me, 'reports:write') ? signatureForm(hook, shown, notify) : null,
    h('section', { class: 'card', 'aria-labelledby': 'log-title' },
      h('h2', { id: 'log-title' }, `Deliveries (${log.total_count})`),
      log.results.length
        ? h('table', { class: 'table responsive compact deliveries' },
          h('thead', {}, h('tr', {}, ['Report', 'Event', 'State', 'Attempts', 'Answer', 'Next try', 'Delivered'].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', {}, rows))
        : h('p', { class: 'muted' }, 'Nothing sent yet: a delivery is made when a report ends.')));
}
