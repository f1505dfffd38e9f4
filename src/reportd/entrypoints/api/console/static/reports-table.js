// A table of reports whose running rows follow their event streams (no page reloads).

import { enc } from './api.js';
import { h, replace, shortId, timeEl } from './dom.js';
import { isFinal, progressBar, stateBadge, updateProgress, watchReport } from './live.js';
import { fileButtons, reportActions } from './ui.js';

const COLUMNS = ['Report', 'State', 'Progress', 'Created', 'Files', 'Actions'];

export function reportsTable({ me, signal, notify, caption, onDeleted }) {
  const body = h('tbody');
  const table = h('table', { class: 'table responsive reports-table' },
    h('caption', { class: caption ? '' : 'visually-hidden' }, caption ?? 'Reports'),
    h('thead', {}, h('tr', {}, COLUMNS.map((c) => h('th', { scope: 'col' }, c)))),
    body);
  let rows = null; // aborted when the table shows another page, which ends its streams

  function row(report) {
    const cells = {
      name: h('td', { dataset: { label: 'Report' } }),
      state: h('td', { dataset: { label: 'State' } }),
      progress: h('td', { dataset: { label: 'Progress' } }),
      created: h('td', { dataset: { label: 'Created' } }),
      files: h('td', { dataset: { label: 'Files' } }),
      actions: h('td', { dataset: { label: 'Actions' } }),
    };
    const tr = h('tr', { dataset: { reportId: report.id } }, Object.values(cells));
    const draw = (r) => {
      tr.dataset.state = r.state;
      replace(cells.name,
        h('a', { href: `#/reports/${enc(r.id)}`, class: 'report-link' }, r.name),
        h('div', { class: 'sub' }, h('span', {}, r.template_id), ' · ',
          h('code', { title: r.id }, shortId(r.id))));
      replace(cells.state, stateBadge(r.state));
      const failed = isFinal(r) && r.state !== 'FINISHED';
      if (failed) {
        replace(cells.progress, r.error
          ? h('code', { class: 'error-code', title: r.error.message }, r.error.code)
          : h('span', { class: 'muted' }, '—'));
      } else if (cells.progress.firstChild?.classList?.contains('progress')) {
        updateProgress(cells.progress.firstChild, r);
      } else {
        replace(cells.progress, progressBar(r, `Progress of ${r.name}`));
      }
      replace(cells.created, timeEl(r.created_at, '—', { short: true }));
      replace(cells.files, fileButtons(r, notify));
      replace(cells.actions, reportActions(r, {
        me,
        notify,
        onChanged: draw,
        onDeleted: () => { tr.remove(); onDeleted?.(r); },
      }) ?? h('span', { class: 'muted' }, '—'));
    };
    draw(report);
    if (!isFinal(report)) watchReport(report.id, draw, rows.signal);
    return tr;
  }

  return {
    element: table,
    show(reports) {
      rows?.abort();
      rows = new AbortController();
      const mine = rows;
      signal?.addEventListener('abort', () => mine.abort(), { once: true });
      replace(body, reports.map(row));
    },
  };
}
