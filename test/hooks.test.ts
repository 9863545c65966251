// The hook runner with real hook processes: environment, output, failures,
// a hanging hook, and a burst of 1,000 events against the bounds.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HookRunner, listHooks, type HookRunnerOptions } from '../src/hooks/runner.js';
import type { Logger } from '../src/log/logger.js';
import type { Level } from '../src/vocabulary/levels.js';
import type { EventRecord } from '../src/supervisor/events.js';
import { alive, sh } from './support/sandbox.js';
import { waitFor } from './support/wait.js';

interface Line {
  level: Level;
  message: string;
}

let root = '';
let dir = '';
let lines: Line[] = [];
let runners: HookRunner[] = [];
const logger: Logger = { log: (level, _tag, message) => lines.push({ level, message }), reopen() {}, close() {} };

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'proclaunch-hooks-'));
  dir = join(root, 'hooks');
  mkdirSync(dir);
  lines = [];
  runners = [];
});
afterEach(() => {
  for (const runner of runners) runner.kill();
  rmSync(root, { recursive: true, force: true });
});

function hook(name: string, body: string, mode = 0o755): string {
  const path = join(dir, name);
  writeFileSync(path, sh(body));
  chmodSync(path, mode);
  return path;
}

function runner(options: Partial<HookRunnerOptions> = {}): HookRunner {
  const made = new HookRunner({ dir, outputPath: join(root, 'hooks.log'), logger, ...options });
  runners.push(made);
  return made;
}

const record = (event: EventRecord['event'], profile: string, detail: Partial<EventRecord> = {}): EventRecord => ({
  time: '2026-11-22T07:41:09.550+00:00',
  event,
  profile,
  ...detail,
});

/** Settle with a deadline: a runner that hangs fails the test instead of timing it out silently. */
async function idle(runner: HookRunner, timeoutMs = 20_000): Promise<void> {
  let done = false;
  void runner.whenIdle().then(() => (done = true));
  await waitFor(`hooks idle (${JSON.stringify(runner.stats())})`, () => done, { timeoutMs });
}

const logged = (pattern: RegExp): Line[] => lines.filter((l) => pattern.test(l.message));

describe('listHooks', () => {
  it('takes executable regular files and symlinks to them, sorted; skips hidden, directories, non-executables, dangling links', () => {
    hook('b-second', 'exit 0');
    hook('a-first', 'exit 0');
    hook('.hidden', 'exit 0');
    hook('README', 'not a hook', 0o644);
    mkdirSync(join(dir, 'subdir'));
    chmodSync(join(dir, 'subdir'), 0o755);
    symlinkSync(join(dir, 'a-first'), join(dir, 'c-link'));
    symlinkSync(join(dir, 'nowhere'), join(dir, 'd-dangling'));
    expect(listHooks(dir)).toEqual(['a-first', 'b-second', 'c-link']);
    expect(() => listHooks(join(root, 'missing'))).toThrow(/ENOENT/);
  });
});

