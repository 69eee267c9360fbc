// The caller's wallet as /api/info last described it, shared by the views that show coins.
import * as api from './api.js';

let current = null;
const listeners = [];

export function wallet() {
  return current;
}

export function onWallet(listener) {
  listeners.push(listener);
}

function publish(value) {
  current = value;
  for (const listener of listeners) listener(current);
}

/** Fetch /api/info and tell every view; failures propagate to the caller to report. */
export async function refreshWallet() {
  publish(await api.info());
  return current;
}

export function forgetWallet() {
  publish(null);
}
