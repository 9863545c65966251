// `proclaunch fleet` against real sshd: each test host is a network namespace (or a loopback
// address) with its own sshd, HOME, PATH and supervisor (test/support/ssh-lab.mjs). Hosts
// that fail each in their own way: sshd not running, our key refused, no supervisor,
// proclaunch not on PATH, sshd stopped (SIGSTOP: it hangs). The sshds are shared by the file.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceStatus } from '../../src/control/protocol.js';
import { CLI, labUnavailable, SshLab } from '../support/ssh-lab.mjs';
import { waitFor } from '../support/wait.js';

const why = labUnavailable();
if (why) console.warn(`fleet tests skipped: ${why}`);

const UP = ['a', 'b', 'c'];
let lab: SshLab;

interface Row {
  host: string;
  ok: boolean;
  exit: number;
  ms: number;
  version: string | null;
  kind?: string;
  error?: string;
  result?: unknown;
}

const rowsOf = (stdout: string): Row[] => JSON.parse(stdout) as Row[];
const byHost = (rows: Row[]) => Object.fromEntries(rows.map((r) => [r.host, r]));

/** A control command on one test host, by its own CLI (not through the fleet). */
const local = (host: string, ...args: string[]) => execFileSync(process.execPath, [CLI, ...args, '--state', lab.host(host).stateDir], { encoding: 'utf8' });
const statusOf = (host: string): ServiceStatus[] => JSON.parse(local(host, 'status', '--json')) as ServiceStatus[];
const logOf = (host: string): string => readFileSync(lab.host(host).logPath, 'utf8');
const count = (text: string, pattern: RegExp) => text.split('\n').filter((line) => pattern.test(line)).length;

function sourceProfile(name: string, files: Record<string, string>): string {
  const dir = join(lab.root, 'src', `${name}-${Math.random().toString(36).slice(2)}`, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) {
    writeFileSync(join(dir, file), content);
    if (file === 'run') chmodSync(join(dir, file), 0o755);
  }
  return dir;
}

