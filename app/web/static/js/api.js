// The one way the page talks to the API: the same public endpoints as every client. The session
// token is an httpOnly cookie this script never sees; writes carry the session's CSRF token.

export class ApiError extends Error {
  constructor(status, detail, fields = {}, retryAfter = null) {
    super(detail);
    this.status = status;
    this.fields = fields; // field name → message, from a 422's detail list
    this.retryAfter = retryAfter;
  }
}

export const session = { user: null, csrf: null };

const listeners = new Set();
export function onSessionChange(fn) { listeners.add(fn); }
function changed() { for (const fn of listeners) fn(session); }

export function csrfHeaders() {
  return session.csrf ? { "X-CSRF-Token": session.csrf } : {};
}

// The API's own words for a failed response: `detail` (a string, or a 422's list of problems).
export async function errorFrom(response) {
  let detail = `${response.status} ${response.statusText}`;
  const fields = {};
  try {
    const body = await response.json();
    if (typeof body.detail === "string") detail = body.detail;
    else if (Array.isArray(body.detail)) {
      for (const item of body.detail) {
        const name = Array.isArray(item.loc) ? item.loc[item.loc.length - 1] : "";
        fields[name] = item.msg;
      }
      detail = body.detail.map((item) => item.msg).join("; ");
    }
  } catch { /* not JSON: keep the status line */ }
  const wait = response.headers.get("Retry-After");
  if (response.status === 429 && wait) detail = `${detail} (try again in ${wait} s)`;
  return new ApiError(response.status, detail, fields, wait);
}

export async function api(method, path, { json, query } = {}) {
  const url = query ? `${path}?${new URLSearchParams(query)}` : path;
  const headers = method === "GET" ? {} : { ...csrfHeaders() };
  if (json !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method, headers, credentials: "same-origin",
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  if (!response.ok) {
    if (response.status === 401 && session.user && !path.startsWith("/api/auth/")) forget();
    throw await errorFrom(response);
  }
  if (response.status === 204) return { body: null, headers: response.headers };
  return { body: await response.json(), headers: response.headers };
}

function remember(body) {
  session.user = body.user;
  session.csrf = body.csrf_token;
  changed();
}

function forget() {
  session.user = null;
  session.csrf = null;
  changed();
}

export async function restoreSession() {
  try {
    remember((await api("GET", "/api/auth/session")).body);
  } catch {
    forget();
  }
}

export async function logIn(email, password) {
  remember((await api("POST", "/api/auth/session", { json: { email, password } })).body);
}

export async function logOut() {
  try { await api("DELETE", "/api/auth/session"); } finally { forget(); }
}
