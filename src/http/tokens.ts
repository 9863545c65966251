// The two tokens (STATE_DIR/http.token: everything; http.readonly-token:
// every GET) and the session cookie derived from them. Created at first
// start (32 random bytes, hex, mode 0600, written beside and renamed in, so
// a reader never sees half a token), kept after: a dashboard configured once
// keeps working across restarts.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, linkSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type TokenKind = 'full' | 'readonly';

export const TOKEN_FILES: Record<TokenKind, string> = { full: 'http.token', readonly: 'http.readonly-token' };

const TOKEN = /^[0-9a-f]{64}$/;

export interface Tokens {
  /** The kind of a presented token, compared in constant time; null when it is neither. */
  kindOfToken(presented: string): TokenKind | null;
  /** The kind of a session cookie's value, likewise. */
  kindOfSession(presented: string): TokenKind | null;
  /** The cookie value that stands for `kind`. */
  session(kind: TokenKind): string;
  /** The cookie's name: one per STATE_DIR, so two supervisors on one host keep their own sessions. */
  readonly cookieName: string;
}

/** Read the tokens, creating those that are missing. Throws with a one-line message when one cannot be used. */
export function loadTokens(stateDir: string): Tokens {
  const secrets = { full: ensureToken(stateDir, 'full'), readonly: ensureToken(stateDir, 'readonly') };
  // The session cookie is an HMAC of the token: it outlives a supervisor restart and dies with the token file.
  const sessions = { full: sessionOf(secrets.full), readonly: sessionOf(secrets.readonly) };
  const digests = { full: digest(secrets.full), readonly: digest(secrets.readonly) };
  const sessionDigests = { full: digest(sessions.full), readonly: digest(sessions.readonly) };
  const match = (presented: string, known: Record<TokenKind, Buffer>): TokenKind | null => {
    // Digests of equal length: timingSafeEqual needs that, and the length of a guess leaks nothing either.
    const d = digest(presented);
    const full = timingSafeEqual(d, known.full);
    const readonly = timingSafeEqual(d, known.readonly);
    return full ? 'full' : readonly ? 'readonly' : null;
  };
  return {
    kindOfToken: (presented) => match(presented, digests),
    kindOfSession: (presented) => match(presented, sessionDigests),
    session: (kind) => sessions[kind],
    cookieName: `proclaunch_session_${createHash('sha256').update(stateDir).digest('hex').slice(0, 8)}`,
  };
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
const sessionOf = (token: string): string => createHmac('sha256', token).update('proclaunch session v1').digest('hex');

function ensureToken(stateDir: string, kind: TokenKind): string {
  const path = join(stateDir, TOKEN_FILES[kind]);
  let text: string | null = null;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${path}: ${(error as Error).message}`);
  }
  if (text === null) return create(path);
  const token = text.trim();
  if (!TOKEN.test(token)) throw new Error(`${path} does not hold a token (64 hex digits); remove it and a new one is made at the next start`);
  // Readable by others it is no longer the owner's secret (STATE_DIR is 0700 anyway): owner-only again.
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  return token;
}

/** Written beside and linked in: exclusive (two racing starts cannot both win) and never seen half-written. */
function create(path: string): string {
  const token = randomBytes(32).toString('hex');
  const scratch = `${path}.${process.pid}.new`;
  writeFileSync(scratch, `${token}\n`, { mode: 0o600 });
  try {
    linkSync(scratch, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`${path}: ${(error as Error).message}`);
    return readFileSync(path, 'utf8').trim(); // made by someone else meanwhile: theirs it is
  } finally {
    rmSync(scratch, { force: true });
  }
  return token;
}
