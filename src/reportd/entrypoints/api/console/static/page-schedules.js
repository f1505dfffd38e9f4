// Schedules: saved report definitions; create, enable/disable, run now, history of runs.

import { api, can, enc, query } from './api.js';
import { field, h, replace, timeEl, uid } from './dom.js';
import { definitionForm } from './definition.js';
import { templatePicker } from './page-new.js';
import { reportsTable } from './reports-table.js';
import { confirmButton, emptyState, errorAlert, pageHead } from './ui.js';

function when(s) {
  if (!s.cron) return h('span', { class: 'muted' }, 'Only when run by hand');
  return h('span', {}, h('code', {}, s.cron), ' ', h('span', { class: 'muted' }, s.timezone));
}

function toggleButton(schedule, ctx, onChanged) {
  const { notify } = ctx;
  return h('button', {
    type: 'button',
    role: 'switch',
    class: 'switch',
    'aria-checked': String(schedule.enabled),
    dataset: { action: 'toggle', scheduleId: schedule.id },
    'aria-label': `Schedule ${schedule.name} enabled`,
    title: schedule.enabled ? 'Enabled: fires on its calendar' : 'Disabled: runs only by hand',
    onclick: async (event) => {
      const button = event.currentTarget;
      button.disabled = true;
      try {
        const updated = await api(`/v1/schedules/${enc(schedule.id)}`, {
          method: 'PATCH', body: { enabled: !schedule.enabled },
        });
        notify(`Schedule ${updated.enabled ? 'enabled' : 'disabled'}.`);
        onChanged(updated); // redrawn: the focus goes to the new switch
        document.querySelector(`[data-action=toggle][data-schedule-id="${CSS.escape(schedule.id)}"]`)?.focus();
      } catch (err) {
        notify(`${err.code ?? 'error'}: ${err.message}`, 'error');
        button.disabled = false;
      }
    },
  }, h('span', { class: 'switch-track', 'aria-hidden': 'true' }), schedule.enabled ? 'On' : 'Off');
}

function runButton(schedule, ctx) {
  const { notify, navigate } = ctx;
  return h('button', {
    type: 'button',
    class: 'btn btn-small',
    dataset: { action: 'run' },
    'aria-label': `Run schedule ${schedule.name} now`,
    onclick: async (event) => {
      const button = event.currentTarget;
      button.disabled = true;
      try {
        const report = await api(`/v1/schedules/${enc(schedule.id)}/run`, { method: 'POST' });
        notify('Report queued.', 'info', h('a', { href: `#/reports/${enc(report.id)}` }, 'Open it'));
        navigate(`#/schedules/${enc(schedule.id)}`);
      } catch (err) {
        notify(`${err.code ?? 'error'}: ${err.message}`, 'error');
      } finally {
        button.disabled = false;
      }
    },
  }, 'Run now');
}

export async function renderSchedules(ctx) {
  const { main, me, signal, notify } = ctx;
  const page = await api(`/v1/schedules${query({ limit: 200 })}`, { signal });
  const write = can(me, 'schedules:write');
  const body = h('tbody');
  const row = (s) => {
    const tr = h('tr', { dataset: { scheduleId: s.id } });
    const draw = (x) => replace(tr,
      h('td', { dataset: { label: 'Schedule' } },
        h('a', { href: `#/schedules/${enc(x.id)}` }, x.name),
        h('div', { class: 'sub' }, x.template_id, ' · ', x.formats.join(', '))),
      h('td', { dataset: { label: 'When' } }, when(x)),
      h('td', { dataset: { label: 'Next run' } }, timeEl(x.next_fire_at, '—', { short: true })),
      h('td', { dataset: { label: 'Enabled' } }, write ? toggleButton(x, ctx, draw)
        : h('span', {}, x.enabled ? 'Enabled' : 'Disabled')),
      h('td', { dataset: { label: 'Actions' } }, h('div', { class: 'row-actions' },
        write ? runButton(x, ctx) : null,
        h('a', { class: 'btn btn-small btn-quiet', href: `#/schedules/${enc(x.id)}` }, 'History'),
        write ? confirmButton('Delete', `Delete schedule ${x.name}`, async () => {
          try {
            await api(`/v1/schedules/${enc(x.id)}`, { method: 'DELETE' });
            tr.remove();
            notify('Schedule deleted.');
          } catch (err) {
            notify(`${err.code ?? 'error'}: ${err.message}`, 'error');
          }
        }) : null)));
    draw(s);
    return tr;
  };
  page.results.forEach((s) => body.append(row(s)));
  const newLink = write ? h('a', { class: 'btn btn-primary', href: '#/schedules/new' }, 'New schedule') : null;
  replace(main,
    pageHead('Schedules', newLink),
    page.results.length
      ? h('table', { class: 'table responsive schedules-table' },
        h('caption', { class: 'visually-hidden' }, 'Schedules'),
        h('thead', {}, h('tr', {}, ['Schedule', 'When', 'Next run', 'Enabled', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))),
        body)
      : emptyState('No schedules yet. A schedule saves a report definition, runs it on a cron calendar, or when you ask.', newLink));
}

