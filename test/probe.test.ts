// Probes (src/process/probe.ts, probe-loop.ts): real executables in a real
// profile directory: passing, failing, hanging (killed at the timeout with
// what they started), flooding, unrunnable; redis-cli ping and curl -fs
// against real servers; the ready and health loops on top.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { healthLoop, probeUntilReady } from '../src/process/probe-loop.js';
import { loadNative } from '../src/process/native.js';
import { PROBE_OUTPUT_CAP, runProbe, type ProbeResult } from '../src/process/probe.js';
import type { ServiceConfig } from '../src/profile/types.js';
import { serviceConfig } from './support/service-config.js';
import { alive } from './support/sandbox.js';
import { freePort } from './support/free-port.js';
import { waitFor } from './support/wait.js';

const root = mkdtempSync(join(tmpdir(), 'proclaunch-probe-'));
const onPath = (name: string): boolean => spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
const noRedis = onPath('redis-server') && onPath('redis-cli') ? '' : ' (SKIPPED: redis-server and redis-cli, Debian package redis-server, are not installed)';
const noCurl = onPath('curl') ? '' : ' (SKIPPED: curl is not installed)';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let count = 0;
/** A profile directory with an executable `probe` (a shell script body), and its config. */
function profile(body: string, mode = 0o755): { config: ServiceConfig; dir: string; probe: string; stateDir: string } {
  const dir = join(root, `p${++count}`);
  mkdirSync(dir);
  const probe = join(dir, 'probe');
  writeFileSync(probe, `#!/bin/sh\n${body}\n`);
  chmodSync(probe, mode);
  return { config: serviceConfig(dir, `svc${count}`, { env: { GREETING: 'hi there' } }), dir, probe, stateDir: join(dir, 'state') };
}

function probeOnce(body: string, timeoutMs = 5000, mode = 0o755): Promise<ProbeResult & { dir: string }> {
  const { config, dir, probe, stateDir } = profile(body, mode);
  return new Promise((done) => runProbe(config, stateDir, probe, timeoutMs, (result) => done({ ...result, dir })));
}

describe('runProbe', () => {
  it('passes on exit 0, in the profile directory with the service\'s environment, its output kept', async () => {
    const result = await probeOnce('echo "$GREETING from $PROCLAUNCH_TAG in $(pwd)"; echo oops >&2');
    expect(result).toMatchObject({ ok: true, code: 0, signal: null, reason: null, timedOut: false });
    expect(result.output).toBe(`hi there from svc${count} in ${result.dir}\noops\n`);
  });

  it('its output through a pipe of its own each run (the native module\'s, when there is one: no fork of the supervisor), no fd left open', async () => {
    const { config, probe, stateDir } = profile('echo one; echo two >&2');
    const fds = () => readdirSync('/proc/self/fd').length;
    const before = fds();
    for (let i = 0; i < 3; i++) {
      const result = await new Promise<ProbeResult>((done) => runProbe(config, stateDir, probe, 5000, done));
      expect(result).toMatchObject({ ok: true, output: 'one\ntwo\n' });
    }
    await waitFor('its pipe closed', () => fds() <= before);
    if (loadNative()) expect(loadNative()!.pipe).not.toBeNull(); // a native module built before pipe(): rebuild it
  });

  it('fails on exit 1, saying so, with what it printed', async () => {
    const result = await probeOnce('echo "connection refused" >&2; exit 1');
    expect(result).toMatchObject({ ok: false, code: 1, reason: 'exited 1', output: 'connection refused\n', timedOut: false });
  });

  it('a probe that hangs is killed at the timeout with its whole group (its child too), and says the bound', async () => {
    const { config, dir, probe, stateDir } = profile('sleep 100 & echo $! > child.pid; exec sleep 100');
    const started = Date.now();
    const result = await new Promise<ProbeResult>((done) => runProbe(config, stateDir, probe, 300, done));
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(result).toMatchObject({ ok: false, code: null, signal: 'SIGKILL', timedOut: true, reason: 'did not finish within 300ms: killed, with its process group (SIGKILL)' });
    const child = Number(readFileSync(join(dir, 'child.pid'), 'utf8'));
    await waitFor(`its child ${child} killed`, () => !alive(child), { timeoutMs: 2000 });
  });

  it(`keeps only the last ${PROBE_OUTPUT_CAP} bytes of 1 MiB of output, and of output that never ends`, async () => {
    const big = await probeOnce("head -c 1048576 /dev/zero | tr '\\0' x; echo; echo END");
    expect(big).toMatchObject({ ok: true, code: 0 });
    expect(big.output.length).toBe(PROBE_OUTPUT_CAP);
    expect(big.output.endsWith('x\nEND\n')).toBe(true);
    const forever = await probeOnce('exec yes', 300);
    expect(forever).toMatchObject({ ok: false, timedOut: true });
    expect(forever.output).toHaveLength(PROBE_OUTPUT_CAP);
    expect(forever.output).toMatch(/^[y\n]+$/);
  });

  it('a probe that cannot run fails with one clear reason: not executable, missing, a directory, no interpreter', async () => {
    expect((await probeOnce('exit 0', 5000, 0o644)).reason).toMatch(/\/probe is not executable$/);
    const { config, dir, stateDir } = profile('exit 0');
    const run = (path: string) => new Promise<ProbeResult>((done) => runProbe(config, stateDir, path, 5000, done));
    expect(await run(join(dir, 'nope'))).toMatchObject({ ok: false, code: null, reason: `${join(dir, 'nope')} does not exist` });
    expect((await run(dir)).reason).toBe(`${dir} is not a file`);
    const noInterpreter = join(dir, 'bad');
    writeFileSync(noInterpreter, '#!/nonexistent/interpreter\n');
    chmodSync(noInterpreter, 0o755);
    expect((await run(noInterpreter)).reason).toBe(`cannot execute ${noInterpreter}: its interpreter (the #! line) was not found (#!/nonexistent/interpreter)`);
  });

  it('cancel() kills a running probe and reports nothing', async () => {
    const { config, dir, probe, stateDir } = profile('echo $$ > self.pid; exec sleep 100');
    let reported = false;
    const cancel = runProbe(config, stateDir, probe, 10_000, () => (reported = true));
    const pid = await waitFor('the probe started', () => Number(readFileSync(join(dir, 'self.pid'), 'utf8')) || null);
    cancel();
    await waitFor('the probe killed', () => !alive(pid), { timeoutMs: 2000 });
    await new Promise((done) => setTimeout(done, 50)); // a late report would come in this window
    expect(reported).toBe(false);
  });
});

