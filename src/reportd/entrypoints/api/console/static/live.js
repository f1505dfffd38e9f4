// Live report state: the SSE stream of /v1/reports/{id}/events, a state badge, a progress bar.

import { ApiError, api, enc, readEvents } from './api.js';
import { formatNumber, h, sleep } from './dom.js';

export const FINAL_STATES = new Set(['FINISHED', 'FAILURE', 'TIMEOUT', 'CANCELED', 'EXPIRED']);
export const STATES = ['CREATED', 'IN_PROGRESS', 'FINISHED', 'FAILURE', 'TIMEOUT', 'CANCELED', 'EXPIRED'];
const STATE_LABELS = {
  CREATED: 'Queued',
  IN_PROGRESS: 'Running',
  FINISHED: 'Finished',
  FAILURE: 'Failed',
  TIMEOUT: 'Timed out',
  CANCELED: 'Canceled',
  EXPIRED: 'Expired',
};

export function isFinal(report) {
  return FINAL_STATES.has(report.state);
}

export function stateLabel(state) {
  return STATE_LABELS[state] ?? state;
}

export function stateBadge(state) {
  return h('span', {
    class: `badge state-${String(state).toLowerCase()}`,
    dataset: { state },
    title: state,
  }, stateLabel(state));
}

/** A <progress> (indeterminate while the total is unknown) with its text beside it. */
export function progressBar(report, labelText) {
  const bar = h('progress', { max: 100, class: 'bar', 'aria-label': labelText ?? 'Progress' });
  const text = h('span', { class: 'progress-text' });
  const wrap = h('div', { class: 'progress' }, bar, text);
  updateProgress(wrap, report);
  return wrap;
}

export function updateProgress(wrap, report) {
  const bar = wrap.querySelector('progress');
  const text = wrap.querySelector('.progress-text');
  const { rows, total_rows: total, percent } = report.progress ?? {};
  const done = report.state === 'FINISHED';
  const value = done ? 100 : percent;
  if (value === null || value === undefined) {
    bar.removeAttribute('value'); // indeterminate: the total is still being counted
  } else {
    bar.value = value;
  }
  wrap.dataset.state = report.state;
  wrap.dataset.percent = value ?? '';
  const count = total ? `${formatNumber(rows)} / ${formatNumber(total)} rows` : `${formatNumber(rows ?? 0)} rows`;
  const pct = value === null || value === undefined ? '' : `${Number(value).toFixed(0)} % · `;
  text.textContent = `${pct}${count}`;
}

// Browsers open at most six HTTP/1.1 connections to one host: a few streams at a time,
// and reports beyond them are polled until a stream is free.
const MAX_STREAMS = 3;
const POLL_MS = 1500;
let streams = 0;

/**
 * Follow a report until it reaches a final state (or the signal aborts), calling
 * onUpdate(report) for each new state. Reconnects after a dropped stream.
 */
export async function watchReport(reportId, onUpdate, signal) {
  let last = null;
  const update = (report) => { last = report; onUpdate(report); };
  while (!signal?.aborted && !(last && isFinal(last))) {
    try {
      if (streams < MAX_STREAMS) {
        streams += 1;
        try {
          await readEvents(`/v1/reports/${enc(reportId)}/events`, (ev) => {
            if (ev.event === 'report') update(JSON.parse(ev.data));
          }, signal);
        } finally {
          streams -= 1;
        }
      } else {
        update(await api(`/v1/reports/${enc(reportId)}`, { signal }));
      }
    } catch (err) {
      if (err.name === 'AbortError') return last;
      if (err instanceof ApiError && err.status >= 400 && err.status < 500) return last;
    }
    if (!(last && isFinal(last))) await sleep(POLL_MS, signal);
  }
  return last;
}