export async function renderSchedule(ctx) {
  const { main, me, params, signal, notify } = ctx;
  const [scheduleId] = params;
  const [schedule, runs] = await Promise.all([
    api(`/v1/schedules/${enc(scheduleId)}`, { signal }),
    api(`/v1/schedules/${enc(scheduleId)}/runs${query({ limit: 50 })}`, { signal }),
  ]);
  const write = can(me, 'schedules:write');
  const table = reportsTable({ me, signal, notify, caption: `Runs of ${schedule.name}, newest first` });
  const details = h('dl', { class: 'details' });
  const drawDetails = (s) => replace(details,
    h('dt', {}, 'Template'), h('dd', {}, h('a', { href: `#/templates/${enc(s.template_id)}` }, s.template_id)),
    h('dt', {}, 'When'), h('dd', {}, when(s)),
    h('dt', {}, 'Enabled'), h('dd', {}, write ? toggleButton(s, ctx, drawDetails) : String(s.enabled)),
    h('dt', {}, 'Next run'), h('dd', {}, timeEl(s.next_fire_at)),
    h('dt', {}, 'Last fired'), h('dd', {}, timeEl(s.last_fired_at)),
    h('dt', {}, 'Formats'), h('dd', {}, s.formats.join(', ')),
    h('dt', {}, 'Filter'), h('dd', {}, s.filter ? h('code', {}, s.filter) : h('span', { class: 'muted' }, '—')),
    h('dt', {}, 'Options'), h('dd', {}, h('pre', { class: 'json' }, JSON.stringify(s.options, null, 2))),
    h('dt', {}, 'Created by'), h('dd', {}, s.created_by ?? '—'));
  drawDetails(schedule);
  if (runs.results.length) table.show(runs.results);
  replace(main,
    pageHead(schedule.name,
      h('a', { class: 'btn', href: '#/schedules' }, '← All schedules'),
      write ? runButton(schedule, ctx) : null),
    h('section', { class: 'card', 'aria-labelledby': 'schedule-details' },
      h('h2', { id: 'schedule-details' }, 'Definition'), details),
    write ? editForm(schedule, ctx, drawDetails) : null,
    h('section', { 'aria-labelledby': 'history-title' },
      h('h2', { id: 'history-title' }, `History (${runs.total_count} ${runs.total_count === 1 ? 'run' : 'runs'})`),
      runs.results.length ? table.element : emptyState('No runs yet.')));
}

/** Change a schedule in place: name, calendar, zone, formats and options (JSON, so relative
 * dates such as "today-7d" can be written); a PATCH, checked by the server like a create. */
