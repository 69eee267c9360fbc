// Wiring: which view shows (from the URL's #fragment), logging in and out, and what happens
// when the server stops accepting the token.
import { byId } from './dom.js';
import { clear, SESSION_REJECTED } from './feedback.js';
import { initHistory, showHistory } from './history.js';
import { hideOperatorTabs, initOperators, showGrants, showOperatorTabs, showRoles } from './operators.js';
import { focusLogin, initLogin } from './login.js';
import { clearToken, getToken, tokenUsername } from './session.js';
import { initSend, showSend } from './send.js';
import { initShop, showShop } from './shop.js';
import { initWallet, showWallet } from './wallet.js';
import { forgetWallet } from './wallet-state.js';

const VIEWS = {
  wallet: showWallet, shop: showShop, send: showSend, history: showHistory, grants: showGrants, roles: showRoles,
};
const TITLES = {
  login: 'Log in', wallet: 'Wallet', shop: 'Shop', send: 'Send coins', history: 'History', grants: 'Grants',
  roles: 'Roles',
};
const notice = byId('notice');

function reveal(name, moveFocus) {
  for (const section of document.querySelectorAll('main > .view')) {
    section.hidden = section.id !== `view-${name}`;
  }
  for (const link of document.querySelectorAll('#tabs a')) {
    if (link.dataset.view === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${TITLES[name]} · Merch shop`;
  const loggedIn = name !== 'login';
  byId('account').hidden = !loggedIn;
  byId('tabs').hidden = !loggedIn;
  if (loggedIn) byId('account-name').textContent = tokenUsername(getToken());
  if (moveFocus) byId(`${name}-title`).focus();
}

function route(moveFocus = true) {
  if (!getToken()) {
    reveal('login', false);
    if (moveFocus) focusLogin();
    return;
  }
  const name = location.hash.slice(1);
  if (!(name in VIEWS)) {
    location.replace('#wallet'); // fires hashchange, which routes again
    return;
  }
  reveal(name, moveFocus);
  showOperatorTabs(); // the roles held now, as the database says
  VIEWS[name]();
}

/** Back to the login form, forgetting everything the last user saw. */
function logOut(message) {
  clearToken();
  forgetWallet();
  byId('send-form').reset();
  byId('history-table').tBodies[0].replaceChildren();
  byId('grant-form').reset();
  byId('roles-table').tBodies[0].replaceChildren();
  hideOperatorTabs();
  notice.textContent = message;
  history.replaceState(null, '', '#login');
  route();
}

initLogin(() => {
  clear(notice);
  if (location.hash === '#wallet') route();
  else location.hash = '#wallet';
});
initWallet();
initShop();
initSend();
initHistory();
initOperators();

byId('logout').addEventListener('click', () => logOut('You have logged out.'));
window.addEventListener(SESSION_REJECTED, (event) => {
  if (!getToken()) return; // already back at the login form; keep the first reason shown
  logOut(`You have been logged out: the shop no longer accepts your session (${event.detail}). ` +
    'Log in again to continue.');
});
window.addEventListener('hashchange', () => route());
route(false);