describe('a hook run', () => {
  it('sees the PROCLAUNCH_* environment of each event kind, and what the runner adds', async () => {
    hook('dump', 'env | grep -E "^PROCLAUNCH_(EVENT|PROFILE|TAG|INSTANCE|PID|EXIT_CODE|SIGNAL|TIME|STATE|REASON)=" | sort > "$OUT/$PROCLAUNCH_EVENT.env"; printf %s "${PROCLAUNCH_REASON-unset}" > "$OUT/$PROCLAUNCH_EVENT.reason"');
    const out = join(root, 'out');
    mkdirSync(out);
    // Inherited from whoever started the supervisor: must not leak into an event that has none.
    process.env.PROCLAUNCH_INSTANCE = '9';
    process.env.PROCLAUNCH_REASON = 'stale';
    try {
      const hooks = runner({ env: { PROCLAUNCH_STATE: '/var/run/proclaunch', OUT: out } });
      hooks.handle(record('started', 'web@2', { pid: 4242 }));
      hooks.handle(record('crashed', 'web@2', { pid: 4242, code: 3, signal: null }));
      hooks.handle(record('stopped', 'db', { pid: 77, code: null, signal: 'SIGTERM' }));
      hooks.handle(record('failed', 'db', { reason: 'crashed 10 times in a row;\n"quoted" $HOME `x`' }));
      hooks.handle(record('added', 'cache'));
      hooks.handle(record('removed', 'cache'));
      hooks.handle(record('changed', 'cache'));
      await idle(hooks);
    } finally {
      delete process.env.PROCLAUNCH_INSTANCE;
      delete process.env.PROCLAUNCH_REASON;
    }
    const env = (event: string) => readFileSync(join(out, `${event}.env`), 'utf8').trim().split('\n');
    const time = 'PROCLAUNCH_TIME=2026-11-22T07:41:09.550Z';
    expect(env('started')).toEqual([
      'PROCLAUNCH_EVENT=started',
      'PROCLAUNCH_EXIT_CODE=',
      'PROCLAUNCH_INSTANCE=2',
      'PROCLAUNCH_PID=4242',
      'PROCLAUNCH_PROFILE=web',
      'PROCLAUNCH_SIGNAL=',
      'PROCLAUNCH_STATE=/var/run/proclaunch',
      'PROCLAUNCH_TAG=web@2',
      time,
    ]);
    expect(env('crashed')).toContain('PROCLAUNCH_EXIT_CODE=3');
    expect(env('crashed')).toContain('PROCLAUNCH_SIGNAL=');
    expect(env('stopped')).toEqual(expect.arrayContaining(['PROCLAUNCH_PROFILE=db', 'PROCLAUNCH_TAG=db', 'PROCLAUNCH_PID=77', 'PROCLAUNCH_SIGNAL=TERM', 'PROCLAUNCH_EXIT_CODE=']));
    expect(env('stopped').some((l) => l.startsWith('PROCLAUNCH_INSTANCE='))).toBe(false);
    expect(readFileSync(join(out, 'failed.reason'), 'utf8')).toBe('crashed 10 times in a row;\n"quoted" $HOME `x`');
    expect(readFileSync(join(out, 'stopped.reason'), 'utf8')).toBe('unset');
    for (const event of ['added', 'removed', 'changed']) {
      expect(env(event)).toEqual(expect.arrayContaining([`PROCLAUNCH_EVENT=${event}`, 'PROCLAUNCH_PROFILE=cache', 'PROCLAUNCH_PID=', time]));
    }
    expect(logged(/./).filter((l) => l.level !== 'INFO' && l.level !== 'DEBUG')).toEqual([]);
  });

  it('appends stdout and stderr to the output file, never to the supervisor log; runs in DIR', async () => {
    hook('chatty', 'echo "out from $(pwd)"; echo err >&2; head -c 200000 /dev/zero | tr "\\0" x');
    const hooks = runner();
    hooks.handle(record('started', 'web', { pid: 1 }));
    hooks.handle(record('stopped', 'web', { pid: 1 }));
    await idle(hooks);
    const output = readFileSync(join(root, 'hooks.log'), 'utf8');
    expect(output.match(new RegExp(`out from ${dir}\n`, 'g'))).toHaveLength(2);
    expect(output.match(/err\n/g)).toHaveLength(2);
    expect(output.length).toBeGreaterThan(400_000);
    expect(lines.map((l) => l.message).join('\n')).not.toContain('xxxx');
    expect(lines.every((l) => l.message.length < 500)).toBe(true);
  });

  it('a non-zero exit, a signal: one WARN line per run; a hook that cannot be executed: one WARN line in all; the others still run', async () => {
    hook('a-fails', 'exit 7');
    hook('b-signal', 'kill -USR1 $$');
    writeFileSync(join(dir, 'c-bad-interpreter'), '#!/nonexistent/interpreter\n');
    chmodSync(join(dir, 'c-bad-interpreter'), 0o755);
    hook('d-fine', 'echo fine');
    const hooks = runner();
    hooks.handle(record('crashed', 'web', { pid: 12, code: 1 }));
    hooks.handle(record('started', 'web', { pid: 13 }));
    await idle(hooks);
    await waitFor('2 runs of c-bad-interpreter said', () => logged(/^hook "c-bad-interpreter"/).length === 2);
    expect(logged(/^hook "a-fails" pid \d+ exited code 7 on (crashed|started) of web after \d+ms$/).map((l) => l.level)).toEqual(['WARN', 'WARN']);
    expect(logged(/^hook "b-signal" pid \d+ exited signal SIGUSR1 on crashed of web after \d+ms$/).map((l) => l.level)).toEqual(['WARN']);
    expect(logged(/^hook "c-bad-interpreter" cannot be run on crashed of web: .*ENOENT.* \(said once until it runs again\)$/).map((l) => l.level)).toEqual(['WARN']);
    expect(logged(/^hook "c-bad-interpreter" cannot be run on started of web: .*ENOENT/).map((l) => l.level)).toEqual(['DEBUG']);
    expect(lines.filter((l) => l.level === 'WARN')).toHaveLength(5);
    expect(readFileSync(join(root, 'hooks.log'), 'utf8')).toBe('fine\nfine\n');
  });

  it('a hook that cannot be executed is tried once per turn of the event loop, not once per queued run in one go', async () => {
    writeFileSync(join(dir, 'broken'), '#!/nonexistent/interpreter\n');
    chmodSync(join(dir, 'broken'), 0o755);
    const hooks = runner();
    for (let i = 0; i < 200; i++) hooks.handle(record('started', `web${i}`, { pid: 100 + i }));
    // Synchronously after the burst: one attempt so far, 199 runs waiting for its 'error'.
    expect(hooks.stats()).toMatchObject({ started: 1, pending: 199 });
    await idle(hooks);
    expect(hooks.stats()).toMatchObject({ started: 200, pending: 0 });
    expect(logged(/^hook "broken" cannot be run/).map((l) => l.level).filter((l) => l === 'WARN')).toHaveLength(1);
  });

  it('reads DIR again (at most every relistMs) when events come: a new hook is picked up; a vanished DIR is one ERROR', async () => {
    hook('first', 'echo "first $PROCLAUNCH_PID"');
    const hooks = runner({ relistMs: 0 });
    expect(logged(/^hooks from ".*": "first"; timeout 10\.0s, 4 at once, up to 1000 runs queued; output to /)).toHaveLength(1);
    hooks.handle(record('started', 'web', { pid: 1 }));
    hook('second', 'echo "second $PROCLAUNCH_PID"');
    hooks.handle(record('started', 'web', { pid: 2 }));
    await idle(hooks);
    expect(logged(/^hooks from ".*" are now: "first", "second"$/)).toHaveLength(1);
    renameSync(dir, `${dir}.away`);
    hooks.handle(record('started', 'web', { pid: 3 }));
    hooks.handle(record('started', 'web', { pid: 4 }));
    expect(logged(/^hooks: cannot read ".*": .*ENOENT.*; no hook runs until it can be read$/).map((l) => l.level)).toEqual(['ERROR']);
    renameSync(`${dir}.away`, dir);
    hooks.handle(record('started', 'web', { pid: 5 }));
    await idle(hooks);
    const output = readFileSync(join(root, 'hooks.log'), 'utf8').split('\n').filter(Boolean).sort();
    expect(output).toEqual(['first 1', 'first 2', 'first 5', 'second 2', 'second 5']);
  });
});