function editForm(schedule, ctx, onSaved) {
  const { notify } = ctx;
  const zones = timeZones();
  const name = h('input', { type: 'text', id: uid('name'), required: true, maxlength: 300, value: schedule.name });
  const cron = h('input', { type: 'text', id: uid('cron'), class: 'mono', maxlength: 200, value: schedule.cron ?? '', spellcheck: 'false' });
  const zone = h('input', { type: 'text', id: uid('tz'), list: zones.id, required: true, value: schedule.timezone });
  const formats = h('input', { type: 'text', id: uid('formats'), required: true, value: schedule.formats.join(', ') });
  const options = h('textarea', { id: uid('options'), class: 'mono', rows: 6, spellcheck: 'false' },
    JSON.stringify(schedule.options ?? {}, null, 2));
  const problems = h('div', { class: 'form-problems', tabindex: '-1' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save changes');
  const form = h('form', {
    class: 'card form',
    'aria-label': 'Edit schedule',
    onsubmit: async (event) => {
      event.preventDefault();
      replace(problems);
      let parsed;
      try {
        parsed = JSON.parse(options.value || '{}');
      } catch (err) {
        replace(problems, h('div', { class: 'alert alert-error', role: 'alert' }, `Options: not JSON (${err.message})`));
        options.focus();
        return;
      }
      const body = {
        name: name.value.trim(),
        timezone: zone.value.trim(),
        formats: formats.value.split(',').map((f) => f.trim()).filter(Boolean),
        options: parsed,
        cron: cron.value.trim() || null,
      };
      submit.disabled = true;
      try {
        const saved = await api(`/v1/schedules/${enc(schedule.id)}`, { method: 'PATCH', body });
        onSaved(saved);
        notify('Schedule saved.');
      } catch (err) {
        replace(problems, errorAlert(err));
        problems.focus();
      } finally {
        submit.disabled = false;
      }
    },
  },
  h('h2', {}, 'Edit'),
  field('Name', name),
  field('Cron expression', cron, 'Empty: only when run by hand.'),
  field('Time zone', zone),
  zones,
  field('Formats', formats, 'Comma-separated, among the template\'s formats.'),
  field('Options (JSON)', options, 'Date options may be relative: "today-7d", "start_of_month", ... taken on each run\'s day in the schedule\'s zone.'),
  problems,
  h('div', { class: 'actions' }, submit));
  return form;
}

function timeZones() {
  const list = h('datalist', { id: uid('zones') });
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  ['UTC', ...zones].forEach((z) => list.append(h('option', { value: z })));
  return list;
}

export async function renderNewSchedule(ctx) {
  const { main, signal, navigate, query: params } = ctx;
  const { results: templates } = await api('/v1/templates', { signal });
  if (!templates.length) {
    replace(main, pageHead('New schedule'), emptyState('No templates are configured on this server.'));
    return;
  }
  const template = templates.find((t) => t.id === params.get('template')) ?? templates[0];
  const picker = templatePicker(templates, template);
  picker.addEventListener('change', () => navigate(`#/schedules/new?template=${enc(picker.value)}`));
  const definition = definitionForm(template);
  const { parts } = definition;
  const zones = timeZones();
  const name = h('input', { type: 'text', id: uid('name'), required: true, maxlength: 300, value: template.name });
  const cron = h('input', { type: 'text', id: uid('cron'), class: 'mono', maxlength: 200, placeholder: '0 6 * * 1', spellcheck: 'false' });
  const zone = h('input', {
    type: 'text', id: uid('tz'), list: zones.id, required: true, value: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC',
  });
  const enabled = h('input', { type: 'checkbox', id: uid('enabled'), checked: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create schedule');
  const form = h('form', {
    class: 'report-form',
    novalidate: true,
    'aria-label': 'New schedule',
    onchange: definition.sync,
    onsubmit: async (event) => {
      event.preventDefault();
      const body = await definition.collect(form);
      if (!body) return;
      Object.assign(body, { name: name.value.trim(), timezone: zone.value.trim(), enabled: enabled.checked });
      if (cron.value.trim()) body.cron = cron.value.trim();
      submit.disabled = true;
      try {
        const created = await api('/v1/schedules', { method: 'POST', body, signal });
        ctx.notify('Schedule created.');
        navigate(`#/schedules/${enc(created.id)}`);
      } catch (err) {
        if (err.name !== 'AbortError') definition.explain(err);
      } finally {
        submit.disabled = false;
      }
    },
  },
  h('div', { class: 'form-grid' },
    h('div', { class: 'card' },
      h('h2', {}, 'When'),
      field('Name', name),
      field('Cron expression', cron, 'Five fields: minute hour day-of-month month day-of-week, e.g. 0 6 * * 1 for Mondays at 06:00. Empty: only when run by hand.'),
      field('Time zone', zone, 'The zone the cron expression is read in (IANA name).'),
      zones,
      h('div', { class: 'field check' }, enabled, h('label', { for: enabled.id }, 'Enabled'))),
    h('div', { class: 'card' },
      h('h2', {}, 'What'),
      parts.fields.element,
      parts.options.element),
    h('div', { class: 'card' },
      h('h2', {}, 'Which rows'),
      parts.filter.element,
      parts.order.element),
    h('div', { class: 'card' },
      h('h2', {}, 'Files'),
      parts.formats.element,
      parts.packaging.element)),
  definition.problems,
  h('div', { class: 'actions' }, submit));
  replace(main,
    pageHead('New schedule', h('a', { class: 'btn', href: '#/schedules' }, '← All schedules')),
    h('section', { class: 'card template-pick', 'aria-label': 'Choose a template' },
      field('Template', picker, template.description || null)),
    form);
}
