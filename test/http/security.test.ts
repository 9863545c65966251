// The HTTP side's security rules, each against a real supervisor: tokens,
// the read-only token, POST only, Origin and Host checks, body limits, hostile
// names, no environment in any reply, and 500 clients at once.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../src/http/routes.js';
import { Sandbox, sh } from '../support/sandbox.js';
import { http, httpAddressOf, sse, tokenOf, type HttpReply } from '../support/http.js';

const SECRET = 'sekrit-7f3a9c-value';
let box: Sandbox;
let port = 0;
let token = '';
let readonly = '';
let webPid = 0;

beforeAll(async () => {
  box = new Sandbox();
  box.profile('web', { run: sh('exec sleep 1000'), restart: '', 'env/API_KEY': `${SECRET}-profile\n` });
  box.start(['--http', '127.0.0.1:0'], { env: { SUPERVISOR_SECRET: `${SECRET}-supervisor` } });
  port = (await httpAddressOf(box)).port;
  token = tokenOf(box);
  readonly = tokenOf(box, 'readonly');
  webPid = await box.runningPid('web');
});
afterAll(async () => {
  await box.cleanup();
});

/** Every path of the table with its `:name` and `:file` filled in. */
const concrete = (path: string[]): string => `/${path.map((p) => (p === ':name' ? 'web' : p === ':file' ? 'app.js' : p)).join('/')}`;
const tokenRoutes = ROUTES.filter((r) => r.access === 'token');
const getPaths = tokenRoutes.filter((r) => r.method === 'GET' && !r.path.includes('stream') && !(r.path.at(-1) === 'log')).map((r) => concrete(r.path));
const postPaths = tokenRoutes.filter((r) => r.method === 'POST').map((r) => concrete(r.path));

