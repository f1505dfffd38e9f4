// Form controls generated from a template: fields, options (JSON Schema), order, formats,
// packaging and zip password. Each part returns {element, read()}.

import { field, h, humanize, uid } from './dom.js';

/** The template's fields as checkboxes, all checked; read() gives null when all are kept. */
export function fieldsPicker(fields) {
  const boxes = fields.map((f) => h('input', { type: 'checkbox', name: 'fields', value: f.name, checked: true }));
  const all = (on) => boxes.forEach((box) => { box.checked = on; });
  const element = h('fieldset', { class: 'group' },
    h('legend', {}, 'Fields'),
    h('div', { class: 'group-tools' },
      h('button', { type: 'button', class: 'btn btn-small btn-quiet', onclick: () => all(true) }, 'All'),
      h('button', { type: 'button', class: 'btn btn-small btn-quiet', onclick: () => all(false) }, 'None')),
    h('div', { class: 'checks' }, fields.map((f, i) => {
      const id = uid('field');
      boxes[i].id = id;
      return h('div', { class: 'check' }, boxes[i],
        h('label', { for: id }, f.label ?? f.name, f.label ? h('span', { class: 'muted' }, ` ${f.name}`) : null,
          h('span', { class: 'type' }, f.type)));
    })));
  return {
    element,
    read() {
      const chosen = boxes.filter((b) => b.checked).map((b) => b.value);
      if (!chosen.length) return { error: 'Choose at least one field.' };
      return { value: chosen.length === boxes.length ? null : chosen };
    },
  };
}

function optionControl(name, spec, required) {
  const id = uid(`opt-${name}`);
  const common = { id, name: `option-${name}`, dataset: { option: name }, required: required && spec.type !== 'boolean' };
  if (Array.isArray(spec.enum)) {
    const select = h('select', common,
      required || 'default' in spec ? null : h('option', { value: '' }, '—'),
      spec.enum.map((v) => h('option', { value: JSON.stringify(v) }, String(v))));
    if ('default' in spec) select.value = JSON.stringify(spec.default);
    return select;
  }
  if (spec.type === 'boolean') {
    return h('input', { ...common, type: 'checkbox', checked: spec.default === true });
  }
  if (spec.type === 'integer' || spec.type === 'number') {
    return h('input', {
      ...common,
      type: 'number',
      inputmode: spec.type === 'integer' ? 'numeric' : 'decimal',
      min: spec.minimum ?? spec.exclusiveMinimum,
      max: spec.maximum ?? spec.exclusiveMaximum,
      step: spec.multipleOf ?? (spec.type === 'integer' ? 1 : 'any'),
      value: spec.default ?? '',
    });
  }
  if (spec.type === 'string' && spec.format === 'date') {
    return h('input', { ...common, type: 'date', value: spec.default ?? '', min: spec.formatMinimum, max: spec.formatMaximum });
  }
  if (spec.type === 'string' && spec.format === 'date-time') {
    return h('input', { ...common, type: 'datetime-local', step: 1, value: (spec.default ?? '').replace(/Z$/, '').slice(0, 19) });
  }
  if (spec.type === 'string' || spec.type === undefined) {
    return h('input', {
      ...common,
      type: spec.format === 'email' ? 'email' : 'text',
      value: spec.default ?? '',
      minlength: spec.minLength,
      maxlength: spec.maxLength,
      pattern: spec.pattern,
    });
  }
  // Arrays and objects: JSON text, checked by the server against the schema.
  return h('textarea', { ...common, rows: 2, class: 'mono', value: spec.default === undefined ? '' : JSON.stringify(spec.default) });
}

function readOption(control, spec) {
  if (control.type === 'checkbox') return { value: control.checked };
  const raw = control.value;
  if (raw === '') return { skip: true };
  if (control.tagName === 'SELECT') return { value: JSON.parse(raw) };
  if (control.type === 'number') return { value: Number(raw) };
  if (control.type === 'datetime-local') return { value: new Date(raw).toISOString().replace(/\.000Z$/, 'Z') };
  if (control.tagName === 'TEXTAREA') {
    try { return { value: JSON.parse(raw) }; } catch { return { error: `${spec.title ?? 'This option'} is not valid JSON.` }; }
  }
  return { value: raw };
}

