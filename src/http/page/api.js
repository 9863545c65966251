// @ts-check
// The page's one way to talk to the supervisor: JSON over fetch, the session
// cookie sent by the browser (same origin: a POST carries our own Origin,
// which the server requires of a cookie-authenticated change).

export class ApiError extends Error {
  /** @param {number} status @param {string} message */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Called once when a reply says 401: the session is gone (supervisor restarted, cookie expired). */
let onUnauthorized = () => {};

/** @param {() => void} handler */
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

/**
 * @param {string} path
 * @param {{ method?: string, body?: unknown, signal?: AbortSignal }} [options]
 * @returns {Promise<any>}
 */
export async function api(path, { method = 'GET', body, signal } = {}) {
  /** @type {RequestInit} */
  const init = { method, credentials: 'same-origin', headers: { accept: 'application/json' }, signal };
  if (body !== undefined) {
    init.headers = { ...init.headers, 'content-type': 'application/json' };
    init.body = JSON.stringify(body);
  }
  const reply = await fetch(path, init);
  const text = await reply.text();
  let value;
  try {
    value = text ? JSON.parse(text) : {};
  } catch {
    value = { ok: false, error: text.slice(0, 200) };
  }
  if (reply.status === 401 && path !== '/api/v1/session') onUnauthorized();
  // A change reply says per service what happened, failed ones included: that is data, not an error.
  if (!reply.ok && !Array.isArray(value.results)) throw new ApiError(reply.status, value.error ?? `HTTP ${reply.status}`);
  return value;
}

/** A path segment for a service name (NAME@N is a legal name; the server decodes it). */
export const servicePath = (name) => `/api/v1/services/${encodeURIComponent(name)}`;

/** The server takes a NAME of at most 255 bytes: several names are joined by commas up to that. */
const NAMES_BYTES = 255;

/**
 * Names joined by commas, as few groups as fit in NAMES_BYTES each (names are
 * ASCII: `^[A-Za-z0-9][A-Za-z0-9._-]*` and `@N`).
 * @param {string[]} names @returns {string[]}
 */
export function joinNames(names) {
  const groups = [];
  let group = '';
  for (const name of names) {
    if (group && group.length + 1 + name.length > NAMES_BYTES) {
      groups.push(group);
      group = '';
    }
    group = group ? `${group},${name}` : name;
  }
  if (group) groups.push(group);
  return groups;
}