describe('a hanging hook', () => {
  it('is killed with its whole process group after the timeout, with one WARN line; other hooks and later events go on meanwhile', async () => {
    const children = join(root, 'children');
    // Hangs on the first event only, with a background child in its group.
    hook('hang', `if [ "$PROCLAUNCH_PID" = 1 ]; then sleep 1000 & echo $! > ${children}; exec sleep 1000; fi; echo "hang $PROCLAUNCH_PID"`);
    hook('quick', 'echo "quick $PROCLAUNCH_PID"');
    const hooks = runner({ timeoutMs: 1500 });
    for (let pid = 1; pid <= 3; pid++) hooks.handle(record('crashed', 'web', { pid }));
    const output = () => (existsSync(join(root, 'hooks.log')) ? readFileSync(join(root, 'hooks.log'), 'utf8') : '');
    await waitFor('quick ran 3 times', () => output().includes('quick 3'));
    const background = Number(await waitFor('background child', () => existsSync(children) && readFileSync(children, 'utf8').trim()));
    // Checked at one instant (the runner's timer runs on this thread): before the timeout, the child is there.
    const [timedOut, there] = [logged(/timed out/).length > 0, alive(background)];
    expect(timedOut || there).toBe(true);
    await idle(hooks);
    expect(logged(/^hook "hang" pid \d+ timed out after 1\.5s on crashed of web; killing its process group$/).map((l) => l.level)).toEqual(['WARN']);
    await waitFor('background child killed', () => !alive(background));
    // Its later events ran, in order, after the kill; the quick hook was done with all three before that,
    // while the hanging one still held its first (however slow the machine: hang 2 comes only after the kill).
    expect(output().match(/^hang \d$/gm)).toEqual(['hang 2', 'hang 3']);
    expect(output().indexOf('quick 3')).toBeLessThan(output().indexOf('hang 2'));
    expect(logged(/exited/)).toEqual([]);
  });

  it('close() waits at most its grace, then kills what runs and drops what waits, in one line', async () => {
    hook('hang', `echo $$ >> ${join(root, 'pids')}; exec sleep 1000`);
    const hooks = runner();
    for (let pid = 1; pid <= 3; pid++) hooks.handle(record('stopped', 'web', { pid }));
    const pid = Number(await waitFor('hook started', () => existsSync(join(root, 'pids')) && readFileSync(join(root, 'pids'), 'utf8').trim()));
    let closed = false;
    void hooks.close(300).then(() => (closed = true));
    await waitFor('closed', () => closed);
    await idle(hooks); // its exit is seen
    expect(alive(pid)).toBe(false);
    expect(logged(/^hooks: exiting: killed 1 running hook "hang" pid \d+; dropped 2 queued runs$/).map((l) => l.level)).toEqual(['WARN']);
    hooks.handle(record('started', 'web', { pid: 4 }));
    expect(hooks.stats()).toMatchObject({ running: 0, pending: 0, started: 1, dropped: 2 });
    expect(readFileSync(join(root, 'pids'), 'utf8').trim().split('\n')).toHaveLength(1);
  });
});