describe.skipIf(why !== null)('proclaunch fleet over ssh', () => {
  beforeAll(async () => {
    lab = await SshLab.create([
      { name: 'a', groups: ['up', 'workers'] },
      { name: 'b', groups: ['up', 'workers'] },
      // No rsync (tar over ssh), no python3 or perl (two mv), no node: a bare host.
      { name: 'c', groups: ['up'], path: 'bare' },
      { name: 'nokey', key: 'refused' },
      { name: 'nosup', supervisor: false },
      { name: 'nobin', bin: false },
      { name: 'down', sshd: 'never' },
      { name: 'hung', sshd: 'stopped' },
    ]);
    for (const host of ['a', 'b']) lab.profile(host, 'worker', { run: '#!/bin/sh\nexec sleep 1000\n', instances: '2\n' });
    await waitFor('workers running', () => ['a', 'b'].every((h) => statusOf(h).filter((s) => s.state === 'running').length === 2));
  }, 60_000);

  afterAll(async () => {
    await lab?.close();
  }, 60_000);

  it('status of three hosts: one table with a HOST and a VERSION column, a row per service', async () => {
    const text = await lab.fleet(['-g', 'up', 'status']);
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^HOST +VERSION +NAME +STATE +PID/);
    expect(lines.filter((l) => /^a +\d+\.\d+\.\d+ +worker@[12] +running +\d+/.test(l))).toHaveLength(2);
    expect(lines.filter((l) => /^b +\S+ +worker@[12] +running/.test(l))).toHaveLength(2);
    expect(lines.some((l) => /^c +\S+ +- .*no profiles$/.test(l))).toBe(true);

    const json = await lab.fleet(['-g', 'up', '--json', 'status']);
    const rows = rowsOf(json.stdout);
    expect(rows.map((r) => r.host)).toEqual(UP);
    expect(rows.every((r) => r.ok && r.exit === 0 && typeof r.ms === 'number' && r.version === rows[0]!.version)).toBe(true);
    expect((byHost(rows).a!.result as ServiceStatus[]).map((s) => s.name)).toEqual(['worker@1', 'worker@2']);
  });

  it('each way a host fails is one row with its reason, never a stack trace', async () => {
    const all = await lab.fleet(['-H', 'a,b,c,nokey,nosup,nobin,down', '--json', 'status']);
    expect(all.code).toBe(1); // failed somewhere (auth, no supervisor, not installed) beats unreachable
    const rows = byHost(rowsOf(all.stdout));
    expect(Object.keys(rows)).toEqual(['a', 'b', 'c', 'nokey', 'nosup', 'nobin', 'down']);
    expect(rows.a!.ok && rows.b!.ok && rows.c!.ok).toBe(true);
    expect(rows.nokey).toMatchObject({ ok: false, kind: 'auth refused', error: expect.stringMatching(/Permission denied \(publickey\)/) });
    expect(rows.nosup).toMatchObject({ ok: false, kind: 'no supervisor', error: expect.stringMatching(/^no supervisor is running for .*nosup\/state/) });
    expect(rows.nobin).toMatchObject({ ok: false, kind: 'not installed', exit: 127, error: expect.stringMatching(/proclaunch is not installed there/) });
    expect(rows.down).toMatchObject({ ok: false, kind: 'unreachable', exit: 255, error: expect.stringMatching(/Connection refused/) });
    const table = await lab.fleet(['-H', 'a,nokey,nosup', 'status']);
    expect(table.stdout).toMatch(/^nokey +- +- +auth refused .*Permission denied/m);
    expect(table.stdout).toMatch(/^nosup +\S+ +- +no supervisor .*no supervisor is running/m);
    expect(table.stdout + table.stderr).not.toMatch(/\n\s+at /);
    // Only not reached (and the rest fine): ssh's own 255.
    expect((await lab.fleet(['-H', 'a,down', 'status'])).code).toBe(255);
  });

  it('a host that hangs (sshd stopped) is one row after -t; the others do not wait for it', async () => {
    const run = await lab.fleet(['-t', '5', '-H', 'hung,a', '--json', 'status']);
    expect(run.code).toBe(255);
    const rows = byHost(rowsOf(run.stdout));
    expect(rows.a).toMatchObject({ ok: true });
    expect(rows.hung).toMatchObject({ ok: false, kind: 'unreachable', exit: 255 });
    expect(rows.hung!.error).toMatch(/no answer within 5s|timed out/); // ours, or ssh's ConnectTimeout (the same 5 s)
    expect(rows.hung!.ms).toBeGreaterThanOrEqual(4900);
    expect(rows.hung!.ms).toBeLessThan(5000 + 3000);
    expect(rows.a!.ms).toBeLessThan(rows.hung!.ms);
  });

  it('actions are a row per host per service; fleet check adds the hosts up', async () => {
    const restart = await lab.fleet(['-g', 'workers', 'restart', 'worker']);
    expect(restart.code).toBe(0);
    expect(restart.stdout).toMatch(/^HOST +NAME +RESULT +MESSAGE$/m);
    expect(restart.stdout.match(/^[ab] +worker@[12] +ok +running pid \d+$/gm)).toHaveLength(4);

    expect((await lab.fleet(['-g', 'workers', 'check', '-c', '49%', 'worker*'])).stdout).toMatch(/^PROCLAUNCH OK - 4\/4 running on 2\/2 hosts \| running=4;;;0;4 down=0;0;1.96;0;4 hosts=2;;;0;2\n$/);
    // Killed, and no restart file: down (a `stop` would not count: a choice, not an outage).
    local('a', 'signal', 'KILL', 'worker');
    await waitFor('workers of a killed', () => statusOf('a').every((s) => s.state === 'stopped'));
    const critical = await lab.fleet(['-g', 'workers', 'check', '-c', '49%', 'worker*']);
    expect(critical.code).toBe(2);
    expect(critical.stdout).toMatch(/^PROCLAUNCH CRITICAL - 2\/4 running on 2\/2 hosts, down: a:worker@1, a:worker@2 \| running=2;;;0;4 down=2;0;1.96;0;4 hosts=2;;;0;2\n$/);
    local('a', 'start', 'worker');
    const unknown = await lab.fleet(['-t', '2', '-H', 'a,b,down', 'check', '-c', '49%', 'worker*']);
    expect(unknown.code).toBe(3);
    expect(unknown.stdout).toMatch(/^PROCLAUNCH UNKNOWN - 4\/4 running on 2\/3 hosts, not read: down \(unreachable\)/);
    expect((await lab.fleet(['-t', '2', '-H', 'a,down', 'check', '--unreachable', 'critical'])).code).toBe(2);
    expect((await lab.fleet(['check', '-w', 'lots'])).stdout).toBe('PROCLAUNCH UNKNOWN - usage: -w and -c take N or N% (services down)\n');
  });

  it('deploy: the profile appears whole on each host (rsync or tar), a replacement restarts it once', async () => {
    const v1 = sourceProfile('web', { run: '#!/bin/sh\necho v1\nexec sleep 1000\n' });
    const first = await lab.fleet(['-g', 'up', '--json', 'deploy', v1]);
    expect(first.code).toBe(0);
    const rows = byHost(rowsOf(first.stdout));
    expect(rows.a!.result).toMatchObject({ placed: 'added', copy: 'rsync', services: [{ name: 'web', ok: true }] });
    expect(rows.c!.result).toMatchObject({ placed: 'added', copy: 'tar' }); // no rsync there
    for (const host of UP) expect(statusOf(host).find((s) => s.name === 'web')?.state).toBe('running');

    const v2 = join(v1, '..', '..', 'v2', 'web');
    mkdirSync(v2, { recursive: true });
    writeFileSync(join(v2, 'run'), '#!/bin/sh\necho v2\nexec sleep 1000\n', { mode: 0o755 });
    const second = await lab.fleet(['-g', 'up', 'deploy', v2]);
    expect(second.code).toBe(0);
    // (`already running` when the supervisor's own restart was done before the fleet asked.)
    expect(second.stdout.match(/^[abc] +web +ok +replaced; (already )?running pid \d+$/gm)).toHaveLength(3);
    for (const host of UP) {
      const log = logOf(host);
      expect(count(log, / INFO web started pid /)).toBe(2); // once for v1, once for v2: restarted once
      expect(readdirSync(lab.host(host).profilesDir).filter((n) => n.startsWith('.'))).toEqual([]); // nothing left beside
    }
    const logs = await lab.fleet(['-g', 'up', 'logs', 'web', '-n', '1']);
    expect(logs.stdout).toBe('a | web | v2\nb | web | v2\nc | web | v2\n');
    // Exchanged in one step where the host can: the supervisor saw one change.
    expect(count(logOf('a'), /profile changed: web/)).toBe(1);
    expect(count(logOf('a'), /profile removed: web/)).toBe(0);
    // Its directory is watched as before: an edit there is still noticed.
    writeFileSync(join(lab.host('a').profilesDir, 'web', 'restart'), '');
    writeFileSync(join(lab.host('a').profilesDir, '.run-v3'), '#!/bin/sh\necho v3\nexec sleep 1000\n', { mode: 0o755 });
    execFileSync('mv', [join(lab.host('a').profilesDir, '.run-v3'), join(lab.host('a').profilesDir, 'web', 'run')]);
    await waitFor(() => `v3 started on a\n${logOf('a')}`, () => count(logOf('a'), / INFO web started pid /) === 3);
  });

  it('deploy killed (kill -9) in the middle of the copy: no host starts a half profile; running it again finishes it', async () => {
    const source = sourceProfile('big', { run: '#!/bin/sh\nexec sleep 1000\n', data: 'x'.repeat(400_000) });
    // A link that stalls after 30 kB of the copy (rsync's and tar's alike), and says so. (dd, not
    // head: head's stdio buffer would hold back rsync's small messages and stall it at once.)
    const stalled = join(lab.root, 'stalled');
    mkdirSync(stalled);
    const stall = join(lab.root, 'stall-ssh');
    writeFileSync(stall, `#!/bin/sh\ncase "$*" in *fleet-new*) { dd bs=1 count=30000 2>/dev/null; touch "${stalled}/$$"; cat >/dev/null; sleep 600; } | ssh "$@" ;; *) exec ssh "$@" ;; esac\n`, { mode: 0o755 });
    let pid = 0;
    const killed = lab.fleet(['-g', 'up', 'deploy', source], { env: { PROCLAUNCH_SSH: stall }, detached: true, onSpawn: (child: { pid: number }) => (pid = child.pid) });
    await waitFor(() => `three copies stalled mid-way (${readdirSync(stalled).length})`, () => readdirSync(stalled).length === 3, { timeoutMs: 20_000 });
    process.kill(-pid, 'SIGKILL'); // the fleet client and everything it started here
    expect((await killed).signal).toBe('SIGKILL');
    for (const host of UP) {
      const { profilesDir } = lab.host(host);
      expect(existsSync(join(profilesDir, 'big'))).toBe(false);
      // At most the hidden copy (never read); not even that when the far end had not yet read the first bytes.
      expect(readdirSync(profilesDir).filter((n) => n.startsWith('.') && n !== '.big.fleet-new')).toEqual([]);
    }
    const again = await lab.fleet(['-g', 'up', 'deploy', source]);
    expect(again.code).toBe(0);
    for (const host of UP) {
      expect(readFileSync(join(lab.host(host).profilesDir, 'big', 'data'), 'utf8')).toHaveLength(400_000);
      expect(count(logOf(host), /profile added: big/)).toBe(1);
      expect(count(logOf(host), / INFO big started pid /)).toBe(1);
    }
  });

  it('deploy --rolling 1 stops at the first host where the profile fails, with the table so far', async () => {
    writeFileSync(join(lab.host('b').dir, 'fail-here'), '');
    const source = sourceProfile('picky', { run: '#!/bin/sh\n[ -e ../../fail-here ] && exit 1\nexec sleep 1000\n' });
    const rolled = await lab.fleet(['-g', 'up', 'deploy', '--rolling', '1', source]);
    expect(rolled.code).toBe(1);
    expect(rolled.stdout).toMatch(/^a +picky +ok +added; (already )?running pid \d+$/m); // (already: up 1 s before the fleet asked, on a loaded machine)
    expect(rolled.stdout).toMatch(/^b +picky +FAILED +added; died within 1s of starting: exited pid \d+ code 1/m);
    expect(rolled.stdout).not.toMatch(/^c /m);
    expect(rolled.stderr).toBe('proclaunch fleet: the rolling deploy stopped at b; not deployed to: c\n');
    expect(existsSync(join(lab.host('c').profilesDir, 'picky'))).toBe(false);

    const gone = await lab.fleet(['-g', 'up', 'undeploy', 'picky']);
    expect(gone.code).toBe(0);
    expect(gone.stdout).toMatch(/^a +picky +ok +removed; stopped pid \d+$/m);
    expect(gone.stdout).toMatch(/^c +- +ok +not there$/m);
    expect(existsSync(join(lab.host('a').profilesDir, 'picky'))).toBe(false);
  });

  it('install: the packed package installed offline into --prefix, a supervisor started, the cron line; again: nothing changes', async () => {
    const a = lab.host('a');
    // This machine's crontab is never touched: host a's PATH has a crontab of its own.
    const crontab = join(a.dir, 'crontab.txt');
    writeFileSync(join(a.dir, 'shims', 'crontab'), `#!/bin/sh\nif [ "$1" = -l ]; then cat "${crontab}" 2>/dev/null || { echo "no crontab for $(id -un)" >&2; exit 1; }; exit 0; fi\n[ "$1" = - ] && exec cat > "${crontab}"\nexit 2\n`, { mode: 0o755 });
    if (existsSync('/run/systemd/system')) return console.warn('install --enable not tested: systemd runs here, and its units are not ours to touch');
    const prefix = join(a.dir, 'prefix');
    const args = ['-H', 'a,c', '-t', '150', 'install', '--prefix', prefix, '--start', join(a.dir, 's2'), join(a.dir, 'p2'), '--enable'];
    const first = await lab.fleet(args);
    expect(first.code).toBe(1); // c has no Node
    expect(first.stdout).toMatch(new RegExp(`^a +- +ok +installed \\S+ in ${prefix}; supervisor \\S+ answers on ${a.dir}/s2 \\(0 services\\); enabled: cron line$`, 'm'));
    expect(first.stdout).toMatch(/^c +- +FAILED +Node\.js is not installed there/m);
    expect(readFileSync(crontab, 'utf8')).toBe(`* * * * * ${prefix}/bin/proclaunch ${a.dir}/s2 ${a.dir}/p2 >/dev/null # proclaunch fleet install: ${a.dir}/s2\n`);
    expect(existsSync(join(prefix, 'lib', 'node_modules', 'proclaunch', 'node_modules', 'xstate'))).toBe(true);
    try {
      const again = await lab.fleet(args.map((w) => (w === 'a,c' ? 'a' : w)));
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/^a +- +ok +\S+ already installed in .*; supervisor \S+ answers on .*; cron line already there$/m);
      expect(readFileSync(crontab, 'utf8').split('\n')).toHaveLength(2);
    } finally {
      execFileSync(join(prefix, 'bin', 'proclaunch'), ['quit', '--state', join(a.dir, 's2')]);
    }
  }, 180_000);
});
