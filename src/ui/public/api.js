// The officer's token and every call to the gateway's API (same origin, bearer header).
// The token lives in this tab's sessionStorage only: never in localStorage, a cookie or a URL.

const TOKEN_KEY = 'cage.review.token';

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** base64url (no padding needed) → bytes. Throws on anything else. */
export function base64UrlToBytes(text) {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error('not base64url');
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  return base64ToBytes(b64);
}

/** Standard base64 (with padding) → bytes. Throws on anything else. */
export function base64ToBytes(b64) {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(b64)) throw new Error('not base64');
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function bytesToHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The JWT's claims, for display only (who am I, which role). The gateway verifies the token on
 * every call; nothing here is trusted for a decision.
 */
export function decodeJwt(token) {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => p.length === 0)) throw new Error('this is not a JWT (three dot-separated parts)');
  let claims;
  try {
    claims = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(base64UrlToBytes(parts[1])));
  } catch {
    throw new Error('the token’s payload is not base64url JSON');
  }
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) throw new Error('the token’s payload is not a JSON object');
  return claims;
}

/** An API error: the gateway's `{error, message, requestId}`, or the HTTP status when the body is not that. */
export class ApiError extends Error {
  constructor(status, code, message, requestId) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
}

const unauthorizedListeners = new Set();

/** Called on any 401 (expired, revoked or foreign token), so the page can sign out. */
export function onUnauthorized(fn) {
  unauthorizedListeners.add(fn);
}

/** fetch with the bearer token; resolves to the Response when 2xx, throws ApiError otherwise. */
export async function api(path, { method = 'GET', json, token = getToken() } = {}) {
  if (!path.startsWith('/v1/')) throw new Error(`not an API path: ${path}`);
  if (token === null || token === undefined) throw new ApiError(401, 'unauthorized', 'not signed in');
  const headers = { authorization: `Bearer ${token}` };
  if (json !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: json === undefined ? undefined : JSON.stringify(json),
      cache: 'no-store',
      credentials: 'omit',
      redirect: 'error',
      referrerPolicy: 'no-referrer',
    });
  } catch (err) {
    throw new ApiError(0, 'network', `cannot reach the gateway (${err instanceof Error ? err.message : String(err)})`);
  }
  if (res.ok) return res;
  let code = `http_${res.status}`;
  let message = `${res.status} ${res.statusText}`.trim();
  let requestId = res.headers.get('x-request-id') ?? undefined;
  try {
    const body = await res.json();
    if (typeof body?.message === 'string' && body.message !== '') message = body.message;
    if (typeof body?.error === 'string') code = body.error;
    if (typeof body?.requestId === 'string') requestId = body.requestId;
  } catch {
    // not the gateway's JSON error shape: keep the status line
  }
  const err = new ApiError(res.status, code, message, requestId);
  if (res.status === 401 && token === getToken()) for (const fn of unauthorizedListeners) fn(err);
  throw err;
}

export async function getJson(path) {
  return (await api(path)).json();
}

/** `?a=1&b=2` from the entries that are set (skips undefined, null and ''). */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}
