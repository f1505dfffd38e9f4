// Report detail: every field, files with sha256 and signed links, the error, a PDF preview,
// and how each delivery to a destination stands (polled while one is still pending).

import { api, downloadArtifact, enc, signedLink } from './api.js';
import {
  copyText, formatBytes, formatNumber, formatRelative, h, replace, timeEl, uid,
} from './dom.js';
import { isFinal, progressBar, stateBadge, updateProgress, watchReport } from './live.js';
import { artifactLabel, errorAlert, pageHead, reportActions } from './ui.js';

const PREVIEW_MAX_BYTES = 25 * 1024 * 1024;
const DELIVERY_POLL_MS = 2000;

export async function renderReport({ main, me, params, signal, notify, navigate }) {
  const [reportId] = params;
  const report = await api(`/v1/reports/${enc(reportId)}`, { signal });
  let shownState = null;
  let bar = null;
  const previews = [];
  signal.addEventListener('abort', () => previews.forEach((url) => URL.revokeObjectURL(url)));
  const names = await destinationNames(report, signal);
  const deliveries = h('div', { class: 'deliveries-holder' });
  let polling = false;
  const showDeliveries = (r) => {
    replace(deliveries, deliveriesSection(r, names));
    if (!polling && isFinal(r) && r.deliveries.some((d) => d.state === 'pending')) {
      polling = true;
      pollDeliveries(r.id, showDeliveries, signal).finally(() => { polling = false; });
    }
  };

  const draw = (r) => {
    if (r.state === shownState && bar) {
      updateProgress(bar, r);
      return;
    }
    shownState = r.state;
    bar = progressBar(r, `Progress of ${r.name}`);
    const keepFocus = document.activeElement?.dataset?.action;
    replace(main,
      pageHead(r.name,
        h('a', { class: 'btn', href: '#/reports' }, '← All reports'),
        reportActions(r, {
          me,
          notify,
          onChanged: draw,
          onDeleted: () => navigate('#/reports'),
        })),
      h('section', { class: 'card status-card', 'aria-label': 'Status' },
        h('div', { class: 'status-line' }, stateBadge(r.state),
          h('span', { class: 'muted' }, isFinal(r) ? `ended ${r.finished_at ? formatRelative(r.finished_at) : ''}` : 'live')),
        bar),
      r.error ? reportError(r) : null,
      deliveries,
      artifactsSection(r, notify),
      previewSection(r, previews, signal),
      detailsSection(r));
    if (keepFocus) main.querySelector(`[data-action="${keepFocus}"]`)?.focus();
  };
  const drawAll = (r) => { draw(r); showDeliveries(r); };
  drawAll(report);
  if (!isFinal(report)) watchReport(report.id, drawAll, signal);
}

// Names of the destinations a report names (the list is the caller's own; ids stay if not).
async function destinationNames(report, signal) {
  if (!report.destinations?.length) return {};
  try {
    const page = await api('/v1/destinations', { signal });
    return Object.fromEntries(page.results.map((d) => [d.id, `${d.name} (${d.type})`]));
  } catch {
    return {};
  }
}

// After FINISHED the event stream has ended; deliveries go on, so their state is polled.
async function pollDeliveries(reportId, show, signal) {
  while (!signal.aborted) {
    await new Promise((done) => setTimeout(done, DELIVERY_POLL_MS));
    if (signal.aborted) return;
    let r;
    try {
      r = await api(`/v1/reports/${enc(reportId)}`, { signal });
    } catch {
      continue;
    }
    show(r);
    if (!r.deliveries.some((d) => d.state === 'pending')) return;
  }
}

