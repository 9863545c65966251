// Services that behave badly, and a hostile environment: the supervisor
// stays in charge, leaves nothing behind and keeps answering.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sh } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';
import { FaultBox, faultsSupported, writeInPlace, type Expectation } from './support.js';

let fb: FaultBox;
beforeEach(() => {
  fb = new FaultBox();
});
afterEach(async () => {
  await fb.cleanup();
});

const procsOf = (tag: string) => fb.procsOf(tag);
const statusOf = (tag: string) => fb.statusOf(tag);
/** Wait until exactly `run` runs (one process each, that version), and say what is wrong if it never does. */
async function settled(run: Record<string, string | number>, ignore: string[] = []): Promise<void> {
  const verdict = await fb.settle(() => ({ ...expectOnly(run)(), ignore: new Set(ignore) }));
  expect(verdict.problems).toEqual([]);
}
const expectOnly = (run: Record<string, string | number>): (() => Expectation) => () => ({
  run: new Map(Object.entries(run).map(([k, v]) => [k, String(v)])),
  maybe: new Set(),
  ignore: new Set(),
});

describe.skipIf(!faultsSupported())('nasty services', () => {
  it('ignores SIGTERM: SIGKILLed stop_timeout (0.3 s) after it, its whole group with it; stop, start and restart work', async () => {
    fb.box.profile('deaf', { run: fb.service(1, { ignoreTerm: true }), stop_timeout: '0.3', restart: '' });
    // Its children ignore TERM too (inherited), and stay in its group.
    fb.box.profile('deafgroup', {
      run: sh(`trap '' TERM\nexport PLV=1\n${fb.markerPath} 100000 &\n${fb.markerPath} 100000 &\nexec ${fb.markerPath} 100000`),
      stop_timeout: '0.3',
    });
    await fb.startSupervisor();
    await waitFor('three group members', () => procsOf('deafgroup').length === 3 && procsOf('deaf').length === 1);
    const first = procsOf('deaf')[0]!.pid;

    const began = Date.now();
    const stop = await fb.box.cli('stop', 'deaf', 'deafgroup');
    expect(stop.code, stop.stdout + stop.stderr).toBe(0);
    expect(Date.now() - began).toBeGreaterThanOrEqual(300); // (no upper bound: the kill lines below say 0.3 s)
    expect(procsOf('deaf')).toEqual([]);
    expect(procsOf('deafgroup')).toEqual([]);
    await fb.box.waitLog('deaf', new RegExp(`^killed pid ${first} with SIGKILL: still running 0\\.3s after SIGTERM$`));
    await fb.box.waitLog('deaf', new RegExp(`^stopped pid ${first}$`));

    expect((await fb.box.cli('start', 'deaf')).code).toBe(0);
    const second = procsOf('deaf');
    expect(second).toHaveLength(1);
    expect((await fb.box.cli('restart', 'deaf')).code).toBe(0);
    const third = procsOf('deaf');
    expect(third).toHaveLength(1);
    expect(third[0]!.pid).not.toBe(second[0]!.pid);
    expect(fb.box.count('deaf', /^killed pid \d+ with SIGKILL/)).toBe(2);
  });

  it('forks 100 grandchildren and stays: a stop or restart leaves none of them', async () => {
    fb.box.profile('forky', { run: sh(`export PLV=1\nfor i in $(seq 100); do ${fb.markerPath} 100000 & done\nexec ${fb.markerPath} 100000`), restart: '' });
    await fb.startSupervisor();
    await waitFor('101 processes', () => procsOf('forky').length === 101);
    const before = new Set(procsOf('forky').map((p) => p.pid));
    expect((await fb.box.cli('restart', 'forky')).code).toBe(0);
    await waitFor('101 new processes', () => procsOf('forky').length === 101 && procsOf('forky').every((p) => !before.has(p.pid)), { timeoutMs: 10_000 });
    expect((await fb.box.cli('stop', 'forky')).code).toBe(0);
    await waitFor('none left', () => procsOf('forky').length === 0, { timeoutMs: 5000 });
    expect(fb.census().zombies).toEqual([]);
  });

  it('forks 100 grandchildren and exits: they go with it (restarted or not), none is left behind', async () => {
    // Runs 1.2 s (so that its exit is not a crash), then exits leaving 100 children in its group.
    fb.box.profile('spawner', { run: sh(`export PLV=1\nfor i in $(seq 100); do ${fb.markerPath} 100000 & done\nsleep 1.2\nexit 0`), restart: '' });
    fb.box.profile('once', { run: sh(`export PLV=1\nfor i in $(seq 100); do ${fb.markerPath} 100000 & done\nsleep 1.2\nexit 0`) });
    await fb.startSupervisor();
    await waitFor('100 children each', () => procsOf('spawner').length === 100 && procsOf('once').length === 100);
    const first = new Set(procsOf('spawner').map((p) => p.pid));
    const firstLeader = await fb.box.runningPid('spawner');
    await fb.box.waitLog('spawner', new RegExp(`^exited pid ${firstLeader} code 0 after [\\d.]+s; restarting now$`), 10_000);
    await fb.box.waitLog('once', /^exited pid \d+ code 0 after [\d.]+s; not restarting \(no restart file\)$/, 10_000);
    // The restarted one has its own 100; the first 100 of each must be gone.
    await waitFor(
      `first generation gone (left: spawner ${procsOf('spawner').filter((p) => first.has(p.pid)).length}, once ${procsOf('once').length})`,
      () => procsOf('spawner').every((p) => !first.has(p.pid)) && procsOf('once').length === 0,
      { timeoutMs: 5000 },
    );
    expect((await fb.box.cli('stop', 'spawner')).code).toBe(0);
    await waitFor('none left', () => procsOf('spawner').length === 0, { timeoutMs: 5000 });
  });

  it('closes stdout and stderr and keeps running: supervised as any other (status, logs, restart, noticed when killed)', async () => {
    fb.box.profile('mute', { run: sh(`exec >&- 2>&-\nexport PLV=1\nexec ${fb.markerPath} 100000`), restart: '' });
    await fb.startSupervisor();
    const pid = await fb.box.runningPid('mute');
    await settled({ mute: 1 });
    expect(existsSync(`/proc/${pid}/fd/1`)).toBe(false);
    expect(existsSync(`/proc/${pid}/fd/2`)).toBe(false);
    expect((await statusOf('mute'))).toMatchObject({ state: 'running', pid });
    expect((await fb.box.cli('logs', 'mute')).code).toBe(0);
    expect((await fb.box.cli('restart', 'mute')).code).toBe(0);
    const second = await fb.box.runningPid('mute', 2);
    await waitFor('1 s of uptime', () => Date.now() - fb.box.startedAt('mute') > 1100);
    process.kill(second, 'SIGKILL');
    const third = await fb.box.runningPid('mute', 3);
    expect(third).not.toBe(second);
    await settled({ mute: 1 });
  });

  it('floods its log (256 MiB on stdout, 64 MiB on stderr): the supervisor keeps answering (within 1 s), its RSS stays flat, the log stays within its bound', async () => {
    await fb.startSupervisor();
    // Warm up the control path, then take the baseline.
    for (let i = 0; i < 20; i++) await fb.status();
    const baseline = fb.rssKiB();
    fb.box.profile('flood', {
      run: sh(`export PLV=1\n(yes "stderr flood line" | head -c 67108864 >&2) &\nyes "stdout flood line, stdout flood line, stdout flood line" | head -c 268435456\nwait\nexec ${fb.markerPath} 100000`),
    });
    const log = join(fb.stateDir, 'logs', 'flood.log');
    let slowest = 0;
    let answers = 0;
    let peak = baseline;
    await waitFor(
      'flood written (its marker runs)',
      async () => {
        const began = Date.now();
        await fb.status();
        slowest = Math.max(slowest, Date.now() - began);
        answers++;
        peak = Math.max(peak, fb.rssKiB());
        return procsOf('flood').length === 1;
      },
      { timeoutMs: 60_000, intervalMs: 5 },
    );
    await settled({ flood: 1 });
    const files = [log, ...[1, 2, 3, 4, 5, 6].map((i) => `${log}.${i}`)].filter((f) => existsSync(f));
    const kept = files.reduce((sum, f) => sum + statSync(f).size, 0);
    console.log(`flood: ${answers} status answers during the flood, slowest ${slowest} ms; supervisor RSS ${baseline} KiB before, peak ${peak} KiB; ${files.map((f) => f.slice(-10)).join(' ')}: ${kept} bytes kept`);
    // The drain thread does the copying: a status stays a few ms. 1 s leaves room for a slow CI disk.
    expect(slowest).toBeLessThan(1000);
    expect(peak - baseline).toBeLessThan(50 * 1024);
    expect(files.length).toBeGreaterThan(1);
    expect(kept).toBeLessThanOrEqual(6 * 10 * 1024 * 1024);
    for (const file of files) expect(statSync(file).size).toBeLessThanOrEqual(10 * 1024 * 1024);
    expect(fb.box.logText()).not.toContain('flood line');
  });
});

