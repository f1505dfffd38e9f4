// A report definition (fields, options, filter, order, formats, packaging) as form parts,
// shared by the new-report and new-schedule forms.

import { ApiError } from './api.js';
import { h, replace } from './dom.js';
import { filterBox } from './filter-box.js';
import { fieldsPicker, formatsPicker, optionsForm, orderPicker, packagingPicker } from './schema-form.js';
import { errorAlert } from './ui.js';

export function definitionForm(template) {
  const parts = {
    fields: fieldsPicker(template.fields),
    options: optionsForm(template.parameters),
    filter: filterBox(template.id, template.fields),
    order: orderPicker(template.fields),
    formats: formatsPicker(template.formats),
  };
  parts.packaging = packagingPicker(parts.formats);
  const problems = h('div', { class: 'form-problems', tabindex: '-1' });

  function problem(text, control) {
    replace(problems, h('div', { class: 'alert alert-error', role: 'alert' }, text));
    (control ?? problems).focus();
  }

  return {
    parts,
    problems,
    sync: () => parts.packaging.sync(),
    clear: () => replace(problems),

    /** The request body's definition keys, or null after pointing at what is wrong. */
    async collect(form) {
      replace(problems);
      if (!form.checkValidity()) {
        const bad = form.querySelector(':invalid');
        problem(`${bad.labels?.[0]?.textContent ?? 'A field'}: ${bad.validationMessage}`, bad);
        return null;
      }
      const read = {};
      for (const [key, part] of Object.entries(parts)) {
        const got = part.read();
        if (got.error) {
          problem(got.error, got.control ?? part.element.querySelector('input, select'));
          return null;
        }
        read[key] = got.value;
      }
      const checked = await parts.filter.check();
      if (!checked.valid) {
        parts.filter.input.focus();
        return null;
      }
      const body = {
        template_id: template.id,
        formats: read.formats,
        options: read.options,
        order_by: read.order,
        packaging: read.packaging.packaging,
      };
      if (read.fields) body.fields = read.fields;
      if (read.filter) body.filter = read.filter;
      if (read.packaging.zip_password !== null) body.zip_password = read.packaging.zip_password;
      return body;
    },

    /** A create's error shown where it belongs: the filter, an option, or the summary. */
    explain(err) {
      if (err instanceof ApiError && err.code === 'invalid_filter'
        && err.details?.expression === parts.filter.input.value) {
        parts.filter.showError(err);
        return;
      }
      replace(problems, errorAlert(err));
      if (!(err instanceof ApiError && Array.isArray(err.details) && parts.options.showErrors(err.details))) {
        problems.focus();
      }
    },
  };
}