describe('probe loops', () => {
  it('ready: every interval until a run passes; health: unhealthy after `retries` failures in a row, a pass resets the count', async () => {
    // Passes on its 3rd run only, then fails: ready after 3 runs; health: fail, fail, pass, fail, fail, fail.
    const body = 'n=$(cat n 2>/dev/null || echo 0); n=$((n+1)); echo $n > n; [ $n -eq 3 ]';
    const { config, dir, probe, stateDir } = profile(body);
    const run = (done: (r: ProbeResult) => void) => runProbe(config, stateDir, probe, 5000, done);
    const failures: ProbeResult[] = [];
    const ready = await new Promise<ProbeResult>((onReady) => cleanups.push(probeUntilReady({ run, intervalMs: 20, onReady, onFailure: (r) => failures.push(r) })));
    expect(ready.ok).toBe(true);
    expect(failures.map((r) => r.reason)).toEqual(['exited 1', 'exited 1']);
    rmSync(join(dir, 'n'));
    const seen: number[] = [];
    const unhealthy = await new Promise<number>((onUnhealthy) =>
      cleanups.push(healthLoop({ run, intervalMs: 20, retries: 3, onResult: (_r, inARow) => seen.push(inARow), onUnhealthy: (_r, inARow) => onUnhealthy(inARow) })),
    );
    expect(unhealthy).toBe(3);
    expect(seen).toEqual([1, 2, 0, 1, 2, 3]);
    await new Promise((done) => setTimeout(done, 100)); // it has stopped: no 7th run
    expect(readFileSync(join(dir, 'n'), 'utf8').trim()).toBe('6');
  });

  it('cancel stops a loop: no run after it', async () => {
    const { config, dir, probe, stateDir } = profile('n=$(cat n 2>/dev/null || echo 0); echo $((n+1)) > n; exit 1');
    const cancel = probeUntilReady({ run: (done) => runProbe(config, stateDir, probe, 5000, done), intervalMs: 10, onReady: () => undefined });
    await waitFor('two runs', () => Number(readFileSync(join(dir, 'n'), 'utf8')) >= 2);
    cancel();
    const after = readFileSync(join(dir, 'n'), 'utf8');
    await new Promise((done) => setTimeout(done, 100));
    expect(readFileSync(join(dir, 'n'), 'utf8')).toBe(after);
  });

  it.skipIf(noRedis)(`redis-cli ping: fails while redis-server is not up, passes once it is${noRedis}`, async () => {
    const port = await freePort();
    const { config, probe, stateDir, dir } = profile(`exec redis-cli -p ${port} ping`);
    const run = (done: (r: ProbeResult) => void) => runProbe(config, stateDir, probe, 5000, done);
    const failures: ProbeResult[] = [];
    const ready = new Promise<ProbeResult>((onReady) => cleanups.push(probeUntilReady({ run, intervalMs: 50, onReady, onFailure: (r) => failures.push(r) })));
    await waitFor('a failed ping', () => failures.length > 0);
    expect(failures[0]!.output).toMatch(/Could not connect to Redis/);
    const redis: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore', detached: true });
    cleanups.push(() => redis.kill('SIGKILL'));
    expect((await ready).output).toBe('PONG\n');
  });

  it.skipIf(noCurl)(`curl -fs against a local HTTP server: 503 fails, 200 passes${noCurl}`, async () => {
    let status = 503;
    const server: Server = createServer((_req, res) => res.writeHead(status).end(status === 200 ? 'ok' : 'starting'));
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    cleanups.push(() => server.close());
    const { port } = server.address() as { port: number };
    const { config, probe, stateDir } = profile(`exec curl -fs http://127.0.0.1:${port}/health`);
    const run = (done: (r: ProbeResult) => void) => runProbe(config, stateDir, probe, 5000, done);
    const failures: ProbeResult[] = [];
    const ready = new Promise<ProbeResult>((onReady) => cleanups.push(probeUntilReady({ run, intervalMs: 20, onReady, onFailure: (r) => failures.push(r) })));
    await waitFor('a failed check', () => failures.length > 0);
    expect(failures[0]!.reason).toBe('exited 22'); // curl -f: HTTP error
    status = 200;
    expect((await ready).output).toBe('ok');
  });
});
