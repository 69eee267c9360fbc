// The operator's sections: Grants (treasurer) and Roles (admin). Which tabs show comes from
// /api/me; the server checks the role again on every request, so a tab shown to someone who
// just lost the role only leads to the server's refusal, in its own words.
import * as api from './api.js';
import { byId, h } from './dom.js';
import { clear, invalid, report, valid } from './feedback.js';
import { refreshWallet } from './wallet-state.js';

const POLL_MS = 1000;
let pending = null; // the grant under review: { body, key }; a retry keeps its key

/** Show the tabs of the roles the caller holds (admin holds them all). */
export async function showOperatorTabs() {
  let held = [];
  try {
    held = (await api.me()).roles;
  } catch {
    held = []; // no tabs; the views say why if opened anyway
  }
  for (const link of document.querySelectorAll('#tabs a[data-role]')) {
    link.hidden = !(held.includes(link.dataset.role) || held.includes('admin'));
  }
}

export function hideOperatorTabs() {
  for (const link of document.querySelectorAll('#tabs a[data-role]')) link.hidden = true;
}

function names(text) {
  return [...new Set(text.split(/[\n,]/).map((name) => name.trim()).filter(Boolean))];
}

function readGrant(error) {
  const recipients = byId('grant-recipients');
  const everyone = byId('grant-everyone');
  const amount = byId('grant-amount');
  const reason = byId('grant-reason');
  valid(recipients, amount, reason);
  const toUsers = names(recipients.value);
  if (!everyone.checked && !toUsers.length) {
    return invalid(recipients, error, 'Name at least one recipient, or choose Everyone.');
  }
  if (!everyone.checked && toUsers.length > 1000) {
    return invalid(recipients, error, 'Name at most 1000 recipients, or choose Everyone.');
  }
  const text = amount.value.trim();
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 1000000) {
    return invalid(amount, error, 'Enter the coins each as a whole number from 1 to 1000000.');
  }
  const why = reason.value.trim();
  if (!why) return invalid(reason, error, 'Say what the grant is for.');
  const value = Number(text);
  return everyone.checked
    ? { amount: value, reason: why, toAll: true }
    : { amount: value, reason: why, toUsers };
}

function summary(body) {
  const who = body.toAll ? 'every employee' : `${body.toUsers.length} employee(s): ${body.toUsers.join(', ')}`;
  return `Grant ${body.amount} coins each to ${who}, for “${body.reason}”?`;
}

function progressText(grant) {
  if (grant.status === 'done') return `Granted ${grant.amount} coins to ${grant.granted} employee(s).`;
  return `Granting ${grant.amount} coins to everyone: ${grant.granted} of ${grant.recipients} so far…`;
}

async function follow(grant, done) {
  done.textContent = progressText(grant);
  while (grant.status !== 'done') {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    grant = await api.grantProgress(grant.id);
    done.textContent = progressText(grant);
  }
  await refreshWallet();
}

function initGrants() {
  const form = byId('grant-form');
  const confirm = byId('grant-confirm');
  const error = byId('grant-error');
  const done = byId('grant-done');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clear(error, done);
    const body = readGrant(error);
    if (!body) return;
    const same = pending && JSON.stringify(pending.body) === JSON.stringify(body);
    pending = same ? pending : { body, key: api.newIdempotencyKey() };
    byId('grant-summary').textContent = summary(body);
    confirm.hidden = false;
    byId('grant-yes').focus();
  });
  byId('grant-no').addEventListener('click', () => {
    confirm.hidden = true;
    byId('grant-amount').focus();
  });
  byId('grant-yes').addEventListener('click', async () => {
    const yes = byId('grant-yes');
    yes.disabled = true;
    try {
      const grant = await api.grant(pending.body, pending.key);
      pending = null;
      confirm.hidden = true;
      form.reset();
      await follow(grant, done);
    } catch (failure) {
      if (!(failure instanceof api.NetworkError)) pending = null; // answered: a new key next
      confirm.hidden = true;
      report(failure, error);
    } finally {
      yes.disabled = false;
    }
  });
}

export function showGrants() {
  clear(byId('grant-error'));
  byId('grant-confirm').hidden = true;
}

async function loadRoles() {
  const error = byId('roles-error');
  try {
    const { roles } = await api.roles();
    byId('roles-table').tBodies[0].replaceChildren(
      ...roles.map(({ username, role }) => {
        const remove = h('button', { type: 'button', class: 'secondary' }, 'Remove');
        remove.setAttribute('aria-label', `Remove ${role} from ${username}`);
        remove.addEventListener('click', () => changeRole(() => api.takeRole(username, role),
          `${username} no longer holds ${role}.`));
        return h('tr', {}, h('td', {}, username), h('td', {}, role), h('td', {}, remove));
      }),
    );
  } catch (failure) {
    report(failure, error);
  }
}

async function changeRole(change, said) {
  const error = byId('roles-error');
  const done = byId('roles-done');
  clear(error, done);
  try {
    await change();
    done.textContent = said;
    await loadRoles();
    await showOperatorTabs();
  } catch (failure) {
    report(failure, error);
  }
}

function initRoles() {
  byId('role-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const username = byId('role-username');
    const role = byId('role-role').value;
    valid(username);
    const name = username.value.trim();
    if (!name) return invalid(username, byId('roles-error'), "Enter the employee's username.");
    return changeRole(async () => {
      await api.giveRole(name, role);
      byId('role-form').reset();
    }, `${name} holds ${role}.`);
  });
}

export function showRoles() {
  clear(byId('roles-error'), byId('roles-done'));
  return loadRoles();
}

export function initOperators() {
  initGrants();
  initRoles();
}
