// Sign in with an API key; the key is checked against /v1/me before it is kept.

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

  replace(main, h('div', { class: 'signin-wrap' }, form));
  if (!message) input.focus();
}
