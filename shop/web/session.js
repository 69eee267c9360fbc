// The login token lives only in this tab's sessionStorage: closing the tab logs out, and no
// cookie means no cross-site request can spend coins on the user's behalf.
const TOKEN_KEY = 'shop.token';

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** The username the server put in the token (`name` claim); display only, never trusted. */
export function tokenUsername(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(part), (ch) => ch.charCodeAt(0));
    const name = JSON.parse(new TextDecoder().decode(bytes)).name;
    return typeof name === 'string' ? name : '';
  } catch {
    return '';
  }
}
