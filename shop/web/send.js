// The Send coins form. Its checks mirror the server's (a whole number from 1 to the balance,
// not to yourself); whatever the server still refuses is shown in the server's own words.
import * as api from './api.js';
import { byId } from './dom.js';
import { clear, invalid, report, valid } from './feedback.js';
import { getToken, tokenUsername } from './session.js';
import { refreshWallet, wallet } from './wallet-state.js';

const MESSAGE_MAX = 200;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function check(recipient, amount, note, error) {
  const toUser = recipient.value.trim();
  if (!toUser) return invalid(recipient, error, "Enter the recipient's username.");
  if (toUser === tokenUsername(getToken() ?? '')) {
    return invalid(recipient, error, 'You cannot send coins to yourself.');
  }
  const text = amount.value.trim();
  if (!/^\d+$/.test(text)) return invalid(amount, error, 'Enter the amount as a whole number of coins.');
  const value = Number(text);
  if (value < 1) return invalid(amount, error, 'The amount must be at least 1 coin.');
  const info = wallet();
  if (info && value > info.coins) {
    return invalid(amount, error, `You have only ${info.coins} coins; send at most that.`);
  }
  const message = note.value.trim();
  if ([...message].length > MESSAGE_MAX) {
    return invalid(note, error, `The message must be at most ${MESSAGE_MAX} characters.`);
  }
  if (CONTROL.test(message)) return invalid(note, error, 'The message must not contain control characters.');
  return { toUser, value, message };
}

export function initSend() {
  const form = byId('send-form');
  const recipient = byId('send-recipient');
  const amount = byId('send-amount');
  const note = byId('send-message');
  const error = byId('send-error');
  const done = byId('send-done');
  const submit = form.querySelector('button[type="submit"]');
  // A transfer whose answer never arrived: pressing Send again with the same recipient,
  // amount and message is a retry of that click and carries its Idempotency-Key, so coins move once.
  let unanswered = null;

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clear(error, done);
    valid(recipient, amount, note);
    const transfer = check(recipient, amount, note, error);
    if (!transfer) return;
    const retry =
      unanswered &&
      unanswered.toUser === transfer.toUser &&
      unanswered.value === transfer.value &&
      unanswered.message === transfer.message;
    const key = retry ? unanswered.key : api.newIdempotencyKey();
    unanswered = null;
    submit.disabled = true;
    try {
      await api.sendCoin(transfer.toUser, transfer.value, key, transfer.message);
      form.reset();
      done.textContent = `Sent ${transfer.value} coins to ${transfer.toUser}.`;
      await refreshWallet();
    } catch (failure) {
      if (failure instanceof api.NetworkError) unanswered = { ...transfer, key };
      report(failure, error); // the typed values stay in the form
    } finally {
      submit.disabled = false;
    }
  });
}

export async function showSend() {
  const error = byId('send-error');
  clear(error, byId('send-done'));
  try {
    await refreshWallet();
  } catch (failure) {
    report(failure, error);
  }
}
