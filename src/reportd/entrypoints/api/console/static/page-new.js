// New report: a form generated from the chosen template; the new report's progress in place.

import { api, enc } from './api.js';
import { field, formatNumber, h, replace, uid } from './dom.js';
import { definitionForm } from './definition.js';
import { isFinal, progressBar, stateBadge, updateProgress, watchReport } from './live.js';
import { emptyState, errorAlert, fileButtons, pageHead, reportActions } from './ui.js';

export async function renderNewReport(ctx) {
  const { main, params, signal, navigate } = ctx;
  const { results: templates } = await api('/v1/templates', { signal });
  if (!templates.length) {
    replace(main, pageHead('New report'), emptyState('No templates are configured on this server.'));
    return;
  }
  const template = templates.find((t) => t.id === params[0]) ?? templates[0];
  const picker = templatePicker(templates, template);
  picker.addEventListener('change', () => navigate(`#/new/${enc(picker.value)}`));

  const form = reportForm(template, ctx);
  replace(main,
    pageHead('New report', h('a', { class: 'btn', href: '#/reports' }, '← All reports')),
    h('section', { class: 'card template-pick', 'aria-label': 'Choose a template' },
      field('Template', picker, template.description || null)),
    form.element,
    form.result);
}

export function templatePicker(templates, chosen) {
  const picker = h('select', { id: uid('template'), name: 'template' },
    templates.map((t) => h('option', { value: t.id }, `${t.name} (${t.id})`)));
  picker.value = chosen.id;
  return picker;
}

function reportForm(template, ctx) {
  const { me, signal, notify } = ctx;
  const definition = definitionForm(template);
  const { parts } = definition;
  const name = h('input', { type: 'text', id: uid('name'), maxlength: 300, placeholder: template.name });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create report');
  const result = h('section', { class: 'card result', 'aria-labelledby': 'result-title', hidden: true });
  const preview = h('section', { class: 'card preview', 'aria-labelledby': 'preview-title', hidden: true });
  const previewButton = h('button', {
    type: 'button',
    class: 'btn',
    dataset: { action: 'preview' },
    onclick: async () => {
      const body = await definition.collect(element);
      if (!body) return;
      previewButton.disabled = true;
      try {
        const found = await api(`/v1/templates/${enc(template.id)}/preview`, {
          method: 'POST',
          body: { options: body.options, fields: body.fields, filter: body.filter, order_by: body.order_by },
          signal,
        });
        showPreview(preview, found, template);
      } catch (err) {
        if (err.name !== 'AbortError') definition.explain(err);
      } finally {
        previewButton.disabled = false;
      }
    },
  }, 'Preview');

  const element = h('form', {
    class: 'report-form',
    novalidate: true,
    'aria-label': `New ${template.name} report`,
    onchange: definition.sync,
    onsubmit: async (event) => {
      event.preventDefault();
      const body = await definition.collect(element);
      if (!body) return;
      if (name.value.trim()) body.name = name.value.trim();
      submit.disabled = true;
      try {
        follow(await api('/v1/reports', { method: 'POST', body, signal }));
      } catch (err) {
        if (err.name !== 'AbortError') definition.explain(err);
      } finally {
        submit.disabled = false;
      }
    },
  },
  h('div', { class: 'form-grid' },
    h('div', { class: 'card' },
      h('h2', {}, 'What'),
      field('Report name', name, 'Optional; the template’s name by default.'),
      parts.fields.element,
      parts.options.element),
    h('div', { class: 'card' },
      h('h2', {}, 'Which rows, in which order'),
      parts.filter.element,
      parts.order.element),
    h('div', { class: 'card' },
      h('h2', {}, 'Files'),
      parts.formats.element,
      parts.packaging.element)),
  definition.problems,
  h('div', { class: 'actions' }, previewButton, submit),
  preview);

  let following = null; // the stream of the report shown; a new submit ends it
  signal.addEventListener('abort', () => following?.abort(), { once: true });

  function follow(report) {
    following?.abort();
    following = new AbortController();
    const heading = h('h2', { id: 'result-title', tabindex: '-1' });
    const bar = progressBar(report, `Progress of ${report.name}`);
    const badge = h('span');
    const files = h('div', { class: 'result-files' });
    const actions = h('div');
    const error = h('div');
    const draw = (r) => {
      heading.textContent = isFinal(r) ? (r.state === 'FINISHED' ? 'Report ready' : 'Report ended') : 'Report queued';
      replace(badge, stateBadge(r.state));
      updateProgress(bar, r);
      replace(files, r.state === 'FINISHED' ? fileButtons(r, notify) : null);
      replace(error, r.error ? errorAlert(r.error) : null);
      replace(actions, reportActions(r, { me, notify, onChanged: draw, onDeleted: () => { result.hidden = true; } }));
    };
    replace(result,
      heading,
      h('p', { class: 'status-line' }, badge,
        h('a', { href: `#/reports/${enc(report.id)}`, class: 'report-link' }, report.name),
        h('code', { class: 'muted' }, report.id)),
      bar, files, error, actions);
    result.dataset.reportId = report.id;
    result.hidden = false;
    draw(report);
    heading.focus();
    result.scrollIntoView({ block: 'nearest' });
    if (report.deduplicated) notify('An identical report made recently was reused.');
    if (!isFinal(report)) watchReport(report.id, draw, following.signal);
  }

  return { element, result };
}

/** The first rows and the row count the form's choices select, before making the report. */
function showPreview(holder, found, template) {
  const titles = Object.fromEntries(template.fields.map((f) => [f.name, f.label ?? f.name]));
  const count = found.row_count === null ? 'an unknown number of rows'
    : `${formatNumber(found.row_count)} ${found.row_count === 1 ? 'row' : 'rows'}`;
  const shown = found.rows.length < (found.row_count ?? 0) ? `; the first ${found.rows.length} below` : '';
  replace(holder,
    h('h2', { id: 'preview-title', tabindex: '-1' }, 'Preview'),
    h('p', { class: 'status-line', dataset: { rowCount: String(found.row_count) } }, `The report would have ${count}${shown}.`),
    found.rows.length
      ? h('div', { class: 'table-scroll' }, h('table', { class: 'table compact preview-table' },
        h('thead', {}, h('tr', {}, found.fields.map((f) => h('th', { scope: 'col' }, titles[f] ?? f)))),
        h('tbody', {}, found.rows.map((row) => h('tr', {},
          found.fields.map((f) => h('td', {}, row[f] === null ? '' : String(row[f]))))))))
      : h('p', { class: 'muted' }, 'No rows match.'));
  holder.hidden = false;
  holder.querySelector('h2').focus();
}
