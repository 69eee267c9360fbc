// The Wallet view: coins, inventory with counts, and coins received and sent per colleague.
import { byId, fillRows } from './dom.js';
import { clear, report } from './feedback.js';
import { onWallet, refreshWallet } from './wallet-state.js';

function fillTable(table, empty, rows) {
  fillRows(table.tBodies[0], rows);
  table.hidden = rows.length === 0;
  empty.hidden = rows.length !== 0;
}

function render(info) {
  const coins = info ? String(info.coins) : '…';
  for (const id of ['wallet-coins', 'account-coins', 'shop-coins', 'send-coins']) {
    byId(id).textContent = coins;
  }
  const inventory = info ? info.inventory : [];
  const received = info ? info.coinHistory.received : [];
  const sent = info ? info.coinHistory.sent : [];
  fillTable(byId('inventory-table'), byId('inventory-empty'),
    inventory.map((entry) => [entry.type, [String(entry.quantity), 'num']]));
  fillTable(byId('received-table'), byId('received-empty'),
    received.map((entry) => [entry.fromUser, [String(entry.amount), 'num']]));
  fillTable(byId('sent-table'), byId('sent-empty'),
    sent.map((entry) => [entry.toUser, [String(entry.amount), 'num']]));
}

export function initWallet() {
  onWallet(render);
  render(null);
}

export async function showWallet() {
  const error = byId('wallet-error');
  clear(error);
  try {
    await refreshWallet();
  } catch (failure) {
    report(failure, error);
  }
}
