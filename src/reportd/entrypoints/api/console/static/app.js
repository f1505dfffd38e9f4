// The console's entry point: who is signed in, the hash router, notices.

import { ApiError, api, can, session } from './api.js';
import { h, replace } from './dom.js';
import { errorAlert } from './ui.js';
import { renderSignIn } from './page-signin.js';
import { renderReports } from './page-reports.js';
import { renderReport } from './page-report.js';
import { renderNewReport } from './page-new.js';
import { renderSchedules, renderSchedule, renderNewSchedule } from './page-schedules.js';
import { renderTemplates, renderTemplate } from './page-templates.js';
import { renderNewTemplate, renderEditTemplate } from './page-template-editor.js';
import { renderWebhooks, renderNewWebhook, renderWebhook } from './page-webhooks.js';
import { renderDestinations, renderNewDestination } from './page-destinations.js';
import { renderKeys } from './page-keys.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
const notices = document.getElementById('notices');

const ROUTES = [
  { path: /^\/reports\/?$/, page: renderReports, nav: 'reports', scope: 'reports:read' },
  { path: /^\/reports\/([^/]+)$/, page: renderReport, nav: 'reports', scope: 'reports:read' },
  { path: /^\/new(?:\/([^/]+))?$/, page: renderNewReport, nav: 'new', scope: 'reports:write' },
  { path: /^\/schedules\/?$/, page: renderSchedules, nav: 'schedules', scope: 'schedules:read' },
  { path: /^\/schedules\/new$/, page: renderNewSchedule, nav: 'schedules', scope: 'schedules:write' },
  { path: /^\/schedules\/([^/]+)$/, page: renderSchedule, nav: 'schedules', scope: 'schedules:read' },
  { path: /^\/templates\/?$/, page: renderTemplates, nav: 'templates', scope: 'templates:read' },
  { path: /^\/templates\/new$/, page: renderNewTemplate, nav: 'templates', scope: 'templates:write' },
  { path: /^\/templates\/([^/]+)\/edit$/, page: renderEditTemplate, nav: 'templates', scope: 'templates:write' },
  { path: /^\/templates\/([^/]+)$/, page: renderTemplate, nav: 'templates', scope: 'templates:read' },
  { path: /^\/webhooks\/?$/, page: renderWebhooks, nav: 'webhooks', scope: 'reports:read' },
  { path: /^\/webhooks\/new$/, page: renderNewWebhook, nav: 'webhooks', scope: 'reports:write' },
  { path: /^\/webhooks\/([^/]+)$/, page: renderWebhook, nav: 'webhooks', scope: 'reports:read' },
  { path: /^\/destinations\/?$/, page: renderDestinations, nav: 'destinations', scope: 'reports:read' },
  { path: /^\/destinations\/new$/, page: renderNewDestination, nav: 'destinations', scope: 'reports:write' },
  { path: /^\/keys\/?$/, page: renderKeys, nav: 'keys', scope: 'admin' },
];

let me = null;
let current = null; // the AbortController of the page on screen
let moveFocus = false; // after the first page, each new page's heading takes the focus

/** A short message in the notice area (announced by screen readers). */
export function notify(text, kind = 'info', action) {
  const item = h('div', { class: `notice notice-${kind}` }, h('span', {}, text), action ?? null,
    h('button', {
      type: 'button',
      class: 'btn btn-quiet btn-small',
      'aria-label': 'Dismiss',
      onclick: () => item.remove(),
    }, '×'));
  notices.append(item);
  setTimeout(() => item.remove(), kind === 'error' ? 12000 : 6000);
}

function firstAllowed() {
  const route = ROUTES.find((r) => r.path.source.endsWith('\\/?$') && can(me, r.scope));
  return route ? `#/${route.nav}` : null;
}

function parseHash() {
  const raw = window.location.hash.replace(/^#/, '') || '/reports';
  const [path, search = ''] = raw.split('?');
  return { path, query: new URLSearchParams(search) };
}

async function route() {
  current?.abort();
  current = new AbortController();
  if (!me) return;
  const { path, query } = parseHash();
  const match = ROUTES.map((r) => [r, r.path.exec(path)]).find(([, m]) => m);
  for (const link of nav.querySelectorAll('a')) {
    if (match && link.dataset.nav === match[0].nav) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (!match) {
    replace(main, h('h1', { tabindex: '-1' }, 'Not found'), h('p', {}, 'No such page. ',
      h('a', { href: '#/reports' }, 'Go to the reports.')));
    main.querySelector('h1').focus();
    return;
  }
  const [entry, groups] = match;
  if (!can(me, entry.scope)) {
    replace(main, h('h1', { tabindex: '-1' }, 'Not allowed'),
      h('p', {}, 'This API key lacks the ', h('code', {}, entry.scope), ' scope this page needs.'));
    main.querySelector('h1').focus();
    return;
  }
  const params = groups.slice(1).map((g) => (g === undefined ? undefined : decodeURIComponent(g)));
  const ctx = { main, me, params, query, signal: current.signal, notify, navigate };
  replace(main, h('p', { class: 'muted loading' }, 'Loading…'));
  try {
    await entry.page(ctx);
  } catch (err) {
    if (err.name === 'AbortError' || ctx.signal.aborted) return;
    replace(main, h('h1', { tabindex: '-1' }, 'Something went wrong'), errorAlert(err));
  }
  if (moveFocus && !ctx.signal.aborted && !main.contains(document.activeElement)) {
    main.querySelector('h1')?.focus({ preventScroll: true });
  }
  moveFocus = true;
}

export function navigate(hash) {
  if (window.location.hash === hash) route();
  else window.location.hash = hash;
}

function showSignedIn() {
  for (const link of nav.querySelectorAll('a')) {
    const entry = ROUTES.find((r) => r.nav === link.dataset.nav);
    link.hidden = !can(me, entry.scope);
  }
  nav.hidden = false;
  who.hidden = false;
  document.getElementById('who-name').textContent = `${me.key_name} @ ${me.tenant_id}`;
  document.getElementById('who-name').title = `Scopes: ${me.scopes.join(', ')}`;
}

function signOut(message) {
  current?.abort();
  me = null;
  session.clear();
  nav.hidden = true;
  who.hidden = true;
  renderSignIn(main, {
    message,
    onSignedIn(found) {
      me = found;
      showSignedIn();
      const target = window.location.hash && window.location.hash !== '#/' ? window.location.hash : firstAllowed();
      if (target && target !== window.location.hash) window.location.hash = target;
      else route();
    },
  });
}

async function start() {
  document.getElementById('sign-out').addEventListener('click', () => signOut());
  document.getElementById('skip').addEventListener('click', () => main.focus());
  window.addEventListener('hashchange', route);
  window.addEventListener('reportd:unauthorized', () => {
    if (me) signOut({ code: 'authentication_failed', message: 'The API key is no longer valid.' });
  });
  if (!session.key) {
    signOut();
    return;
  }
  try {
    me = await api('/v1/me');
  } catch (err) {
    signOut(err instanceof ApiError ? err : { code: 'error', message: String(err) });
    return;
  }
  showSignedIn();
  if (!window.location.hash) window.location.replace(firstAllowed() ?? '#/reports'); // routes
  else route();
}

start();
