// --http ADDR parsing, the loopback rules, and the tokens' files and checks.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isLoopbackAddress, isLoopbackHost, parseHttpAddress } from '../../src/http/address.js';
import { loadTokens } from '../../src/http/tokens.js';

describe('--http ADDR', () => {
  it('HOST:PORT, :PORT (loopback), [v6]:PORT, unix:PATH', () => {
    expect(parseHttpAddress('127.0.0.1:9001')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 9001 });
    expect(parseHttpAddress(':9001')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 9001 });
    expect(parseHttpAddress('[::1]:0')).toEqual({ kind: 'tcp', host: '::1', port: 0 });
    expect(parseHttpAddress('0.0.0.0:80')).toEqual({ kind: 'tcp', host: '0.0.0.0', port: 80 });
    expect(parseHttpAddress('box.example:9001')).toEqual({ kind: 'tcp', host: 'box.example', port: 9001 });
    expect(parseHttpAddress('unix:/run/p.sock')).toEqual({ kind: 'unix', path: '/run/p.sock' });
    for (const bad of ['9001', 'host:99999', ':http', 'a b:1', '::1:9001', '[nope]:1', 'unix:', ':', 'h:-1', 'h:1.5']) {
      const parsed = parseHttpAddress(bad);
      expect([bad, parsed instanceof Error && /^--http "/.test(parsed.message)]).toEqual([bad, true]);
    }
  });

  it('loopback addresses and the Host names a loopback server answers to', () => {
    for (const a of ['127.0.0.1', '127.9.8.7', '::1', '::ffff:127.0.0.1']) expect([a, isLoopbackAddress(a)]).toEqual([a, true]);
    for (const a of ['0.0.0.0', '10.0.0.1', '::', '128.0.0.1']) expect([a, isLoopbackAddress(a)]).toEqual([a, false]);
    for (const h of ['localhost', 'localhost:9001', 'LocalHost:1', '127.0.0.1:9001', '[::1]:9001', '[::1]']) expect([h, isLoopbackHost(h)]).toEqual([h, true]);
    for (const h of ['evil.example', 'evil.example:9001', 'localhost.evil.example', '127.0.0.1.nip.io', '', '[::2]:1', '10.0.0.1:9001']) expect([h, isLoopbackHost(h)]).toEqual([h, false]);
  });
});

describe('tokens', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('made once (0600, 64 hex), kept after; each kind recognized, anything else not', () => {
    dir = mkdtempSync(join(tmpdir(), 'proclaunch-tokens-'));
    const tokens = loadTokens(dir);
    const full = readFileSync(join(dir, 'http.token'), 'utf8').trim();
    const readonly = readFileSync(join(dir, 'http.readonly-token'), 'utf8').trim();
    expect(statSync(join(dir, 'http.token')).mode & 0o777).toBe(0o600);
    expect(full).toMatch(/^[0-9a-f]{64}$/);
    expect(loadTokens(dir).session('full')).toBe(tokens.session('full')); // the same files, the same cookie
    expect(tokens.kindOfToken(full)).toBe('full');
    expect(tokens.kindOfToken(readonly)).toBe('readonly');
    for (const wrong of ['', full.slice(0, 63), `${full}0`, full.replace(/.$/, (c) => (c === '0' ? '1' : '0')), tokens.session('full')]) expect(tokens.kindOfToken(wrong)).toBeNull();
    expect(tokens.kindOfSession(tokens.session('readonly'))).toBe('readonly');
    expect(tokens.kindOfSession(full)).toBeNull();
  });

  it('a token file that holds no token is one clear error; one readable by others is made owner-only', () => {
    dir = mkdtempSync(join(tmpdir(), 'proclaunch-tokens-'));
    writeFileSync(join(dir, 'http.token'), 'hunter2\n');
    expect(() => loadTokens(dir)).toThrow(/http\.token does not hold a token \(64 hex digits\); remove it/);
    writeFileSync(join(dir, 'http.token'), `${'ab'.repeat(32)}\n`);
    chmodSync(join(dir, 'http.token'), 0o644);
    expect(loadTokens(dir).kindOfToken('ab'.repeat(32))).toBe('full');
    expect(statSync(join(dir, 'http.token')).mode & 0o777).toBe(0o600);
  });
});
