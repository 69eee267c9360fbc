// Puts every failure in words. A rejected session is not shown where it happened: it is
// announced to main.js, which returns the user to the login form with the reason.
import { NetworkError, SessionRejected } from './api.js';

export const SESSION_REJECTED = 'shop:session-rejected';

export const NETWORK_MESSAGE =
  'Could not reach the shop: check your connection and try again. What you typed is kept.';

export function describe(error) {
  if (error instanceof NetworkError) return NETWORK_MESSAGE;
  if (error instanceof Error && 'status' in error) return error.message;
  return `Something went wrong in this page: ${error}`;
}

/** Show `error` in `element`, or hand a rejected session over to the login view. */
export function report(error, element) {
  if (error instanceof SessionRejected) {
    window.dispatchEvent(new CustomEvent(SESSION_REJECTED, { detail: error.message }));
    return;
  }
  element.textContent = describe(error);
}

export function clear(...elements) {
  for (const element of elements) element.textContent = '';
}

/** Mark one field invalid, say why, and put the keyboard focus on it. */
export function invalid(input, element, message) {
  input.setAttribute('aria-invalid', 'true');
  element.textContent = message;
  input.focus();
}

export function valid(...inputs) {
  for (const input of inputs) input.removeAttribute('aria-invalid');
}
