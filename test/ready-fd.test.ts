// notification-fd (src/process/ready-fd.ts): the service writes a newline to
// fd N. Real `sh` services get the fd through spawnService (posix_spawn when
// the native module has it) and through Node's own spawn.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadNative } from '../src/process/native.js';
import { spawnNative } from '../src/process/native-spawn.js';
import { holdReadyFd, readyFdPath, releaseReadyFd, type ReadyFd } from '../src/process/ready-fd.js';
import { spawnService, withExtraFds } from '../src/process/spawn.js';
import { serviceConfig } from './support/service-config.js';
import { waitFor } from './support/wait.js';

const root = mkdtempSync(join(tmpdir(), 'proclaunch-readyfd-'));
const native = loadNative();
const nativeSkip = native?.canSpawn && native.pidfd ? '' : ' (SKIPPED: no native posix_spawn here)';

const children: ChildProcess[] = [];
const held: [string, string][] = [];
afterEach(() => {
  for (const child of children.splice(0)) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }
  for (const [stateDir, tag] of held.splice(0)) releaseReadyFd(stateDir, tag);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

let count = 0;
function setup(): { dir: string; stateDir: string; tag: string; ready: ReadyFd } {
  const dir = mkdtempSync(join(root, 'p-'));
  const stateDir = join(dir, 'state');
  const tag = `svc${++count}`;
  const ready = holdReadyFd(stateDir, tag);
  held.push([stateDir, tag]);
  return { dir, stateDir, tag, ready };
}

/** Start `sh -c SCRIPT` as a service whose fd N is the readiness file (our copy closed once spawned). */
function start(dir: string, stateDir: string, ready: ReadyFd, script: string, n = 3): ChildProcess {
  const config = serviceConfig(dir, 'svc', { runPath: '/bin/sh' });
  const fd = ready.openForChild();
  try {
    const child = spawnService(config, stateDir, ['-c', script], new Map([[n, fd]]));
    children.push(child);
    return child;
  } finally {
    closeSync(fd);
  }
}

const readyPromise = (ready: ReadyFd): Promise<void> => new Promise((done) => ready.watch(done));

describe('notification-fd', () => {
  it('is ready on the newline a real sh service writes to fd 3 (then closes); fd 3 is a 0600 file in a 0700 dir', async () => {
    const { dir, stateDir, tag, ready } = setup();
    expect(ready.ready).toBe(false);
    let fired = 0;
    ready.watch(() => fired++);
    start(dir, stateDir, ready, 'sleep 0.2; echo >&3; exec 3>&-; exec sleep 30');
    await waitFor('ready', () => fired === 1);
    expect(ready.ready).toBe(true);
    expect(statSync(readyFdPath(stateDir, tag)).mode & 0o777).toBe(0o600);
    expect(statSync(join(stateDir, 'ready')).mode & 0o777).toBe(0o700);
    // One fire only, and a later watch of the same run fires at once (next tick).
    await readyPromise(ready);
    expect(fired).toBe(1);
  });

  it.each([3, 7])('fd %i: the service has 0, 1, 2 and N, nothing else, and N is write-only append', async (n) => {
    const { dir, stateDir, ready } = setup();
    const child = start(dir, stateDir, ready, `echo >&${n}; exec sleep 30`, n);
    await readyPromise(ready);
    // sleep opens nothing for long (its locale files, at start): its lasting fds are what the service was given.
    const fdsOf = () => readdirSync(`/proc/${child.pid}/fd`).map(Number).sort((a, b) => a - b).join(' ');
    await waitFor(`fds 0 1 2 ${n} (has ${fdsOf()})`, () => readFileSync(`/proc/${child.pid}/cmdline`, 'latin1').startsWith('sleep') && fdsOf() === `0 1 2 ${n}`, { timeoutMs: 3000 });
    const fdinfo = readFileSync(`/proc/${child.pid}/fdinfo/${n}`, 'latin1');
    const flags = Number.parseInt(fdinfo.match(/flags:\s+(\d+)/)![1]!, 8);
    expect(flags & 0o3).toBe(0o1); // O_WRONLY
    expect(flags & 0o2000).toBe(0o2000); // O_APPEND
    expect(flags & 0o4000).toBe(0); // not O_NONBLOCK
  });

  it.skipIf(nativeSkip)(`posix_spawn places it too (spawnNative), and Node's spawn takes the same stdio array${nativeSkip}`, async () => {
    const { dir, ready } = setup();
    for (const how of ['native', 'node'] as const) {
      ready.reset();
      const fd = ready.openForChild();
      const stdio = withExtraFds(['ignore', 'ignore', 'ignore'], new Map([[4, fd]]));
      expect(stdio).toEqual(['ignore', 'ignore', 'ignore', 'ignore', fd]);
      const options = { detached: true, stdio, cwd: dir };
      const child = how === 'native' ? spawnNative(native!, 'sh', ['-c', 'echo >&4; exec sleep 30'], options) : spawn('sh', ['-c', 'echo >&4; exec sleep 30'], options);
      children.push(child);
      await once(child, 'spawn');
      closeSync(fd);
      await readyPromise(ready);
      expect(ready.ready).toBe(true);
    }
  });

  it.skipIf(nativeSkip)(`the native spawn refuses extra fds it cannot place, with one clear error${nativeSkip}`, () => {
    const request = { file: '/bin/true', argv: ['true'], envp: [], cwd: null, stdin: null, stdout: null, stderr: null };
    for (const extraFds of [[[2, 0]], [[1024, 0]], [[3, 0], [3, 0]], [[3, -1]]] as [number, number][][]) {
      expect(() => native!.spawn({ ...request, extraFds })).toThrow(/^extraFds must be \[target, source, \.\.\.\]/);
    }
    expect(() => native!.spawn({ ...request, extraFds: [[3, 987654]] })).toThrow(expect.objectContaining({ code: 'EBADF' }));
    // More than the native spawn places: spawnChild would hand it to Node; spawnNative says so.
    expect(() => spawnNative(native!, 'true', [], { detached: true, stdio: withExtraFds(['ignore', 'ignore', 'ignore'], new Map([[1100, 0]])) })).toThrow(RangeError);
  });

  it('a line written while no supervisor runs (killed -9), the fd then closed, is read by the next supervisor', async () => {
    const dir = mkdtempSync(join(root, 'p-'));
    const stateDir = join(dir, 'state');
    const go = join(dir, 'go');
    // The first supervisor: another process, holding the file and starting the service, then killed -9.
    const script = `import { holdReadyFd } from ${JSON.stringify(resolve('dist/process/ready-fd.js'))};
      import { spawnService } from ${JSON.stringify(resolve('dist/process/spawn.js'))};
      import { closeSync } from 'node:fs';
      const config = ${JSON.stringify(serviceConfig(dir, 'svc', { runPath: '/bin/sh' }))};
      const fd = holdReadyFd(${JSON.stringify(stateDir)}, 'svc').openForChild();
      const child = spawnService(config, ${JSON.stringify(stateDir)}, ['-c', 'while [ ! -e ${go} ]; do sleep 0.02; done; echo >&3; exec 3>&-; exec sleep 30'], new Map([[3, fd]]));
      child.once('spawn', () => { closeSync(fd); console.log(child.pid); });
      setInterval(() => {}, 1000);`;
    const supervisor = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(supervisor.stdout!, 'data')) as [Buffer];
    const servicePid = Number(line.toString().trim());
    children.push({ pid: servicePid } as ChildProcess); // its own session: killed by group at the end
    supervisor.kill('SIGKILL');
    await once(supervisor, 'exit');
    writeFileSync(go, '');
    await waitFor('the service closed fd 3', () => !existsSync(`/proc/${servicePid}/fd/3`) && readFileSync(`/proc/${servicePid}/cmdline`, 'latin1').startsWith('sleep'));
    const ready = holdReadyFd(stateDir, 'svc');
    held.push([stateDir, 'svc']);
    expect(ready.ready).toBe(true);
    await readyPromise(ready);
  });

  it('a chatty service writing 1 MiB after its line does not block, and the file stays one byte', async () => {
    const { dir, stateDir, tag, ready } = setup();
    const done = join(dir, 'done');
    start(dir, stateDir, ready, `echo >&3; head -c 1048576 /dev/zero >&3; i=0; while [ $i -lt 200 ]; do echo chat >&3; i=$((i+1)); done; : > ${done}; exec sleep 30`);
    await readyPromise(ready);
    await waitFor('the service wrote it all', () => existsSync(done), { timeoutMs: 10_000 });
    await waitFor('the file cut back to its mark', () => statSync(readyFdPath(stateDir, tag)).size === 1);
    expect(readFileSync(readyFdPath(stateDir, tag), 'latin1')).toBe('\n');
    expect(ready.ready).toBe(true);
  });

  it('reset() forgets the last run: a fresh run is ready only on its own line; junk without a newline is cut at 64 KiB', async () => {
    const { dir, stateDir, tag, ready } = setup();
    start(dir, stateDir, ready, 'echo >&3; exec sleep 30');
    await readyPromise(ready);
    ready.reset();
    expect(ready.ready).toBe(false);
    expect(statSync(readyFdPath(stateDir, tag)).size).toBe(0);
    const go = join(dir, 'go');
    const junked = join(dir, 'junked');
    let fired = false;
    ready.watch(() => (fired = true));
    start(dir, stateDir, ready, `head -c 100000 /dev/zero >&3; : > ${junked}; while [ ! -e ${go} ]; do sleep 0.02; done; echo >&3; exec sleep 30`);
    // Written, then cut (the file is empty after reset() too: waiting for the size alone let the newline race the cut).
    await waitFor('the junk cut', () => existsSync(junked) && statSync(readyFdPath(stateDir, tag)).size === 0 && !fired ? true : null);
    expect(ready.ready).toBe(false);
    writeFileSync(go, '');
    await waitFor('ready', () => fired);
  });

  it('holding is idempotent; a symlink in its place is not followed; release removes the file', () => {
    const { stateDir, tag, ready } = setup();
    expect(holdReadyFd(stateDir, tag)).toBe(ready);
    releaseReadyFd(stateDir, tag);
    held.pop();
    expect(readdirSync(join(stateDir, 'ready'))).toEqual([]);
    const target = join(root, 'victim');
    writeFileSync(target, 'keep');
    symlinkSync(target, readyFdPath(stateDir, tag));
    expect(() => holdReadyFd(stateDir, tag)).toThrow(/ELOOP/);
    expect(readFileSync(target, 'utf8')).toBe('keep');
  });
});
