// Sign in with an API key, or with a username and password (a reportd user: the token from
// POST /api-token-auth/ is used like a key); either is checked against /v1/me before it is kept.

import { ApiError, api, session } from './api.js';
import { h, replace } from './dom.js';

export function renderSignIn(main, { message, onSignedIn }) {
  const input = h('input', {
    id: 'api-key',
    name: 'api-key',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    placeholder: 'rk_…',
    'aria-describedby': 'api-key-hint',
  });
  const error = h('div', { class: 'alert alert-error', id: 'signin-error', role: 'alert', hidden: true });
  const button = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Sign in');
  const showError = (code, text) => {
    replace(error, h('strong', {}, 'Could not sign in: '), h('code', { class: 'error-code' }, code), ' ', text);
    error.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  };
  if (message) showError(message.code, message.message);

  const form = h('form', {
    class: 'card signin',
    'aria-labelledby': 'signin-title',
    onsubmit: async (event) => {
      event.preventDefault();
      const key = input.value.trim();
      if (!key) return;
      button.disabled = true;
      button.textContent = 'Signing in…';
      try {
        const me = await api('/v1/me', { key });
        session.set(key);
        onSignedIn(me);
      } catch (err) {
        const known = err instanceof ApiError;
        showError(known ? err.code : 'error', known ? err.message : String(err));
      } finally {
        button.disabled = false;
        button.textContent = 'Sign in';
      }
    },
  },
  h('h1', { id: 'signin-title', tabindex: '-1' }, 'Sign in'),
  h('p', { class: 'lead' }, 'Use an API key of your tenant. Make one with ',
    h('code', {}, 'reportd keys create --tenant T --name N --scopes admin'), '.'),
  h('div', { class: 'field' },
    h('label', { for: 'api-key' }, 'API key'),
    input,
    h('p', { class: 'hint', id: 'api-key-hint' },
      'Kept in this browser tab’s session storage only, and sent to this server alone.')),
  error,
  h('div', { class: 'actions' }, button));

  const username = h('input', { id: 'username', name: 'username', autocomplete: 'username', required: true });
  const password = h('input', {
    id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true,
  });
  const userButton = h('button', { type: 'submit', class: 'btn' }, 'Use my password');
  const userForm = h('form', {
    class: 'card signin',
    'aria-label': 'Password sign-in',
    onsubmit: async (event) => {
      event.preventDefault();
      userButton.disabled = true;
      try {
        const response = await fetch('/api-token-auth/', {
          method: 'POST',
          cache: 'no-store',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ username: username.value, password: password.value }),
        });
        const body = await response.json().catch(() => ({}));
        if (!response.ok || !body.token) {
          const why = (body.non_field_errors ?? [])[0] ?? 'Unable to log in with provided credentials.';
          showError('authentication_failed', why);
          return;
        }
        const me = await api('/v1/me', { key: body.token });
        session.set(body.token);
        onSignedIn(me);
      } catch (err) {
        const known = err instanceof ApiError;
        showError(known ? err.code : 'error', known ? err.message : String(err));
      } finally {
        userButton.disabled = false;
      }
    },
  },
  h('p', { class: 'lead' }, 'Or sign in as a user made with ',
    h('code', {}, 'reportd users create --tenant T --username U --password-stdin'), '.'),
  h('div', { class: 'field' }, h('label', { for: 'username' }, 'Username'), username),
  h('div', { class: 'field' }, h('label', { for: 'password' }, 'Password'), password),
  h('div', { class: 'actions' }, userButton));

  replace(main, h('div', { class: 'signin-wrap' }, form, userForm));
  if (!message) input.focus();
}