describe.skipIf(!faultsSupported())('a hostile environment', () => {
  let mounted: string | null = null;
  afterEach(async () => {
    if (!mounted) return;
    await fb.killAll();
    if (spawnSync('umount', [mounted]).status !== 0) spawnSync('umount', ['-l', mounted]);
    mounted = null;
  });

  it('a full service log directory (64 KiB tmpfs, 4 inodes): services start and keep running, their output is dropped with one WARN, and written again once there is room', async ({ skip }) => {
    if (process.getuid?.() !== 0) skip('needs root to mount a tmpfs on STATE_DIR/logs');
    const logs = join(fb.stateDir, 'logs');
    mkdirSync(logs, { recursive: true, mode: 0o750 });
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,nr_inodes=4', 'tmpfs', logs], { encoding: 'utf8' });
    if (mount.status !== 0) skip(`cannot mount a tmpfs here (no CAP_SYS_ADMIN?): ${(mount.stderr || mount.error?.message || '').trim()}`);
    mounted = logs;
    const beat = (what: string) => `(n=0; while :; do n=$((n+1)); echo "${what} $n"; sleep 0.05; done) &`;
    // Fills the 64 KiB, then 1 MiB more that cannot be written: it must not block on it (its marker runs after).
    fb.box.profile('filler', { run: sh(`export PLV=1\nyes filling | head -c 1048576\necho "still here"\n${beat('beat')}\nexec ${fb.markerPath} 100000`) });
    fb.box.profile('quiet', { run: fb.service(1) });
    await fb.startSupervisor();
    await settled({ filler: 1, quiet: 1 });
    await waitFor('log directory full', () => statSync(join(logs, 'filler.log')).size >= 60 * 1024);
    // New services while the disk is full start as well (their FIFOs are not on it), one of them chatty.
    fb.box.profile('late', { run: fb.service(1) });
    fb.box.profile('nospace', { run: sh(`export PLV=1\n${beat('nospace')}\nexec ${fb.markerPath} 100000`) });
    await settled({ filler: 1, quiet: 1, late: 1, nospace: 1 });
    const warned = () => fb.box.lines().filter((l) => l.level === 'WARN' && /^output to ".*" cannot be written \(ENOSPC\)/.test(l.message));
    await waitFor('a WARN', () => warned().length > 0);
    // Room again: filler.log removed (the drain lets go of it, so its blocks are freed at once).
    rmSync(join(logs, 'filler.log'));
    await waitFor('output written again', () => existsSync(join(logs, 'filler.log')) && /\nbeat \d+\n/.test(readFileSync(join(logs, 'filler.log'), 'utf8')));
    expect(readFileSync(join(logs, 'filler.log'), 'utf8')).toMatch(/^\[proclaunch: \d+ bytes of output dropped: No space left on device\]\nbeat \d+\n/);
    await fb.box.waitLog('proclaunch', /^output to ".*" written again; \d+ bytes were dropped/);
    await settled({ filler: 1, quiet: 1, late: 1, nospace: 1 });
    expect(warned(), 'one WARN a minute at most, whatever the number of services').toHaveLength(1);
    expect(fb.box.lines().filter((l) => l.level === 'ERROR' || l.level === 'FATAL')).toEqual([]);
  });

  it('PROFILES_DIR replaced by a symlink to another directory: services follow the new one (after SIGHUP), and then its filesystem events', async () => {
    const other = join(fb.root, 'other');
    mkdirSync(other);
    fb.box.profile('old1', { run: fb.service(1) });
    fb.box.profile('old2', { run: fb.service(1) });
    for (const name of ['new1', 'new2']) {
      mkdirSync(join(other, name));
      fb.box.write(join(other, name, 'run'), fb.service(1));
    }
    await fb.startSupervisor({ extra: ['--rescan-interval', '3600'] });
    await settled({ old1: 1, old2: 1 });
    renameSync(fb.profilesDir, join(fb.root, 'profiles.away'));
    symlinkSync(other, fb.profilesDir);
    const byEvents = await fb.settle(expectOnly({ new1: 1, new2: 1 }), 3000);
    console.log(`PROFILES_DIR replaced by a symlink: ${byEvents.converged ? 'followed by events alone' : 'not followed without a SIGHUP'}`);
    if (!byEvents.converged) process.kill(fb.current!, 'SIGHUP');
    const verdict = await fb.settle(expectOnly({ new1: 1, new2: 1 }));
    expect(verdict.problems).toEqual([]);
    // From now on, changes in the new directory are seen as they happen (no rescan for an hour; PROFILES_DIR is other/).
    fb.box.profile('new3', { run: fb.service(1) });
    fb.box.remove(join(other, 'new1'));
    writeInPlace(join(other, 'new2', 'run'), fb.service(2)); // in place on purpose: the fault suite's editor
    const events = await fb.settle(expectOnly({ new2: 2, new3: 1 }));
    expect(events.problems, 'changes in the new PROFILES_DIR are not noticed without a rescan').toEqual([]);
  });

  it('PROFILES_DIR is a symlink switched atomically to another release: services follow the new target (after SIGHUP), and then its events', async () => {
    const releases = join(fb.root, 'releases');
    for (const [release, names] of [['v1', ['a', 'b']], ['v2', ['b', 'c']]] as const) {
      for (const name of names) {
        mkdirSync(join(releases, release, name), { recursive: true });
        fb.box.write(join(releases, release, name, 'run'), fb.service(release));
      }
    }
    rmSync(fb.profilesDir, { recursive: true });
    symlinkSync(join(releases, 'v1'), fb.profilesDir);
    await fb.startSupervisor({ extra: ['--rescan-interval', '3600'] });
    await settled({ a: 'v1', b: 'v1' });
    // ln -sfn, atomically: a new link renamed over the old one.
    symlinkSync(join(releases, 'v2'), `${fb.profilesDir}.new`);
    renameSync(`${fb.profilesDir}.new`, fb.profilesDir);
    const byEvents = await fb.settle(expectOnly({ b: 'v2', c: 'v2' }), 3000);
    console.log(`PROFILES_DIR symlink switched: ${byEvents.converged ? 'followed by events alone' : 'not followed without a SIGHUP'}`);
    if (!byEvents.converged) process.kill(fb.current!, 'SIGHUP');
    const verdict = await fb.settle(expectOnly({ b: 'v2', c: 'v2' }));
    expect(verdict.problems).toEqual([]);
    fb.box.profile('d', { run: fb.service('v2') }); // into releases/v2, through the PROFILES_DIR symlink
    const events = await fb.settle(expectOnly({ b: 'v2', c: 'v2', d: 'v2' }));
    expect(events.problems, 'a profile added to the new target is not noticed without a rescan').toEqual([]);
  });
});
