// `--http` is opt-in: without it not one module of src/http is loaded; with
// an address that cannot be bound the start fails in one line, exit 1,
// before anything runs (and before daemonizing); a bad ADDR is a usage error.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI, Sandbox, sh } from '../support/sandbox.js';
import { http, httpAddressOf, tokenOf } from '../support/http.js';
import { waitFor } from '../support/wait.js';

let box: Sandbox;
let blocker: Server | null = null;
beforeEach(() => {
  box = new Sandbox();
});
afterEach(async () => {
  blocker?.close();
  blocker = null;
  await box.cleanup();
});

const RECORDER = pathToFileURL(resolve('test/support/record-modules.mjs')).href;
const HTTP_DIR = pathToFileURL(resolve('dist/http')).href;

/** A supervisor started with the module recorder: which of our modules it loaded, once its control socket answers. */
async function modulesLoaded(extra: string[], nth: number): Promise<string[]> {
  const list = join(box.root, `modules-${nth}.txt`);
  box.start(extra, { env: { NODE_OPTIONS: `--import=${RECORDER}`, PROCLAUNCH_TEST_MODULES: list } });
  await waitFor(() => `control socket #${nth}\n${box.logText()}`, () => box.count('proclaunch', /^control socket /) === nth, { timeoutMs: 30_000 });
  expect((await box.cli('status')).code).toBe(0);
  return readFileSync(list, 'utf8').split('\n').filter((url) => url.includes('/dist/'));
}

describe('--http is opt-in', () => {
  it('a supervisor without --http loads nothing of src/http; one with it does (the recorder works)', async () => {
    box.profile('web', { run: sh('exec sleep 1000') });
    // The supervisor loads as one bundle, its lazy parts as chunks (scripts/build.mjs), or without rolldown file by file.
    const isHttp = (url: string) => url.startsWith(HTTP_DIR) || /\/dist\/cli\/supervise\.chunk-http-/.test(url);
    const without = await modulesLoaded([], 1);
    expect(without.some((url) => url.endsWith('/dist/supervisor/supervisor.js') || url.endsWith('/dist/cli/supervise.bundle.js'))).toBe(true);
    expect(without.filter(isHttp)).toEqual([]);
    expect(existsSync(join(box.stateDir, 'http.token'))).toBe(false);
    await box.stopSupervisor();

    const withHttp = await modulesLoaded(['--http', '127.0.0.1:0'], 2);
    expect(withHttp.some(isHttp)).toBe(true);
  }, 60_000);

  it('an address that cannot be bound: one line on stderr, exit 1, and no service started — in the foreground and daemonized', async () => {
    blocker = createServer();
    await new Promise<void>((done) => blocker!.listen(0, '127.0.0.1', done));
    const port = (blocker.address() as { port: number }).port;
    const marker = join(box.root, 'ran');
    box.profile('web', { run: sh(`touch ${marker}; exec sleep 1000`) });
    for (const mode of [['--foreground'], []]) {
      const r = spawnSync(process.execPath, [CLI, 'supervise', ...mode, '--http', `127.0.0.1:${port}`, box.stateDir, box.profilesDir], { encoding: 'utf8', timeout: 20_000 });
      expect([mode, r.status, r.stderr, r.stdout]).toEqual([mode, 1, `proclaunch: --http 127.0.0.1:${port}: cannot listen: the address is in use\n`, '']);
      expect(existsSync(marker)).toBe(false);
    }
    // The daemon child is gone too: the next start owns STATE_DIR.
    blocker.close();
    blocker = null;
    box.start(['--http', `127.0.0.1:${port}`]);
    expect((await httpAddressOf(box)).port).toBe(port);
  });

  it('a malformed ADDR is a usage error (exit 2); unix:PATH serves on a 0660 socket', async () => {
    for (const bad of ['9001', '::1:9001']) {
      const r = spawnSync(process.execPath, [CLI, 'supervise', '--foreground', '--http', bad, box.stateDir, box.profilesDir], { encoding: 'utf8' });
      expect([bad, r.status, r.stderr.split('\n')[0]]).toEqual([bad, 2, expect.stringMatching(/^proclaunch: --http /)]);
    }
    const socket = join(box.root, 'http.sock');
    box.start(['--http', `unix:${socket}`]);
    await box.waitLog('proclaunch', /^http listening on unix:/);
    expect(statSync(socket).mode & 0o777).toBe(0o660);
    const curl = spawnSync('curl', ['-s', '--unix-socket', socket, '-H', `Authorization: Bearer ${tokenOf(box)}`, 'http://localhost/api/v1/services'], { encoding: 'utf8' });
    expect(JSON.parse(curl.stdout)).toMatchObject({ ok: true, services: [] });
  });

  it('GET / serves the page from the package with its security headers (or a placeholder without one)', async () => {
    box.start(['--http', '127.0.0.1:0']);
    const { port } = await httpAddressOf(box);
    const page = await http(port, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toMatch(/^default-src 'self'; script-src 'self';/);
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.text).toMatch(/<html/);
    const again = await http(port, '/', { headers: { 'If-None-Match': page.headers.etag! } });
    expect(again.status).toBe(304);
    expect((await http(port, '/page/nope.js')).status).toBe(404);
    await waitFor('the supervisor still runs', () => box.supervisor?.exitCode === null);
  });
});
