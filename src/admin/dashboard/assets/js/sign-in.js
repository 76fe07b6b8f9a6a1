// @ts-check
// The token form: posts {"token":"…"} as JSON to /login (the admin listener refuses form
// posts, so no page on another site can post to it either). On success the server has set the
// HttpOnly session cookie and the dashboard loads; a wrong token is shown in the alert.

import { byId } from './dom.js';

const form = byId('login', HTMLFormElement);
const field = byId('token', HTMLInputElement);
const error = byId('login-error', HTMLElement);

/** @param {string} text */
function showError(text) {
  error.textContent = text;
  error.hidden = false;
  field.setAttribute('aria-invalid', 'true');
  field.setAttribute('aria-describedby', 'login-error');
  field.focus();
}

form.addEventListener('submit', async (submit) => {
  submit.preventDefault();
  const button = /** @type {HTMLButtonElement} */ (form.querySelector('button[type=submit]'));
  button.disabled = true;
  try {
    const response = await fetch('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ token: field.value }),
      credentials: 'same-origin',
      cache: 'no-store',
    });
    if (response.ok) {
      location.assign('/');
      return;
    }
    showError(response.status === 401 ? 'That token is not the admin token. Try again.' : `Sign-in failed (HTTP ${response.status}). Try again.`);
  } catch (failure) {
    showError(`Sign-in failed: ${/** @type {Error} */ (failure).message}. Try again.`);
  } finally {
    button.disabled = false;
  }
});
