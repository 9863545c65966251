// A value from outside (file content, path, error message) must never break a
// log line: backslash, control characters and line separators are escaped.
// `%` needs nothing: we never pass values through a format string (the
// ProcLaunch bug was sprintf-style logging).
const UNSAFE = /[\\\x00-\x1f\x7f\u0085\u2028\u2029]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\\': '\\\\' };

export function escapeValue(value: string): string {
  return value.replace(UNSAFE, (ch) => {
    const code = ch.charCodeAt(0);
    return NAMED[ch] ?? (code > 0xff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\x${code.toString(16).padStart(2, '0')}`);
  });
}

/**
 * Mark a value from outside in a message: `"…"`. It stays raw; escaping
 * happens exactly once, where the message is written (log line, stderr).
 */
export function quote(value: string): string {
  return `"${value}"`;
}
