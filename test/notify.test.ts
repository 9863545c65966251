// The `notify` readiness protocol (src/process/notify.ts, native/notify.c):
// real senders (systemd-notify, redis-server, plain datagrams from python3)
// to a real abstract datagram socket, and every way a datagram is refused.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseNotify, type NotifyResult } from '../src/process/notify-message.js';
import { bindNotifySocket, holdNotifySocket, notifyIdPath, notifySupport, openNotifySocket, releaseNotifySocket, watchNotify } from '../src/process/notify.js';
import { freePort } from './support/free-port.js';
import { waitFor } from './support/wait.js';

const onPath = (name: string): boolean => spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
const support = notifySupport();
const skipNative = support ? ` (SKIPPED: ${support})` : '';
const isRoot = process.getuid?.() === 0;
const noSystemdNotify = onPath('systemd-notify') ? '' : ' (SKIPPED: systemd-notify, Debian package systemd, is not installed)';
const noRedis = onPath('redis-server') && onPath('redis-cli') ? '' : ' (SKIPPED: redis-server and redis-cli, Debian package redis-server, are not installed)';

const dir = mkdtempSync(join(tmpdir(), 'proclaunch-notify-'));
// A plain sd_notify sender: argv = address, text (\n for newlines), then how long to stay alive (so it can be traced).
const SEND = join(dir, 'send.py');
writeFileSync(
  SEND,
  `import socket, sys, time
a = sys.argv[1]
a = '\\0' + a[1:] if a.startswith('@') else a
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(sys.argv[2].encode('latin-1') if sys.argv[2] != 'BIG' else b'READY=1\\n' + b'x' * 65536, a)
time.sleep(float(sys.argv[3]) if len(sys.argv) > 3 else 0)
`,
);

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) {
    try {
      process.kill(-child.pid!, 'SIGKILL'); // each test process leads its own group
    } catch {
      // gone
    }
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A "service": `sh -c SCRIPT` in its own session, with NOTIFY_SOCKET. */
function service(script: string, address: string, env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore', cwd: dir, env: { ...process.env, NOTIFY_SOCKET: address, ...env } });
  children.push(child);
  return child;
}

/** Hold a socket for a fresh tag and listen for `run`'s pid; results collect in the array. */
function listen(tag: string, pid: () => number): { address: string; results: NotifyResult[]; stateDir: string } {
  const stateDir = mkdtempSync(join(dir, 'state-'));
  const { address } = holdNotifySocket(stateDir, tag);
  const results: NotifyResult[] = [];
  let stop: (() => void) | null = null;
  // The run's pid is known once spawned: attach then (the tests spawn right after).
  queueMicrotask(() => (stop = watchNotify(address, { pid: pid(), uid: null }, (r) => results.push(r))));
  afterEachRelease.push(() => {
    stop?.();
    releaseNotifySocket(stateDir, tag);
  });
  return { address, results, stateDir };
}
const afterEachRelease: (() => void)[] = [];
afterEach(() => afterEachRelease.splice(0).forEach((release) => release()));

const has = (results: NotifyResult[], kind: NotifyResult['kind']) => results.find((r) => r.kind === kind);
const ignoredLike = (results: NotifyResult[], pattern: RegExp) => results.find((r) => r.kind === 'ignored' && pattern.test(r.reason));

describe('parseNotify (as systemd reads a datagram)', () => {
  const parse = (text: string | Buffer) => parseNotify(typeof text === 'string' ? Buffer.from(text) : text);

  it('reads each known KEY=VALUE line, MAINPID= first, and ignores unknown keys quietly', () => {
    expect(parse('STATUS=warming up\nREADY=1\nMAINPID=1234\nFDSTORE=1\nWATCHDOG=1\nRELOADING=1\nSTOPPING=1\n')).toEqual([
      { kind: 'mainpid', pid: 1234 },
      { kind: 'status', text: 'warming up' },
      { kind: 'ready' },
      { kind: 'watchdog' },
      { kind: 'reloading' },
      { kind: 'stopping' },
    ]);
    expect(parse('STATUS=')).toEqual([{ kind: 'status', text: '' }]);
    expect(parse('STATUS=a=b')).toEqual([{ kind: 'status', text: 'a=b' }]);
  });

  it('gives one reason, never an exception, for garbage', () => {
    expect(parse(Buffer.from('READY=1\0STATUS=x'))).toEqual([{ kind: 'ignored', reason: 'a datagram of 16 bytes holds a NUL byte' }]);
    expect(parse(Buffer.from([0x52, 0x45, 0x41, 0x44, 0x59, 0x3d, 0xff, 0xfe]))).toEqual([{ kind: 'ignored', reason: 'a datagram of 8 bytes is not UTF-8' }]);
    expect(parse('hello\nREADY=1')).toEqual([{ kind: 'ignored', reason: 'the line "hello" is not KEY=VALUE' }, { kind: 'ready' }]);
    expect(parse('=1')).toEqual([{ kind: 'ignored', reason: 'the line "=1" is not KEY=VALUE' }]);
    expect(parse('READY=0')).toEqual([{ kind: 'ignored', reason: 'READY="0": only READY=1 means something' }]);
    expect(parse('MAINPID=12a')).toEqual([{ kind: 'ignored', reason: 'MAINPID="12a" is not a pid' }]);
    expect(parse(`MAINPID=${'9'.repeat(200)}`)[0]).toMatchObject({ kind: 'ignored', reason: expect.stringMatching(/^MAINPID="9{60}\.\.\." is not a pid$/) });
    expect(parse('')).toEqual([]);
    expect(() => parse(Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37) & 0xff)))).not.toThrow();
  });
});