describe('1,000 events in a burst', () => {
  it('never runs more than the concurrency bound, never queues more than the queue bound, drops the oldest runs and says so in one line', async () => {
    const trace = join(root, 'trace');
    // Each run writes S at its start and E at its end (O_APPEND, one short write each): replayed
    // in file order, S minus E is a lower bound of how many ran at that moment.
    for (const name of ['h1', 'h2', 'h3', 'h4', 'h5']) hook(name, `echo "S $(basename "$0") $PROCLAUNCH_PID" >> ${trace}; sleep 0.05; echo "E $(basename "$0") $PROCLAUNCH_PID" >> ${trace}`);
    const hooks = runner({ concurrency: 4, queueLimit: 200 });
    let maxPending = 0;
    for (let i = 0; i < 1000; i++) {
      hooks.handle(record(i % 2 ? 'crashed' : 'started', `svc${i % 7}`, { pid: i }));
      maxPending = Math.max(maxPending, hooks.stats().pending);
    }
    expect(maxPending).toBe(200);
    expect(hooks.stats()).toMatchObject({ running: 4, pending: 200, dropped: 5000 - 204 });
    await idle(hooks, 60_000);
    await waitFor('the summary line', () => logged(/^hooks: queue full/).length > 0);
    expect(logged(/^hooks: queue full/)).toEqual([{ level: 'WARN', message: 'hooks: queue full (200 runs waiting); dropped 4796 runs (4796 since start)' }]);
    expect(hooks.stats()).toEqual({ running: 0, pending: 0, started: 204, dropped: 4796 });

    const events = readFileSync(trace, 'utf8').trim().split('\n').map((line) => line.split(' ') as [string, string, string]);
    let running = 0;
    let most = 0;
    const busy = new Set<string>();
    const lastOf = new Map<string, number>();
    for (const [what, name, pid] of events) {
      if (what === 'S') {
        expect(busy.has(name)).toBe(false); // one run of a hook at a time
        busy.add(name);
        // Each hook sees its events in order.
        expect(Number(pid)).toBeGreaterThan(lastOf.get(name) ?? -1);
        lastOf.set(name, Number(pid));
        most = Math.max(most, ++running);
      } else {
        busy.delete(name);
        running--;
      }
    }
    expect(most).toBeLessThanOrEqual(4);
    expect(most).toBeGreaterThanOrEqual(2);
    expect(events.filter(([what]) => what === 'S')).toHaveLength(204);
    // The oldest runs were dropped: the first event's 4 started at once, then only the last 40 events' 200 runs.
    const ran = new Set(events.map(([, , pid]) => Number(pid)));
    expect([...ran].sort((a, b) => a - b)).toEqual([0, ...Array.from({ length: 40 }, (_, i) => 960 + i)]);
    expect(lines.filter((l) => l.level === 'WARN')).toHaveLength(1);
  });
});
