// Pieces shared by the pages: alerts, headings, file links, report actions.

import { ApiError, api, can, downloadArtifact, enc } from './api.js';
import { formatBytes, h } from './dom.js';
import { isFinal } from './live.js';

/** An error answer as an alert: its code and its message. */
export function errorAlert(err) {
  const code = err instanceof ApiError || typeof err?.code === 'string' ? err.code : 'error';
  return h('div', { class: 'alert alert-error', role: 'alert' },
    h('code', { class: 'error-code' }, code), ' ', err?.message ?? String(err));
}

export function pageHead(title, ...actions) {
  return h('div', { class: 'page-head' },
    h('h1', { tabindex: '-1' }, title),
    actions.length ? h('div', { class: 'page-actions' }, actions) : null);
}

export function artifactLabel(artifact) {
  const kind = artifact.format.toUpperCase();
  const packed = artifact.packaging && artifact.packaging !== 'none' ? `.${artifact.packaging}` : '';
  const part = artifact.part ? ` part ${artifact.part}` : '';
  return `${kind}${packed}${part}`;
}

/** One button per file: a signed link is asked for on click, then the browser downloads it. */
export function fileButtons(report, notify) {
  if (!report.artifacts?.length) return h('span', { class: 'muted' }, '—');
  return h('ul', { class: 'files' }, report.artifacts.map((artifact) => h('li', {},
    h('button', {
      type: 'button',
      class: 'file-link',
      dataset: { format: artifact.format, filename: artifact.filename },
      'aria-label': `Download ${artifact.filename} (${formatBytes(artifact.size)})`,
      title: artifact.filename,
      onclick: async (event) => {
        const button = event.currentTarget;
        button.disabled = true;
        try {
          await downloadArtifact(report, artifact);
        } catch (err) {
          notify(`${err.code ?? 'error'}: ${err.message}`, 'error');
        } finally {
          button.disabled = false;
        }
      },
    }, h('span', { class: 'file-kind' }, artifactLabel(artifact)),
    h('span', { class: 'file-size' }, formatBytes(artifact.size))))));
}

/** Cancel and delete, where the key's scopes and the report's state allow them. */
export function reportActions(report, { me, notify, onChanged, onDeleted }) {
  if (!can(me, 'reports:write')) return null;
  const buttons = [];
  if (!isFinal(report)) {
    buttons.push(h('button', {
      type: 'button',
      class: 'btn btn-small btn-warn',
      dataset: { action: 'cancel' },
      'aria-label': `Cancel report ${report.name}`,
      onclick: async (event) => {
        event.currentTarget.disabled = true;
        try {
          const updated = await api(`/v1/reports/${enc(report.id)}/cancel`, { method: 'POST' });
          notify(updated.state === 'CANCELED' ? 'Report canceled.' : 'Cancel requested; the worker stops at its next check.');
          onChanged?.(updated);
        } catch (err) {
          notify(`${err.code ?? 'error'}: ${err.message}`, 'error');
          event.target.disabled = false;
        }
      },
    }, 'Cancel'));
  }
  if (report.state !== 'IN_PROGRESS') {
    buttons.push(confirmButton(`Delete`, `Delete report ${report.name}`, async () => {
      try {
        await api(`/v1/reports/${enc(report.id)}`, { method: 'DELETE' });
        notify('Report deleted.');
        onDeleted?.(report);
      } catch (err) {
        notify(`${err.code ?? 'error'}: ${err.message}`, 'error');
      }
    }));
  }
  return buttons.length ? h('div', { class: 'row-actions' }, buttons) : null;
}

/** A button that asks "Confirm?" on the first press and acts on the second (within 5 s). */
export function confirmButton(text, label, action) {
  let armed = null;
  const button = h('button', {
    type: 'button',
    class: 'btn btn-small btn-danger',
    dataset: { action: text.toLowerCase() },
    'aria-label': label,
    onclick: async () => {
      if (!armed) {
        button.textContent = `Confirm ${text.toLowerCase()}`;
        button.setAttribute('aria-label', `Confirm: ${label}`);
        button.classList.add('armed');
        armed = setTimeout(() => {
          armed = null;
          button.textContent = text;
          button.setAttribute('aria-label', label);
          button.classList.remove('armed');
        }, 5000);
        return;
      }
      clearTimeout(armed);
      armed = null;
      button.disabled = true;
      await action();
      button.disabled = false;
    },
  }, text);
  return button;
}

export function emptyState(text, action) {
  return h('div', { class: 'empty' }, h('p', {}, text), action ?? null);
}
