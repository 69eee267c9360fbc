// The login form. The first login with a new username registers it (the page says so).
import * as api from './api.js';
import { byId } from './dom.js';
import { clear, describe, invalid, valid } from './feedback.js';
import { setToken } from './session.js';

const PASSWORD_MAX_BYTES = 72; // bcrypt reads no more; the server refuses longer passwords

export function initLogin(onLoggedIn) {
  const form = byId('login-form');
  const username = byId('login-username');
  const password = byId('login-password');
  const error = byId('login-error');
  const submit = form.querySelector('button[type="submit"]');

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clear(error);
    valid(username, password);
    const name = username.value.trim();
    if (!name) return invalid(username, error, 'Enter your username.');
    if (!password.value) return invalid(password, error, 'Enter your password.');
    if (new TextEncoder().encode(password.value).length > PASSWORD_MAX_BYTES) {
      return invalid(password, error, `The password is too long: at most ${PASSWORD_MAX_BYTES} bytes.`);
    }
    submit.disabled = true;
    try {
      setToken(await api.login(name, password.value));
      form.reset();
      onLoggedIn();
    } catch (failure) {
      // A wrong password is a 401 here, but it is the answer to this form, not a lost session.
      error.textContent = describe(failure);
      password.focus();
    } finally {
      submit.disabled = false;
    }
  });
}

export function focusLogin() {
  byId('login-username').focus();
}
