// The History view: the caller's movements from /api/history, newest first, a page at a time.
import * as api from './api.js';
import { byId, h } from './dom.js';
import { clear, report } from './feedback.js';

export const PAGE_SIZE = 20;

let cursor = null;
let loading = false; // the button stays enabled while a page loads, so it keeps the focus

function what(entry) {
  if (entry.kind === 'sent') return `Sent to ${entry.counterparty}`;
  if (entry.kind === 'received') return `Received from ${entry.counterparty}`;
  if (entry.kind === 'grant') return 'Granted';
  return `Bought ${entry.item}`;
}

function row(entry) {
  const incoming = entry.kind === 'received' || entry.kind === 'grant';
  const note = entry.message ?? entry.reason; // a thank-you's message, a grant's reason
  const when = h('time', { datetime: entry.at }, new Date(entry.at).toLocaleString());
  return h('tr', {},
    h('td', {}, when),
    // The note is a text node (h appends strings as text), never parsed as markup.
    note ? h('td', {}, what(entry), h('span', { class: 'message' }, note)) : h('td', {}, what(entry)),
    h('td', { class: `num ${incoming ? 'plus' : 'minus'}` }, `${incoming ? '+' : '−'}${entry.amount}`));
}

async function loadPage() {
  const error = byId('history-error');
  const more = byId('history-more');
  const end = byId('history-end');
  if (loading) return;
  loading = true;
  clear(error);
  try {
    const page = await api.history(PAGE_SIZE, cursor);
    const rows = byId('history-table').tBodies[0];
    rows.append(...page.entries.map(row));
    cursor = page.next;
    more.hidden = cursor === null;
    end.hidden = cursor !== null;
    end.textContent = rows.children.length ? 'That is everything.' : 'No movements yet.';
    if (cursor === null && document.activeElement === more) end.focus();
  } catch (failure) {
    report(failure, error); // the rows already shown stay, and Load more can be tried again
  } finally {
    loading = false;
  }
}

export function initHistory() {
  byId('history-more').addEventListener('click', loadPage);
}

export function showHistory() {
  cursor = null;
  byId('history-table').tBodies[0].replaceChildren();
  byId('history-more').hidden = true;
  byId('history-end').hidden = true;
  return loadPage();
}
