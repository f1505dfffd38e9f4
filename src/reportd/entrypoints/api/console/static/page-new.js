// New report: a form generated from the chosen template; the new report's progress in place.

import { api, enc } from './api.js';
import { field, h, replace, uid } from './dom.js';
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
  h('div', { class: 'actions' }, submit));

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