function deliveriesSection(r, names) {
  if (!r.deliveries?.length) return null;
  const rows = r.deliveries.map((d) => h('tr', { dataset: { destination: d.destination_id, state: d.state } },
    h('td', { 'data-label': 'Destination' }, names[d.destination_id] ?? h('code', {}, d.destination_id)),
    h('td', { 'data-label': 'State' },
      h('span', { class: `badge delivery-${d.state}`, title: d.state }, d.state)),
    h('td', { 'data-label': 'Attempts' }, String(d.attempts)),
    h('td', { 'data-label': 'When' },
      d.delivered_at ? ['delivered ', timeEl(d.delivered_at)]
        : d.state === 'pending' && d.next_attempt_at && d.attempts ? ['next try ', timeEl(d.next_attempt_at)] : '—'),
    h('td', { 'data-label': 'Last error', class: 'delivery-error' },
      d.last_error ? h('code', {}, d.last_error) : h('span', { class: 'muted' }, '—'))));
  return h('section', { class: 'card', 'aria-labelledby': 'deliveries-title' },
    h('h2', { id: 'deliveries-title' }, 'Deliveries'),
    h('table', { class: 'table responsive deliveries-table' },
      h('caption', { class: 'visually-hidden' }, 'Where this report is delivered, and how each delivery stands'),
      h('thead', {}, h('tr', {}, ['Destination', 'State', 'Attempts', 'When', 'Last error'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows)));
}

function reportError(r) {
  const kind = r.state === 'CANCELED' ? 'alert-warn' : 'alert-error';
  return h('section', { class: `alert ${kind}`, role: 'alert', 'aria-label': 'Error' },
    h('strong', {}, r.state === 'CANCELED' ? 'Canceled: ' : 'The report failed: '),
    h('code', { class: 'error-code' }, r.error.code), ' ', r.error.message);
}

function row(term, ...value) {
  return [h('dt', {}, term), h('dd', {}, value.length ? value : h('span', { class: 'muted' }, '—'))];
}

function code(value) {
  return value === null || value === undefined || value === '' ? [] : [h('code', {}, value)];
}

function detailsSection(r) {
  const password = r.zip_password ? secret(r.zip_password) : null;
  return h('section', { class: 'card', 'aria-labelledby': 'details-title' },
    h('h2', { id: 'details-title' }, 'Details'),
    h('dl', { class: 'details' },
      row('ID', ...code(r.id)),
      row('Template', h('a', { href: `#/templates/${enc(r.template_id)}` }, r.template_id),
        r.template_version ? h('span', { class: 'template-version' }, ` · version ${r.template_version}`) : null),
      row('Tenant', ...code(r.tenant_id)),
      row('Created by', ...(r.created_by ? [r.created_by] : [])),
      row('Schedule', ...(r.schedule_id ? [h('a', { href: `#/schedules/${enc(r.schedule_id)}` }, r.schedule_id)] : [])),
      row('Created', timeEl(r.created_at)),
      row('Started', timeEl(r.started_at)),
      row('Finished', timeEl(r.finished_at)),
      row('Files expire', timeEl(r.expires_at)),
      r.scheduled_for ? row('Scheduled for', timeEl(r.scheduled_for)) : null,
      row('Rows', `${formatNumber(r.progress.rows)}${r.progress.total_rows !== null ? ` of ${formatNumber(r.progress.total_rows)}` : ''}`),
      row('Formats', r.formats.join(', ')),
      row('Packaging', r.packaging),
      row('ZIP password', ...(password ? [password] : [])),
      row('Storage', ...code(r.storage_id)),
      row('Fields', h('ul', { class: 'tags' }, r.fields.map((f) => h('li', {}, f)))),
      row('Filter', ...code(r.filter)),
      row('Order by', ...code(r.order_by.join(', '))),
      row('Options', h('pre', { class: 'json' }, JSON.stringify(r.options, null, 2)))));
}

function secret(value) {
  const text = h('code', { class: 'secret' }, '••••••••');
  let shown = false;
  const toggle = h('button', {
    type: 'button',
    class: 'btn btn-small btn-quiet',
    'aria-pressed': 'false',
    onclick: () => {
      shown = !shown;
      text.textContent = shown ? value : '••••••••';
      toggle.textContent = shown ? 'Hide' : 'Show';
      toggle.setAttribute('aria-pressed', String(shown));
    },
  }, 'Show');
  return h('span', { class: 'secret-wrap' }, text, ' ', toggle);
}

function artifactsSection(r, notify) {
  if (!r.artifacts.length) return null;
  return h('section', { class: 'card', 'aria-labelledby': 'files-title' },
    h('h2', { id: 'files-title' }, 'Files'),
    h('ul', { class: 'artifacts' }, r.artifacts.map((a) => artifactItem(r, a, notify))));
}

function artifactItem(r, artifact, notify) {
  const linkArea = h('div', { class: 'signed', hidden: true });
  const getLink = h('button', {
    type: 'button',
    class: 'btn btn-small',
    dataset: { action: 'link' },
    'aria-label': `Get a signed link for ${artifact.filename}`,
    onclick: async () => {
      getLink.disabled = true;
      try {
        const link = await signedLink(r, artifact);
        showLink(linkArea, link, notify);
        getLink.textContent = 'New link';
      } catch (err) {
        notify(`${err.code ?? 'error'}: ${err.message}`, 'error');
      } finally {
        getLink.disabled = false;
      }
    },
  }, 'Get signed link');
  const download = h('button', {
    type: 'button',
    class: 'btn btn-small btn-primary',
    dataset: { action: 'download' },
    'aria-label': `Download ${artifact.filename}`,
    onclick: async () => {
      download.disabled = true;
      try {
        await downloadArtifact(r, artifact); // one click: the link is fetched and followed
      } catch (err) {
        notify(`${err.code ?? 'error'}: ${err.message}`, 'error');
      } finally {
        download.disabled = false;
      }
    },
  }, 'Download');
  return h('li', { class: 'artifact', dataset: { format: artifact.format } },
    h('div', { class: 'artifact-head' },
      h('span', { class: 'file-kind' }, artifactLabel(artifact)),
      h('strong', { class: 'filename' }, artifact.filename),
      h('span', { class: 'muted' }, `${formatBytes(artifact.size)} · ${formatNumber(artifact.rows)} rows · ${artifact.mime_type}`),
      download, getLink),
    h('div', { class: 'sha' }, h('span', { class: 'muted' }, 'SHA-256 '), h('code', { class: 'hash' }, artifact.sha256)),
    linkArea);
}

function showLink(area, link, notify) {
  const id = uid('link');
  const input = h('input', { id, type: 'text', readOnly: true, value: link.download_url, class: 'mono', spellcheck: 'false' });
  replace(area,
    h('label', { for: id }, 'Signed link (no key needed)'),
    h('div', { class: 'copy-row' }, input,
      h('button', {
        type: 'button',
        class: 'btn btn-small',
        onclick: async () => {
          input.select();
          const ok = await copyText(link.download_url);
          notify(ok ? 'Link copied.' : 'Select the link and copy it (the clipboard is not available here).', ok ? 'info' : 'error');
        },
      }, 'Copy'),
      h('a', { class: 'btn btn-small btn-primary', href: link.download_url }, 'Download')),
    h('p', { class: 'hint' }, 'Expires ', timeEl(link.expires_at), ` (${formatRelative(link.expires_at)}).`));
  area.hidden = false;
  input.focus();
  input.select();
}

function previewSection(r, previews, signal) {
  const pdf = r.artifacts.find((a) => a.format === 'pdf' && a.packaging === 'none' && !a.part)
    ?? r.artifacts.find((a) => a.format === 'pdf' && a.packaging === 'none');
  if (!pdf) return null;
  const holder = h('div', { class: 'preview' });
  const section = h('section', { class: 'card', 'aria-labelledby': 'preview-title' },
    h('h2', { id: 'preview-title' }, 'Preview'), holder);
  if (pdf.size > PREVIEW_MAX_BYTES) {
    replace(holder, h('p', { class: 'muted' }, `The PDF is ${formatBytes(pdf.size)}: too large to preview here. Download it instead.`));
    return section;
  }
  replace(holder, h('p', { class: 'muted' }, 'Loading the first page…'));
  loadPreview(r, pdf, holder, previews, signal);
  return section;
}

// The signed link answers "Content-Disposition: attachment", which would make a frame
// download the file; the bytes are fetched from it and shown from a blob instead.
async function loadPreview(r, pdf, holder, previews, signal) {
  try {
    const link = await signedLink(r, pdf);
    const response = await fetch(link.download_url, { signal, cache: 'no-store' });
    if (!response.ok) throw new Error(`the file answered ${response.status}`);
    const blob = new Blob([await response.arrayBuffer()], { type: 'application/pdf' });
    const url = URL.createObjectURL(blob);
    previews.push(url);
    replace(holder, h('iframe', {
      class: 'pdf-frame',
      title: `First page of ${pdf.filename}`,
      src: `${url}#page=1&view=FitH&navpanes=0`,
      dataset: { source: link.download_url.split('?')[0], size: blob.size },
    }));
  } catch (err) {
    if (err.name === 'AbortError') return;
    replace(holder, errorAlert(err));
  }
}
