// Templates: what reports can be made of, their fields and option parameters.

import { api, can, enc } from './api.js';
import { h, humanize, replace } from './dom.js';
import { confirmButton, pageHead } from './ui.js';

function duration(seconds) {
  if (seconds % 86400 === 0) return `${seconds / 86400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

export async function renderTemplates({ main, me, signal }) {
  const { results } = await api('/v1/templates', { signal });
  const write = can(me, 'reports:write');
  const define = can(me, 'templates:write') && (me?.features ?? []).includes('custom_reports');
  replace(main,
    pageHead('Templates', define ? h('a', { class: 'btn btn-primary', href: '#/templates/new' }, 'New template') : null),
    h('ul', { class: 'template-cards' }, results.map((t) => h('li', { class: 'card template-card', dataset: { origin: t.origin } },
      h('h2', {}, h('a', { href: `#/templates/${enc(t.id)}` }, t.name)),
      h('p', { class: 'sub' }, h('code', {}, t.id), ` · ${t.fields.length} fields · ${t.formats.join(', ')}`,
        t.origin === 'tenant' ? h('span', { class: 'badge' }, ` · yours, version ${t.version}`) : null),
      t.description ? h('p', { class: 'description' }, t.description) : null,
      write ? h('a', { class: 'btn btn-small', href: `#/new/${enc(t.id)}`, 'aria-label': `New ${t.name} report` }, 'New report') : null))));
}

function yes(flag) {
  return flag ? h('span', { class: 'yes' }, 'yes') : h('span', { class: 'muted' }, 'no');
}

function constraint(spec) {
  const parts = [];
  if (Array.isArray(spec.enum)) parts.push(`one of ${spec.enum.join(', ')}`);
  if (spec.format) parts.push(spec.format);
  if (spec.minimum !== undefined) parts.push(`≥ ${spec.minimum}`);
  if (spec.maximum !== undefined) parts.push(`≤ ${spec.maximum}`);
  return parts.join('; ');
}

export async function renderTemplate({ main, me, params, signal, notify, navigate }) {
  const t = await api(`/v1/templates/${enc(params[0])}`, { signal });
  const options = Object.entries(t.parameters?.properties ?? {});
  const own = t.origin === 'tenant' && can(me, 'templates:write');
  replace(main,
    pageHead(t.name,
      h('a', { class: 'btn', href: '#/templates' }, '← All templates'),
      own ? h('a', { class: 'btn', href: `#/templates/${enc(t.id)}/edit` }, 'Edit') : null,
      own ? confirmButton('Delete', `Delete the template ${t.id}`, async () => {
        try {
          await api(`/v1/templates/${enc(t.id)}`, { method: 'DELETE' });
          notify('Template deleted; reports made of it keep its definition.');
          navigate('#/templates');
        } catch (err) {
          notify(`${err.code ?? 'error'}: ${err.message}`, 'error');
        }
      }) : null,
      can(me, 'reports:write') ? h('a', { class: 'btn btn-primary', href: `#/new/${enc(t.id)}` }, 'New report') : null),
    h('section', { class: 'card' },
      t.description ? h('p', { class: 'description' }, t.description) : null,
      h('dl', { class: 'details' },
        h('dt', {}, 'ID'), h('dd', {}, h('code', {}, t.id)),
        t.origin === 'tenant' ? [h('dt', {}, 'Version'), h('dd', { class: 'template-version' }, String(t.version))] : null,
        h('dt', {}, 'Formats'), h('dd', {}, t.formats.join(', ')),
        h('dt', {}, 'File names'), h('dd', {}, h('code', {}, `${t.display_name ?? t.id}-YYYY-MM-DD.ext`)),
        h('dt', {}, 'Timeout'), h('dd', {}, duration(t.timeout)),
        h('dt', {}, 'Files kept'), h('dd', {}, duration(t.retention)))),
    h('section', { class: 'card', 'aria-labelledby': 'fields-title' },
      h('h2', { id: 'fields-title' }, 'Fields'),
      h('table', { class: 'table responsive compact' },
        h('thead', {}, h('tr', {}, ['Name', 'Label', 'Type', 'Filterable', 'Sortable'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, t.fields.map((f) => h('tr', {},
          h('td', { dataset: { label: 'Name' } }, h('code', {}, f.name)),
          h('td', { dataset: { label: 'Label' } }, f.label ?? ''),
          h('td', { dataset: { label: 'Type' } }, f.type),
          h('td', { dataset: { label: 'Filterable' } }, yes(f.filterable)),
          h('td', { dataset: { label: 'Sortable' } }, yes(f.sortable))))))),
    h('section', { class: 'card', 'aria-labelledby': 'params-title' },
      h('h2', { id: 'params-title' }, 'Options'),
      options.length
        ? h('table', { class: 'table responsive compact' },
          h('thead', {}, h('tr', {}, ['Option', 'Type', 'Allowed', 'Default', 'Description'].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', {}, options.map(([name, spec]) => h('tr', {},
            h('td', { dataset: { label: 'Option' } }, h('code', {}, name), h('div', { class: 'sub' }, spec.title ?? humanize(name))),
            h('td', { dataset: { label: 'Type' } }, spec.type ?? ''),
            h('td', { dataset: { label: 'Allowed' } }, constraint(spec)),
            h('td', { dataset: { label: 'Default' } }, spec.default === undefined ? '' : h('code', {}, JSON.stringify(spec.default))),
            h('td', { dataset: { label: 'Description' } }, spec.description ?? '')))))
        : h('p', { class: 'muted' }, 'This template has no options.')));
}
