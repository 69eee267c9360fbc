// The Shop view: the catalog from /api/items; Buy is disabled for what the user cannot afford.
// Items are rendered once and updated in place, so keyboard focus stays where the user left it.
import * as api from './api.js';
import { byId, h } from './dom.js';
import { clear, report } from './feedback.js';
import { onWallet, refreshWallet, wallet } from './wallet-state.js';

const cards = new Map(); // item name -> {price, button, owned, note}
let buying = false; // one purchase at a time; buttons stay enabled so focus stays on them
// item name -> the Idempotency-Key of a purchase whose answer never arrived: pressing that
// Buy again retries the click with its key, so it is bought (and paid for) once.
const unanswered = new Map();

function owned(info, name) {
  const entry = info ? info.inventory.find((item) => item.type === name) : undefined;
  return entry ? entry.quantity : 0;
}

function update(info) {
  for (const [name, card] of cards) {
    const coins = info ? info.coins : null;
    const affordable = coins !== null && coins >= card.price;
    card.button.disabled = !affordable;
    card.owned.textContent = `You have ${owned(info, name)}`;
    card.note.textContent =
      coins === null || affordable ? '' : `You need ${card.price - coins} more coins.`;
  }
}

function card(item, onBuy) {
  const button = h('button', { type: 'button', 'aria-describedby': `price-${item.name}` }, 'Buy',
    h('span', { class: 'visually-hidden' }, ` ${item.name}`));
  button.addEventListener('click', () => onBuy(item, button));
  const ownedText = h('p', { class: 'item-meta' });
  const note = h('p', { class: 'item-note' });
  cards.set(item.name, { price: item.price, button, owned: ownedText, note });
  return h('li', { class: 'card' },
    h('div', {},
      h('p', { class: 'item-name', text: item.name }),
      h('p', { class: 'item-meta', id: `price-${item.name}`, text: `${item.price} coins` }),
      ownedText),
    button, note);
}

async function buy(item, button) {
  const error = byId('shop-error');
  const done = byId('shop-done');
  if (buying) return;
  clear(error, done);
  buying = true;
  const key = unanswered.get(item.name) ?? api.newIdempotencyKey();
  unanswered.delete(item.name);
  try {
    await api.buy(item.name, key);
    done.textContent = `Bought one ${item.name}.`;
  } catch (failure) {
    if (failure instanceof api.NetworkError) unanswered.set(item.name, key);
    report(failure, error);
  }
  buying = false;
  try {
    await refreshWallet();
  } catch (failure) {
    report(failure, error);
  }
  update(wallet());
  // A button that just became disabled cannot keep the focus; give it to the outcome instead.
  if (button.disabled) (error.textContent ? error : done).focus();
}

export function initShop() {
  onWallet(update);
}

export async function showShop() {
  const error = byId('shop-error');
  clear(error, byId('shop-done'));
  try {
    await refreshWallet(); // first: a rejected session returns to the login form at once
    if (cards.size === 0) {
      const catalog = await api.items();
      byId('catalog').replaceChildren(...catalog.map((item) => card(item, buy)));
    }
    update(wallet());
  } catch (failure) {
    report(failure, error);
  }
}
