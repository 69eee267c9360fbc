// The shop's JSON API, one function per endpoint. Every failure becomes one of three errors
// the views can put in words: ApiError (the server refused), SessionRejected (a 401 on a call
// that carried the token) and NetworkError (no answer at all).
import { getToken } from './session.js';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export class SessionRejected extends ApiError {}

export class NetworkError extends Error {
  constructor() {
    super('network failure');
  }
}

const STATUS_WORDS = {
  400: 'the shop refused the request',
  401: 'the shop did not accept your credentials',
  404: 'the shop does not offer this here',
  405: 'the shop does not accept this kind of request here',
  413: 'the request was too large for the shop',
  429: 'the shop is busy; try again in a moment',
  500: 'the shop had an internal problem; nothing was changed',
  502: 'the shop is not reachable right now; try again in a moment',
  503: 'the shop is not available right now; try again in a moment',
  504: 'the shop took too long to answer; check before trying again',
};

/** The server's own `errors` sentence when it sent one, else the status in words. */
function errorMessage(text, status) {
  try {
    const body = JSON.parse(text);
    if (body && typeof body.errors === 'string' && body.errors) return body.errors;
  } catch {
    // not the contract's error body (a proxy's page, say): fall back to words
  }
  return STATUS_WORDS[status] ?? `the shop answered with an unexpected error (status ${status})`;
}

async function call(method, path, { body, auth = true, idempotencyKey } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey;
  if (auth) {
    const token = getToken();
    if (!token) throw new SessionRejected(401, 'you are not logged in');
    headers.Authorization = `Bearer ${token}`;
  }
  let response;
  let text;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
    });
    text = await response.text();
  } catch {
    throw new NetworkError();
  }
  if (!response.ok) {
    const message = errorMessage(text, response.status);
    if (response.status === 401 && auth) throw new SessionRejected(401, message);
    throw new ApiError(response.status, message);
  }
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(response.status, 'the shop sent an answer this page cannot read');
  }
}

export async function login(username, password) {
  const body = await call('POST', '/api/auth', { body: { username, password }, auth: false });
  return body.token;
}

export function info() {
  return call('GET', '/api/info');
}

export async function items() {
  return (await call('GET', '/api/items', { auth: false })).items;
}

export function history(limit, before) {
  const query = new URLSearchParams({ limit: String(limit) });
  if (before) query.set('before', before);
  return call('GET', `/api/history?${query}`);
}

/**
 * A fresh Idempotency-Key: one per click; a retry of that click sends the same one again.
 * A version 4 UUID from crypto.getRandomValues, which, unlike crypto.randomUUID, also works
 * when the shop is served over plain HTTP on a name other than localhost.
 */
export function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function buy(item, idempotencyKey) {
  return call('GET', `/api/buy/${encodeURIComponent(item)}`, { idempotencyKey });
}

export function sendCoin(toUser, amount, idempotencyKey, message = '') {
  const body = message ? { toUser, amount, message } : { toUser, amount };
  return call('POST', '/api/sendCoin', { body, idempotencyKey });
}

/** Who the caller is and the operator roles they hold: { username, roles }. */
export function me() {
  return call('GET', '/api/me');
}

export function grant(body, idempotencyKey) {
  return call('POST', '/api/admin/grants', { body, idempotencyKey });
}

export function grantProgress(id) {
  return call('GET', `/api/admin/grants/${encodeURIComponent(id)}`);
}

export function roles() {
  return call('GET', '/api/admin/roles');
}

export function giveRole(username, role) {
  return call('POST', '/api/admin/roles', { body: { username, role } });
}

export function takeRole(username, role) {
  return call('DELETE', `/api/admin/roles/${encodeURIComponent(username)}/${encodeURIComponent(role)}`);
}