/** The template's option parameters, one labelled control each, from their JSON Schema. */
export function optionsForm(schema) {
  const properties = Object.entries(schema?.properties ?? {}).filter(([name]) => name !== 'tenant_id');
  const required = new Set(schema?.required ?? []);
  const controls = new Map();
  const element = h('fieldset', { class: 'group' }, h('legend', {}, 'Options'));
  if (!properties.length) element.append(h('p', { class: 'muted' }, 'This template has no options.'));
  const grid = h('div', { class: 'grid' });
  for (const [name, spec] of properties) {
    const control = optionControl(name, spec, required.has(name));
    const error = h('p', { class: 'field-error', id: `${control.id}-error`, hidden: true });
    controls.set(name, { control, spec, error });
    const label = spec.title ?? humanize(name);
    const row = spec.type === 'boolean'
      ? h('div', { class: 'field check' }, control, h('label', { for: control.id }, label),
        spec.description ? h('p', { class: 'hint', id: `${control.id}-hint` }, spec.description) : null)
      : field(label, control, spec.description);
    if (spec.type === 'boolean' && spec.description) control.setAttribute('aria-describedby', `${control.id}-hint`);
    row.append(error);
    grid.append(row);
  }
  if (properties.length) element.append(grid);
  return {
    element,
    read() {
      const options = {};
      for (const [name, { control, spec }] of controls) {
        const got = readOption(control, spec);
        if (got.error) return { error: got.error, control };
        if (!got.skip) options[name] = got.value;
      }
      return { value: options };
    },
    /** Server errors [{path, message}] shown under their controls; false if none matched. */
    showErrors(details) {
      let shown = false;
      for (const { control, error } of controls.values()) {
        error.hidden = true;
        control.removeAttribute('aria-invalid');
      }
      for (const item of Array.isArray(details) ? details : []) {
        const found = controls.get(String(item.path ?? '').split('/')[0]);
        if (!found) continue;
        found.error.textContent = item.message;
        found.error.hidden = false;
        found.control.setAttribute('aria-invalid', 'true');
        found.control.setAttribute('aria-errormessage', found.error.id);
        if (!shown) found.control.focus();
        shown = true;
      }
      return shown;
    },
  };
}

/** Sort keys: a sortable field and a direction per row; read() gives ["-amount", "id"]. */
export function orderPicker(fields) {
  const sortable = fields.filter((f) => f.sortable);
  const list = h('ol', { class: 'order-list' });
  const add = h('button', { type: 'button', class: 'btn btn-small', disabled: !sortable.length }, '+ Add sort key');
  const element = h('fieldset', { class: 'group' }, h('legend', {}, 'Order'),
    sortable.length ? null : h('p', { class: 'muted' }, 'No field of this template is sortable.'),
    list, add);
  function renumber() {
    [...list.children].forEach((item, i) => {
      item.querySelector('label.sort-field').textContent = `Sort key ${i + 1}`;
      item.querySelector('label.sort-dir').textContent = `Direction of sort key ${i + 1}`;
    });
  }
  add.addEventListener('click', () => {
    const used = new Set([...list.querySelectorAll('select.sort-field')].map((s) => s.value));
    const fieldId = uid('sort');
    const dirId = uid('dir');
    const select = h('select', { id: fieldId, class: 'sort-field' },
      sortable.map((f) => h('option', { value: f.name }, f.label ?? f.name)));
    const free = sortable.find((f) => !used.has(f.name));
    if (free) select.value = free.name;
    const dir = h('select', { id: dirId, class: 'sort-dir' },
      h('option', { value: 'asc' }, 'Ascending'), h('option', { value: 'desc' }, 'Descending'));
    const item = h('li', { class: 'order-row' },
      h('label', { for: fieldId, class: 'sort-field visually-hidden' }), select,
      h('label', { for: dirId, class: 'sort-dir visually-hidden' }), dir,
      h('button', {
        type: 'button',
        class: 'btn btn-small btn-quiet',
        'aria-label': 'Remove this sort key',
        onclick: () => { item.remove(); renumber(); add.focus(); },
      }, 'Remove'));
    list.append(item);
    renumber();
    select.focus();
  });
  return {
    element,
    read() {
      const items = [...list.children].map((item) => {
        const name = item.querySelector('select.sort-field').value;
        return item.querySelector('select.sort-dir').value === 'desc' ? `-${name}` : name;
      });
      const names = items.map((i) => i.replace(/^-/, ''));
      if (new Set(names).size !== names.length) return { error: 'Each field can be a sort key once.' };
      return { value: items };
    },
  };
}

