// `--http ADDR`: `HOST:PORT`, `:PORT` (loopback), or `unix:PATH`. Parsed
// before anything starts, so a typo is a usage error on the terminal.
import { isIP } from 'node:net';
import { resolve } from 'node:path';

export type HttpAddress = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

/** The address, or an Error whose message is the one line to print. */
export function parseHttpAddress(text: string): HttpAddress | Error {
  if (text.startsWith('unix:')) {
    const path = text.slice('unix:'.length);
    if (path === '' || path.includes('\0')) return new Error(`--http ${JSON.stringify(text)}: unix: takes a socket path`);
    return { kind: 'unix', path: resolve(path) };
  }
  const colon = text.lastIndexOf(':');
  if (colon < 0) return new Error(`--http ${JSON.stringify(text)}: give HOST:PORT, :PORT (loopback) or unix:PATH`);
  let host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) return new Error(`--http ${JSON.stringify(text)}: the port must be a number from 0 to 65535`);
  if (host === '') host = '127.0.0.1';
  else if (host.startsWith('[') && host.endsWith(']')) {
    host = host.slice(1, -1);
    if (isIP(host) !== 6) return new Error(`--http ${JSON.stringify(text)}: ${JSON.stringify(host)} is not an IPv6 address`);
  } else if (host.includes(':')) return new Error(`--http ${JSON.stringify(text)}: write an IPv6 address in brackets, [::1]:PORT`);
  else if (!/^[A-Za-z0-9.-]+$/.test(host)) return new Error(`--http ${JSON.stringify(text)}: ${JSON.stringify(host)} is not a host name or address`);
  return { kind: 'tcp', host, port: Number(portText) };
}

/** 127.0.0.0/8, ::1 (and ::ffff:127.x): what DNS rebinding aims at. */
export function isLoopbackAddress(address: string): boolean {
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  if (isIP(v4) === 4) return v4.startsWith('127.');
  return address === '::1';
}

/**
 * A `Host` header a browser sends for a loopback server: `localhost`, a
 * 127.x.x.x address or `[::1]`, with any port. A name that merely resolves
 * there (attacker.example → 127.0.0.1) is what rebinding looks like.
 */
export function isLoopbackHost(host: string): boolean {
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d*$/, '');
  return name.toLowerCase() === 'localhost' || isLoopbackAddress(name);
}

/** `127.0.0.1:9001`, `[::1]:9001`, `unix:/run/x.sock`: how the log and errors name it. */
export function formatHttpAddress(address: HttpAddress): string {
  if (address.kind === 'unix') return `unix:${address.path}`;
  return isIP(address.host) === 6 ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