describe('notifySupport', () => {
  it('says why notify cannot work without the native module (loads dist/ as the CLI does)', () => {
    const script = `import { notifySupport } from ${JSON.stringify(resolve('dist/process/notify.js'))}; console.log(JSON.stringify(notifySupport()));`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, PROCLAUNCH_NO_NATIVE: '1' } });
    expect(JSON.parse(run.stdout)).toBe('notify needs the native module (Node has no Unix datagram sockets): PROCLAUNCH_NO_NATIVE=1 is set');
  });
});

describe.skipIf(support !== null)(`the notify socket${skipNative}`, () => {
  it('binds @proclaunch/ID, gets a datagram with its sender\'s credentials, and refuses everything once closed', async () => {
    const got: { text: string | undefined; pid: number; uid: number }[] = [];
    const socket = openNotifySocket((d) => got.push({ text: d.data?.toString(), pid: d.pid, uid: d.uid }));
    expect(socket.address).toMatch(/^@proclaunch\/[0-9a-f]{32}$/);
    expect(readFileSync('/proc/net/unix', 'latin1')).toContain(socket.address); // abstract: no file anywhere
    const sender = spawn('python3', [SEND, socket.address, 'READY=1', '5'], { stdio: 'ignore' });
    children.push(sender);
    await waitFor('the datagram', () => got.length > 0);
    expect(got).toEqual([{ text: 'READY=1', pid: sender.pid, uid: process.getuid!() }]);
    socket.close();
    socket.close(); // twice: harmless
    const late = spawnSync('python3', [SEND, socket.address, 'READY=1'], { encoding: 'utf8' });
    expect(late.status).not.toBe(0);
    expect(late.stderr).toMatch(/ConnectionRefusedError/);
  });

  it('reports a 64 KiB datagram as dropped, unread, and goes on reading the next', async () => {
    let pid = 0;
    const { address, results } = listen('big', () => pid);
    const child = service(`python3 ${SEND} ${address} BIG 0 && exec python3 ${SEND} ${address} READY=1 30`, address);
    pid = child.pid!;
    await waitFor('READY=1 after the big one', () => has(results, 'ready'));
    expect(results[0]).toEqual({ kind: 'ignored', reason: expect.stringMatching(/^a datagram of 65544 bytes from pid \d+ is over the 4 KiB limit; dropped unread$/) });
    expect(results).toHaveLength(2); // the READY=1 inside the big one was never parsed
  });

  it.skipIf(noSystemdNotify)(`accepts systemd-notify --ready and --status=... run by the service (its barrier answered: exit 0)${noSystemdNotify}`, async () => {
    let pid = 0;
    const { address, results } = listen('sdn', () => pid);
    const child = service('systemd-notify --status="warming up" && systemd-notify --ready --status=serving; echo $? > rc; exec sleep 30', address);
    pid = child.pid!;
    await waitFor('READY=1', () => has(results, 'ready'));
    expect(results.filter((r) => r.kind !== 'ignored')).toEqual([{ kind: 'status', text: 'warming up' }, { kind: 'ready' }, { kind: 'status', text: 'serving' }]);
    await waitFor('systemd-notify done', () => readFileSync(join(dir, 'rc'), 'utf8').trim() === '0');
  });

  it.skipIf(noRedis)(`redis-server --supervised systemd is ready when it says so: redis-cli ping answers then${noRedis}`, async () => {
    const port = await freePort();
    let pid = 0;
    const { address, results } = listen('redis', () => pid);
    const data = mkdtempSync(join(dir, 'redis-'));
    const child = service(`exec redis-server --port ${port} --bind 127.0.0.1 --save '' --appendonly no --dir ${data} --supervised systemd --daemonize no`, address);
    pid = child.pid!;
    await waitFor('READY=1 from redis', () => has(results, 'ready'));
    expect(spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim()).toBe('PONG');
    expect(results.some((r) => r.kind === 'status' && /ready to accept connections/i.test(r.text))).toBe(true);
  });

  it('ignores a datagram from a process that is neither the service nor its descendant, saying whose', async () => {
    let pid = 0;
    const { address, results } = listen('stranger', () => pid);
    pid = service('exec sleep 30', address).pid!;
    const stranger = spawn('python3', [SEND, address, 'READY=1', '30'], { detached: true, stdio: 'ignore' });
    children.push(stranger);
    await waitFor('the refusal', () => results.length > 0);
    expect(results).toEqual([
      { kind: 'ignored', reason: `a datagram from pid ${stranger.pid} ("python3"), which is neither the service (pid ${pid}) nor one of its descendants` },
    ]);
  });

  it('accepts a descendant\'s datagram (a grandchild in the service\'s session)', async () => {
    let pid = 0;
    const { address, results } = listen('grandchild', () => pid);
    pid = service(`sh -c 'python3 ${SEND} ${address} READY=1 30' & wait`, address).pid!;
    await waitFor('READY=1', () => has(results, 'ready'));
    expect(results).toEqual([{ kind: 'ready' }]);
  });

  it('refuses MAINPID=1 and MAINPID= of the supervisor; accepts one of the service\'s own processes, with its start time', async () => {
    let pid = 0;
    const { address, results } = listen('mainpid', () => pid);
    const child = service(
      `sleep 30 & main=$!; python3 ${SEND} ${address} "MAINPID=1" 30 & python3 ${SEND} ${address} "MAINPID=${process.pid}" 30 & python3 ${SEND} ${address} "MAINPID=$main" 30 & wait`,
      address,
    );
    pid = child.pid!;
    await waitFor('three answers', () => (results.length >= 3 ? results : null));
    expect(ignoredLike(results, /^MAINPID= names pid 1, which is never a service$/)).toBeTruthy();
    expect(ignoredLike(results, new RegExp(`^MAINPID= names the supervisor's own pid ${process.pid}$`))).toBeTruthy();
    const main = has(results, 'mainpid') as Extract<NotifyResult, { kind: 'mainpid' }>;
    expect(main.proc.pid).toBeGreaterThan(1);
    expect(readFileSync(`/proc/${main.proc.pid}/cmdline`, 'latin1')).toBe('sleep\u000030\u0000');
    expect(main.proc.startTime).toBe(Number(readFileSync(`/proc/${main.proc.pid}/stat`, 'latin1').split(') ')[1]!.split(' ')[19]));
  });

  it.skipIf(!isRoot)(`as root, refuses MAINPID= of a stranger process, with a reason (a pid file's rule)${isRoot ? '' : ' (SKIPPED: not root; as another user a pid file is trusted too)'}`, async () => {
    const stranger = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    children.push(stranger);
    let pid = 0;
    const { address, results } = listen('mainpid-stranger', () => pid);
    pid = service(`exec python3 ${SEND} ${address} "MAINPID=${stranger.pid}" 30`, address).pid!;
    await waitFor('the refusal', () => results.length > 0);
    expect(results).toEqual([
      { kind: 'ignored', reason: `MAINPID= names pid ${stranger.pid}, which is neither the profile's user's nor from its run ("sleep"); not trusted` },
    ]);
  });

  it('garbage from the service is ignored with a reason; the socket goes on', async () => {
    let pid = 0;
    const { address, results } = listen('garbage', () => pid);
    // The first sender stays a while: one that has exited before its datagram is read cannot be traced (README).
    pid = service(`python3 ${SEND} ${address} "$(printf 'no equals sign')" 2; exec python3 ${SEND} ${address} "READY=1" 30`, address).pid!;
    await waitFor('READY=1', () => has(results, 'ready'));
    expect(results).toEqual([{ kind: 'ignored', reason: 'the line "no equals sign" is not KEY=VALUE' }, { kind: 'ready' }]);
  });

  it('keeps the socket\'s name in STATE_DIR/notify/TAG (0600): the next supervisor binds the same one; a taken name gets a new one, with a warning (once, also when bound ahead)', async () => {
    const stateDir = mkdtempSync(join(dir, 'state-'));
    const first = holdNotifySocket(stateDir, 'kept');
    expect(holdNotifySocket(stateDir, 'kept')).toEqual(first); // idempotent
    expect(statSync(notifyIdPath(stateDir, 'kept')).mode & 0o777).toBe(0o600);
    expect(statSync(join(stateDir, 'notify')).mode & 0o777).toBe(0o700);
    // A supervisor in another process, killed -9 while holding it: the name is free again and the same.
    const script = `import { holdNotifySocket } from ${JSON.stringify(resolve('dist/process/notify.js'))};
      console.log(holdNotifySocket(${JSON.stringify(stateDir)}, 'other').address); setInterval(() => {}, 1000);`;
    const other = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    children.push(other);
    const [line] = (await once(other.stdout!, 'data')) as [Buffer];
    other.kill('SIGKILL');
    await once(other, 'exit');
    expect(holdNotifySocket(stateDir, 'other')).toEqual({ address: line.toString().trim(), warning: null });
    // Someone else took the kept name: a new one, said so.
    releaseNotifySocket(stateDir, 'other');
    const again = holdNotifySocket(stateDir, 'other');
    releaseNotifySocket(stateDir, 'other');
    writeFileSync(notifyIdPath(stateDir, 'other'), again.address.slice('@proclaunch/'.length));
    const squatter = openNotifySocket(() => {}, again.address.slice('@proclaunch/'.length));
    bindNotifySocket(stateDir, 'other'); // bound ahead (while it waits for its needs): the launch still gets the warning, once
    const taken = holdNotifySocket(stateDir, 'other');
    expect(taken.address).not.toBe(again.address);
    expect(taken.warning).toBe(`the notify socket ${again.address} is taken by another process; the service now gets ${taken.address}`);
    expect(holdNotifySocket(stateDir, 'other')).toEqual({ address: taken.address, warning: null });
    expect(readFileSync(notifyIdPath(stateDir, 'other'), 'latin1').trim()).toBe(taken.address.slice('@proclaunch/'.length));
    squatter.close();
    releaseNotifySocket(stateDir, 'other');
    releaseNotifySocket(stateDir, 'kept');
    expect(() => statSync(notifyIdPath(stateDir, 'kept'))).toThrow(/ENOENT/);
  });
});