const FORMAT_LABELS = {
  csv: 'CSV', json: 'JSON', ndjson: 'NDJSON', xlsx: 'Excel (XLSX)', parquet: 'Parquet', pdf: 'PDF', zip: 'ZIP bundle of the other files',
};

/** The template's formats plus the zip bundle; the first format is checked. */
export function formatsPicker(formats) {
  const names = [...formats, 'zip'];
  const boxes = names.map((name, i) => h('input', {
    type: 'checkbox', name: 'formats', value: name, id: uid(`fmt-${name}`), checked: i === 0,
  }));
  const element = h('fieldset', { class: 'group' }, h('legend', {}, 'Formats'),
    h('div', { class: 'checks' }, boxes.map((box) => h('div', { class: 'check' }, box,
      h('label', { for: box.id }, FORMAT_LABELS[box.value] ?? box.value.toUpperCase())))));
  return {
    element,
    wantsZip: () => boxes.some((b) => b.value === 'zip' && b.checked),
    read() {
      const chosen = boxes.filter((b) => b.checked).map((b) => b.value);
      if (!chosen.length) return { error: 'Choose at least one format.' };
      if (chosen.length === 1 && chosen[0] === 'zip') return { error: 'The ZIP bundle needs at least one other format.' };
      return { value: chosen };
    },
  };
}

/** Packaging select and the zip password (none, generated, or one of your own). */
export function packagingPicker(formatsPart) {
  const packaging = h('select', { id: uid('packaging'), name: 'packaging' },
    h('option', { value: 'none' }, 'None: plain files'),
    h('option', { value: 'zip' }, 'ZIP each file'),
    h('option', { value: 'gzip' }, 'gzip each file'));
  const group = uid('zip-password');
  const choices = ['none', 'generate', 'custom'].map((value) => h('input', {
    type: 'radio', name: group, value, id: uid(`pw-${value}`), checked: value === 'none',
  }));
  const custom = h('input', {
    type: 'password', id: uid('pw-text'), minlength: 8, autocomplete: 'new-password', disabled: true,
  });
  const note = h('p', { class: 'hint' });
  const labels = { none: 'No password', generate: 'Generate one', custom: 'My own password' };
  const passwordSet = h('fieldset', { class: 'group inner' }, h('legend', {}, 'ZIP password'),
    h('div', { class: 'checks' }, choices.map((c) => h('div', { class: 'check' }, c, h('label', { for: c.id }, labels[c.value])))),
    field('Password (8 characters or more)', custom), note);
  const sync = () => {
    const zip = packaging.value === 'zip' || formatsPart.wantsZip();
    choices.forEach((c) => { c.disabled = !zip; });
    if (!zip) choices[0].checked = true;
    custom.disabled = !zip || !choices[2].checked;
    custom.required = !custom.disabled;
    note.textContent = zip ? 'The ZIP files are AES-256 encrypted with it.' : 'Needs ZIP packaging or the ZIP bundle.';
  };
  const element = h('div', { class: 'packaging' }, field('Packaging', packaging), passwordSet);
  sync();
  return {
    element,
    sync,
    read() {
      const chosen = choices.find((c) => c.checked)?.value ?? 'none';
      let password = null;
      if (chosen === 'generate') password = true;
      if (chosen === 'custom') {
        if (custom.value.length < 8) return { error: 'A ZIP password needs 8 characters or more.', control: custom };
        password = custom.value;
      }
      return { value: { packaging: packaging.value, zip_password: password } };
    },
  };
}
