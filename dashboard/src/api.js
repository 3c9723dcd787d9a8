// The dashboard's only way to the server: the admin API at /admin/v1, with
// the session cookie the sign-in set and the CSRF token it returned.

let csrf = '';
let onUnauthorized = () => {};

export function setCsrf(token) { csrf = token || ''; }
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

export class ApiError extends Error {
  constructor(status, body) {
    const b = body && typeof body === 'object' ? body : { message: String(body || '') };
    super(b.message || b.msg || `Request failed (${status})`);
    this.status = status;
    this.code = b.code || '';
    this.details = b.details ?? null;
    this.hint = b.hint ?? null;
  }
  // A route the server does not have (yet): the page shows "not available".
  get missing() {
    return this.status === 405 || (this.status === 404 && this.message === 'Not found');
  }
}

const unsafe = (m) => !['GET', 'HEAD'].includes(m);

// api(method, path, body?, {headers, raw, text}) -> parsed JSON body, or
// {data, headers, status} with raw.
export async function api(method, path, body, opts = {}) {
  const headers = { Accept: opts.accept || 'application/json', ...(opts.headers || {}) };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (unsafe(method)) headers['X-CSRF-Token'] = csrf;
  let res;
  try {
    res = await fetch('/admin/v1' + path, {
      method, headers, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, { message: 'Cannot reach the server: ' + e.message });
  }
  const text = await res.text();
  let data = text;
  if (!opts.text && text) {
    try { data = JSON.parse(text); } catch { data = text; }
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data);
    if (res.status === 401 && !opts.quiet401) onUnauthorized();
    throw err;
  }
  if (opts.raw) return { data, headers: res.headers, status: res.status };
  return data;
}

// total reads the total of a Content-Range header ("0-9/123" or "*/0").
export function total(headers) {
  const m = /\/(\d+|\*)$/.exec(headers.get('Content-Range') || '');
  return m && m[1] !== '*' ? Number(m[1]) : null;
}

export const enc = encodeURIComponent;