describe('HTTP security', () => {
  it('every path but the probes, metrics and the page’s files needs a token: 401 without one, with a wrong one, or one of another length', async () => {
    const wrong = [null, 'f'.repeat(64), token.slice(0, 63), `${token}0`, token.toUpperCase(), ''];
    for (const route of tokenRoutes) {
      for (const attempt of wrong) {
        const reply = await http(port, concrete(route.path), { method: route.method, token: attempt, body: route.method === 'POST' ? {} : undefined });
        expect([route.path.join('/'), attempt?.slice(0, 4), reply.status]).toEqual([route.path.join('/'), attempt?.slice(0, 4), 401]);
        expect(reply.json()).toMatchObject({ ok: false });
      }
    }
    expect((await http(port, '/api/v1/services', { headers: { Authorization: `Basic ${token}` } })).status).toBe(401);
    for (const path of ['/healthz', '/readyz', '/metrics', '/']) expect((await http(port, path)).status).toBe(200);
    expect(await box.runningPid('web')).toBe(webPid); // nothing was done
  });

  it('the read-only token reads everything and changes nothing (403 on every POST)', async () => {
    for (const path of getPaths) expect([path, (await http(port, path, { token: readonly })).status]).toEqual([path, 200]);
    expect((await http(port, '/api/v1/services/web/log?lines=1', { token: readonly })).status).toBe(200);
    for (const path of postPaths) {
      const reply = await http(port, path, { token: readonly, body: { signal: 'KILL' } });
      expect([path, reply.status, reply.json().error]).toEqual([path, 403, 'the read-only token may not change anything']);
    }
    expect((await box.status('web'))[0]).toMatchObject({ state: 'running', pid: webPid });
  });

  it('changes are POST only (405 with Allow); other methods on any path are 405 too', async () => {
    const get = await http(port, '/api/v1/services/web/stop', { token });
    expect([get.status, get.headers.allow]).toEqual([405, 'POST']);
    for (const method of ['PUT', 'DELETE', 'PATCH']) expect((await http(port, '/api/v1/services/web', { token, method })).status).toBe(405);
    expect((await http(port, '/api/v1/services', { token, method: 'POST', body: {} })).headers.allow).toBe('GET');
    expect((await box.status('web'))[0]).toMatchObject({ state: 'running', pid: webPid });
  });

  it('a POST with a foreign Origin is refused; one with the cookie must carry our Origin; one with the bearer token may carry none', async () => {
    const ours = `http://127.0.0.1:${port}`;
    for (const origin of ['http://evil.example', 'null', `http://127.0.0.1:${port + 1}`, 'garbage']) {
      const reply = await http(port, '/api/v1/services/web/signal', { token, body: { signal: 'CONT' }, headers: { Origin: origin } });
      expect([origin, reply.status]).toEqual([origin, 403]);
    }
    const login = await http(port, '/api/v1/session', { body: { token }, headers: { Origin: ours } });
    const cookie = { Cookie: login.headers['set-cookie']![0]!.split(';')[0]! };
    expect((await http(port, '/api/v1/session', { body: { token }, headers: { Origin: 'http://evil.example' } })).status).toBe(403);
    const noOrigin = await http(port, '/api/v1/services/web/signal', { body: { signal: 'CONT' }, headers: cookie });
    expect([noOrigin.status, noOrigin.json().error]).toEqual([403, 'a POST with the session cookie must carry the Origin header']);
    expect((await http(port, '/api/v1/services/web/signal', { body: { signal: 'CONT' }, headers: { ...cookie, Origin: 'http://evil.example' } })).status).toBe(403);
    expect((await http(port, '/api/v1/services/web/signal', { body: { signal: 'CONT' }, headers: { ...cookie, Origin: ours } })).json()).toMatchObject({ ok: true });
    expect((await http(port, '/api/v1/services/web/signal', { token, body: { signal: 'CONT' } })).json()).toMatchObject({ ok: true });
    // No CORS: nothing tells a browser it may read a reply from another origin.
    const preflight = await http(port, '/api/v1/services', { method: 'OPTIONS', headers: { Origin: 'http://evil.example' } });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('on loopback, a Host that is not a loopback name is refused (DNS rebinding), on every path', async () => {
    for (const path of ['/healthz', '/metrics', '/', '/api/v1/services']) {
      const reply = await http(port, path, { token, headers: { Host: `evil.example:${port}` } });
      expect([path, reply.status]).toEqual([path, 403]);
    }
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'LOCALHOST', '127.1.2.3']) {
      expect([host, (await http(port, '/api/v1/services', { token, headers: { Host: host } })).status]).toEqual([host, 200]);
    }
  });

  it('bodies: JSON only (415), at most 16 KiB (413), an object (400)', async () => {
    const post = (body: string, type = 'application/json') => http(port, '/api/v1/services/web/signal', { token, body, headers: { 'Content-Type': type } });
    expect((await post('{"signal":"CONT"}', 'text/plain')).status).toBe(415);
    expect((await post('signal=CONT', 'application/x-www-form-urlencoded')).status).toBe(415);
    const big = await post(JSON.stringify({ signal: 'CONT', pad: 'x'.repeat(17 * 1024) }));
    expect([big.status, big.json().error]).toEqual([413, 'the body is larger than 16384 bytes']);
    expect((await post('{"signal":')).status).toBe(400);
    expect((await post('["CONT"]')).status).toBe(400);
    expect((await post('{"signal":"CONT"}', 'application/json; charset=utf-8')).status).toBe(200);
  });

  it('hostile names: `..`, %2f, NUL, 10 KB — 400 or 404, and never a file outside the state directory', async () => {
    mkdirSync(join(box.root, 'outside'));
    writeFileSync(join(box.root, 'outside', 'secret.txt'), `${SECRET}-file\n`);
    const attempts = [
      '/api/v1/services/..',
      '/api/v1/services/../log',
      '/api/v1/services/..%2f..%2foutside%2fsecret.txt/log',
      '/api/v1/services/%2e%2e/log?lines=10',
      '/api/v1/services/web%00/log',
      '/api/v1/services/web%2f..%2f..%2foutside/log',
      `/api/v1/services/${'a'.repeat(10 * 1024)}`,
      `/api/v1/services/${'a'.repeat(10 * 1024)}/log`,
      '/api/v1/services/%ff%fe',
      '/page/..%2f..%2f..%2fpackage.json',
      '/page/../../package.json',
      '/page/%2e%2e',
      `/page/${'..%2f'.repeat(8)}outside%2fsecret.txt`,
    ];
    for (const path of attempts) {
      const reply = await http(port, path, { token });
      expect([path.slice(0, 60), [400, 404].includes(reply.status)]).toEqual([path.slice(0, 60), true]);
      expect(reply.text).not.toContain(SECRET);
      expect(reply.text).not.toContain('"version"');
    }
  });

  it('no environment variable, of the supervisor or of a service, is in any reply', async () => {
    const replies: HttpReply[] = [];
    for (const path of [...getPaths, '/api/v1/services/web/log?lines=1000', '/healthz', '/readyz', '/metrics', '/']) replies.push(await http(port, path, { token }));
    replies.push(await http(port, '/api/v1/services/web/reload', { token, method: 'POST' }));
    replies.push(await http(port, '/api/v1/services/web/restart', { token, method: 'POST' }));
    replies.push(await http(port, '/api/v1/services/nope/stop', { token, method: 'POST' }));
    const stream = await sse(port, '/api/v1/events/stream?since=1970-01-01T00:00:00Z', { token });
    await stream.waitFor('the restart’s start', (m) => m.event === 'started' && m.data.includes('"by"'));
    stream.close();
    for (const reply of replies) expect(reply.text).not.toContain(SECRET);
    for (const message of stream.messages) expect(message.data).not.toContain(SECRET);
    expect(replies.some((r) => r.text.includes('SUPERVISOR_SECRET') || r.text.includes('API_KEY'))).toBe(false);
    webPid = await box.runningPid('web', 2);
  });

  it('500 connections at once are all served while every service keeps running', async () => {
    const pid = (await box.status('web'))[0]!.pid;
    // Mostly cheap paths: the point is the connections; a tenth read /proc (status, metrics).
    const paths = ['/api/v1/services', '/healthz', '/api/v1/session', '/api/v1/events', '/readyz', '/metrics', '/healthz', '/api/v1/session', '/', '/healthz'];
    const replies = await Promise.all(Array.from({ length: 500 }, (_, i) => http(port, paths[i % paths.length]!, { token, timeoutMs: 50_000 })));
    expect(replies.filter((r) => r.status !== 200)).toEqual([]);
    expect((await box.status('web'))[0]).toMatchObject({ state: 'running', pid });
  }, 60_000);
});
