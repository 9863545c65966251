// The orphan reaper, in a child node process that becomes a subreaper (so the
// test worker is left alone), running the built code from dist/.
import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadNative, nativeUnavailableReason } from '../src/process/native.js';
import { startReaper } from '../src/process/reaper.js';

const native = loadNative();
const skipReason = native ? '' : ` (SKIPPED: ${nativeUnavailableReason()}; build it with npm run install)`;

const ORPHANS = 300;
const NORMAL = 20;

/**
 * The subreaper: it starts a shell that double-forks ORPHANS short sleeps and
 * a subshell exiting 3 (each reparented to us at once, as a daemon is), and
 * leaves a long sleep behind (reparented to us when the shell exits); NORMAL child_process children exiting with codes 0..NORMAL-1 during
 * the storm; then kills the long sleep with SIGTERM and waits until it has no
 * children left at all. Prints what it saw as JSON.
 */
const script = (find: string) => `
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { loadNative } from ${JSON.stringify(resolve('dist/process/native.js'))};
import { startReaper, trackChild, trackedChildren } from ${JSON.stringify(resolve('dist/process/reaper.js'))};

const native = loadNative();
const reaped = [];
const reaper = startReaper({ native, ourChildren: () => trackedChildren, onReaped: (pid, status) => reaped.push({ pid, ...status }), find: ${JSON.stringify(find)} });
const subreaper = native.isChildSubreaper();
const normal = [];
const normalPids = new Set();
let killed = 0;
let makerExit = null;

const children = () => readdirSync('/proc/self/task').flatMap((t) => readFileSync('/proc/self/task/' + t + '/children', 'latin1').split(' ').filter(Boolean).map(Number));
const zombies = () => readdirSync('/proc').filter((p) => /^\\d+$/.test(p)).filter((p) => {
  try { const s = readFileSync('/proc/' + p + '/stat', 'latin1'); const f = s.slice(s.lastIndexOf(')') + 2).split(' '); return f[0] === 'Z' && Number(f[1]) === process.pid; } catch { return false; }
}).length;

const maker = spawn('sh', ['-c', 'for i in $(seq ${ORPHANS}); do (sleep 0.05 >/dev/null &); done; ( (sleep 0.1; exit 3) >/dev/null & ); sleep 30 >/dev/null & echo $!'], { stdio: ['ignore', 'pipe', 'inherit'] });
trackChild(maker);
let out = '';
maker.stdout.on('data', (d) => (out += d));
maker.on('exit', (code) => {
  makerExit = code;
  process.kill(Number(out.trim()), 'SIGTERM'); // the long sleep, now our orphan
  killed = Number(out.trim());
});
for (let i = 0; i < ${NORMAL}; i++) {
  const child = spawn('sh', ['-c', 'sleep 0.0' + (i % 10) + '; exit ' + i], { stdio: 'ignore' });
  trackChild(child);
  normalPids.add(child.pid);
  child.on('exit', (code, signal) => normal.push({ code, signal }));
}
const deadline = Date.now() + 20000; // then it reports what it has: 300 forks can be slow on a loaded machine
const timer = setInterval(() => {
  const left = children();
  const done = makerExit !== null && normal.length === ${NORMAL} && left.length === 0;
  if (!done && Date.now() < deadline) return;
  clearInterval(timer);
  reaper.stop();
  console.log(JSON.stringify({ pid: process.pid, subreaper, makerExit, normal, left: left.length, zombies: zombies(), reaped, killed, stolen: reaped.filter((r) => normalPids.has(r.pid)).length, tracked: trackedChildren.size }));
  process.exit(0); // a stolen child's handle would keep us alive
}, 10);
`;

/** `unshare --pid --fork --mount-proc` (util-linux) can make us PID 1 of a new namespace, as root. */
const canBePid1 = process.getuid?.() === 0 && spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']).status === 0;

function runSubreaper(find: string, { pid1 = false } = {}): Promise<Record<string, unknown>> {
  return new Promise((done, fail) => {
    const argv = [process.execPath, '--input-type=module', '-e', script(find)];
    if (pid1) argv.unshift('unshare', '--pid', '--fork', '--mount-proc');
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', fail);
    child.on('exit', (code) => {
      try {
        done(JSON.parse(out) as Record<string, unknown>);
      } catch {
        fail(new Error(`subreaper exited ${code}: ${out} ${err}`));
      }
    });
  });
}

describe('startReaper without the native module', () => {
  it('returns null (the caller WARNs that orphans stay zombies)', () => {
    expect(startReaper({ native: null, ourChildren: () => new Set() })).toBeNull();
  });
});

describe.skipIf(!native)(`startReaper as a subreaper${skipReason}`, () => {
  const cases: Array<[find: string, pid1: boolean]> = [
    ['task-children', false],
    ['proc-scan', false],
    ['task-children', true],
  ];
  for (const [find, pid1] of cases) {
    const as = pid1 ? `as PID 1 of a pid namespace${canBePid1 ? '' : ' (SKIPPED: needs root and unshare)'}` : 'as a subreaper';
    it.skipIf(pid1 && !canBePid1)(`reaps every orphan, and leaves child_process children and their exit events alone (${as}, ${find})`, async () => {
      const result = await runSubreaper(find, { pid1 });
      // PID 1 reaps orphans without being a subreaper.
      expect(result.pid === 1).toBe(pid1);
      expect(result.subreaper).toBe(!pid1);
      expect(result.makerExit).toBe(0);
      // Every normal child's exit event arrived, with its own code: none was stolen.
      const normal = result.normal as Array<{ code: number | null; signal: string | null }>;
      expect(normal.map((e) => e.code).sort((a, b) => a! - b!)).toEqual(Array.from({ length: NORMAL }, (_, i) => i));
      expect(normal.every((e) => e.signal === null)).toBe(true);
      expect(result.stolen).toBe(0);
      expect(result.tracked).toBe(0);
      // Nothing left: no zombie, no child.
      expect(result.left).toBe(0);
      expect(result.zombies).toBe(0);
      // Every orphan was reaped by us, with its status.
      const reaped = result.reaped as Array<{ pid: number; code: number | null; signal: string | null }>;
      expect(reaped.length).toBe(ORPHANS + 2);
      expect(reaped.filter((r) => r.code === 0).length).toBe(ORPHANS);
      expect(reaped.filter((r) => r.code === 3).length).toBe(1);
      expect(reaped.find((r) => r.pid === result.killed)).toEqual({ pid: result.killed, code: null, signal: 'SIGTERM' });
    });
  }

  it('does not make the test worker a subreaper (it runs in a child process)', () => {
    expect(native!.isChildSubreaper()).toBe(false);
  });
});
