// Reports: the tenant's reports, newest first, filtered by state and template, paged by cursor.

import { api, can, query } from './api.js';
import { field, formatNumber, h, replace } from './dom.js';
import { STATES, stateLabel } from './live.js';
import { reportsTable } from './reports-table.js';
import { emptyState, errorAlert, pageHead } from './ui.js';

const PAGE_SIZE = 20;

export async function renderReports({ main, me, query: params, signal, notify, navigate }) {
  const state = params.get('state') ?? '';
  const template = params.get('template') ?? '';
  const templates = can(me, 'templates:read')
    ? (await api('/v1/templates', { signal })).results
    : [];

  const stateSelect = h('select', { id: 'filter-state', name: 'state' },
    h('option', { value: '' }, 'Any state'),
    STATES.map((s) => h('option', { value: s }, stateLabel(s))));
  const templateSelect = h('select', { id: 'filter-template', name: 'template' },
    h('option', { value: '' }, 'Any template'),
    templates.map((t) => h('option', { value: t.id }, t.name)));
  if (template && !templates.some((t) => t.id === template)) {
    templateSelect.append(h('option', { value: template }, template));
  }
  stateSelect.value = state;
  templateSelect.value = template;
  const applyFilters = () => {
    navigate(`#/reports${query({ state: stateSelect.value, template: templateSelect.value })}`);
  };
  stateSelect.addEventListener('change', applyFilters);
  templateSelect.addEventListener('change', applyFilters);

  const summary = h('p', { class: 'muted summary', role: 'status' });
  const list = h('div', { class: 'list' });
  const prev = h('button', { type: 'button', class: 'btn', disabled: true }, '← Newer');
  const next = h('button', { type: 'button', class: 'btn', disabled: true }, 'Older →');
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages of reports', hidden: true }, prev, next);
  const table = reportsTable({ me, signal, notify, caption: 'Reports, newest first' });
  const cursors = [null]; // the cursor of each page shown so far; the last one is on screen

  async function load() {
    const cursor = cursors[cursors.length - 1];
    prev.disabled = true;
    next.disabled = true;
    let page;
    try {
      page = await api(`/v1/reports${query({
        state, template_id: template, limit: PAGE_SIZE, cursor: cursor ?? '',
      })}`, { signal });
    } catch (err) {
      if (err.name !== 'AbortError') replace(list, errorAlert(err));
      return;
    }
    const start = (cursors.length - 1) * PAGE_SIZE;
    summary.textContent = page.total_count
      ? `${formatNumber(start + 1)}–${formatNumber(start + page.results.length)} of ${formatNumber(page.total_count)} reports`
      : '';
    if (!page.results.length) {
      replace(list, emptyState(state || template ? 'No reports match these filters.' : 'No reports yet.',
        can(me, 'reports:write') ? h('a', { class: 'btn btn-primary', href: '#/new' }, 'Create a report') : null));
    } else {
      table.show(page.results);
      replace(list, table.element);
    }
    prev.disabled = cursors.length <= 1;
    next.disabled = !page.next_cursor;
    pager.hidden = prev.disabled && next.disabled;
    next.onclick = () => { cursors.push(page.next_cursor); load(); };
  }
  prev.addEventListener('click', () => { cursors.pop(); load(); });

  replace(main,
    pageHead('Reports',
      h('button', { type: 'button', class: 'btn', onclick: () => load() }, 'Refresh'),
      can(me, 'reports:write') ? h('a', { class: 'btn btn-primary', href: '#/new' }, 'New report') : null),
    h('form', { class: 'filters card', role: 'search', 'aria-label': 'Filter reports', onsubmit: (e) => e.preventDefault() },
      field('State', stateSelect), field('Template', templateSelect), summary),
    list,
    pager);
  await load();
}
