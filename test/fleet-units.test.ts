// The fleet's pure parts: the hosts file and its errors, host selection, how an ssh run is
// classified, how the hosts' check counts add up, and the remote envelope. (The real thing,
// against real sshd: test/integration/fleet.test.ts.)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { parseThreshold } from '../src/cli/check.js';
import { classify, fleetExit } from '../src/fleet/classify.js';
import { verdict } from '../src/fleet/check.js';
import type { HostResult } from '../src/fleet/context.js';
import { warnVersions } from '../src/fleet/control-commands.js';
import { parseHostsFile, parseHostSpec, HostsFileError, type Host } from '../src/fleet/hosts-file.js';
import { pool } from '../src/fleet/pool.js';
import { MARK, parseOutput, proclaunchLine, shq } from '../src/fleet/remote.js';
import type { Ran } from '../src/fleet/run.js';
import { selectHosts, SelectionError } from '../src/fleet/select.js';

const dir = mkdtempSync(join(tmpdir(), 'proclaunch-fleet-units-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HOSTS = `# the workers
worker1 workers state=/var/lib/proclaunch
deploy@worker2:2222 workers eu   # a trailing comment
[2001:db8::7]:22 db profiles=/etc/proclaunch bin=/opt/proclaunch/bin/proclaunch

web1 web eu
`;

const problemsOf = (text: string): string[] => {
  try {
    parseHostsFile(text, 'hosts');
  } catch (error) {
    if (error instanceof HostsFileError) return error.problems;
    throw error;
  }
  return [];
};

describe('hosts file', () => {
  it('reads hosts, users, ports, IPv6, groups, settings and comments', () => {
    const { hosts } = parseHostsFile(HOSTS, 'hosts');
    expect(hosts.map((h) => h.label)).toEqual(['worker1', 'deploy@worker2:2222', '[2001:db8::7]:22', 'web1']);
    expect(hosts[0]).toMatchObject({ hostname: 'worker1', user: null, port: null, groups: ['workers'], state: '/var/lib/proclaunch', line: 2 });
    expect(hosts[1]).toMatchObject({ hostname: 'worker2', user: 'deploy', port: 2222, groups: ['workers', 'eu'] });
    expect(hosts[2]).toMatchObject({ hostname: '2001:db8::7', port: 22, profiles: '/etc/proclaunch', bin: '/opt/proclaunch/bin/proclaunch' });
    expect(hosts[3]).toMatchObject({ line: 6 });
  });

  it('gives every bad line with its number and the reason', () => {
    const text = ['ok1', 'bad_host!', 'h2:99999', 'h3 colour=blue', 'h4 state=', 'h5 state=/a state=/b', 'ok1 again', 'h6 -g', '[::1', 'x@'].join('\n');
    expect(problemsOf(text)).toEqual([
      'hosts:2: bad host name "bad_host!" (letters, digits, . _ -; an IPv6 address goes in [ ])',
      'hosts:3: bad port "99999" in "h2:99999" (1 to 65535)',
      'hosts:4: unknown setting "colour=" (known: state=, profiles=, bin=)',
      'hosts:5: state= needs a value',
      'hosts:6: state= given twice',
      'hosts:7: ok1 is already on line 1',
      'hosts:8: bad group name "-g" (letters, digits, . _ -)',
      'hosts:9: unclosed [ in "[::1"',
      'hosts:10: no host name in "x@"',
    ]);
  });

  it('host specs on the command line follow the same rules', () => {
    expect(parseHostSpec('root@10.0.0.1:22')).toMatchObject({ user: 'root', hostname: '10.0.0.1', port: 22 });
    expect(parseHostSpec('-oProxyCommand=x')).toMatch(/bad host name/); // never an option to ssh
  });
});

describe('selecting hosts', () => {
  const file = join(dir, 'hosts');
  writeFileSync(file, HOSTS);
  const labels = (hosts: Host[]) => hosts.map((h) => h.label);

  it('all of the file, a group, groups, -H with the file’s settings, -H unknown to the file', () => {
    expect(labels(selectHosts({ file }))).toEqual(['worker1', 'deploy@worker2:2222', '[2001:db8::7]:22', 'web1']);
    expect(labels(selectHosts({ file, groups: ['workers'] }))).toEqual(['worker1', 'deploy@worker2:2222']);
    expect(labels(selectHosts({ file, groups: ['db,web'] }))).toEqual(['[2001:db8::7]:22', 'web1']);
    const [worker2, extra] = selectHosts({ file, hosts: ['worker2,extra:2200'] });
    expect(worker2).toMatchObject({ label: 'deploy@worker2:2222', user: 'deploy' });
    expect(extra).toMatchObject({ label: 'extra:2200', port: 2200, state: null, line: null });
  });

  it('the default file is $PROCLAUNCH_HOSTS; missing is fine with -H only', () => {
    expect(labels(selectHosts({}, { PROCLAUNCH_HOSTS: file }))).toHaveLength(4);
    expect(labels(selectHosts({ hosts: ['solo'] }, { PROCLAUNCH_HOSTS: join(dir, 'none') }))).toEqual(['solo']);
    expect(() => selectHosts({}, { PROCLAUNCH_HOSTS: join(dir, 'none') })).toThrow(/cannot read the hosts file .*none: no such file/);
    expect(() => selectHosts({ file, groups: ['nope'] })).toThrow(SelectionError);
    expect(() => selectHosts({ file, groups: ['nope'] })).toThrow('no host in group "nope" in ' + file + ' (groups: db, eu, web, workers)');
  });
});

const host: Host = { label: 'h', user: null, hostname: 'h', port: null, groups: [], state: null, profiles: null, bin: null, line: 1 };
const ran = (over: Partial<Ran>): Ran => ({ code: 0, signal: null, stdout: '', stderr: '', timedOut: false, spawnError: null, ms: 5, ...over });
const envelope = (fields: object) => `${MARK}\n${JSON.stringify({ envelope: 1, version: '9.9.9', supervisor: { version: '9.9.8' }, exit: 0, stdout: '', stderr: '', ...fields })}\n`;

describe('classifying what ssh said', () => {
  it('not reached is 255; refused keys and host keys, no supervisor, not installed are failures', () => {
    expect(classify(host, ran({ code: 255, stderr: 'ssh: connect to host h port 22: Connection refused\n' }), 1000)).toMatchObject({ kind: 'unreachable', exit: 255, reason: 'ssh: connect to host h port 22: Connection refused' });
    expect(classify(host, ran({ code: null, timedOut: true }), 2000)).toMatchObject({ kind: 'unreachable', exit: 255, reason: 'no answer within 2s' });
    expect(classify(host, ran({ code: 255, stderr: 'root@h: Permission denied (publickey).\n' }), 1000)).toMatchObject({ kind: 'auth refused' });
    expect(classify(host, ran({ code: 255, stderr: 'Host key verification failed.\n' }), 1000)).toMatchObject({ kind: 'host key refused' });
    expect(classify(host, ran({ code: 3, stdout: envelope({ exit: 3, supervisor: null, stderr: 'proclaunch: no supervisor is running for /s\n' }) }), 1000)).toMatchObject({ kind: 'no supervisor', reason: 'no supervisor is running for /s' });
    expect(classify(host, ran({ code: 127, stdout: `${MARK}\n`, stderr: "env: 'proclaunch': No such file or directory\n" }), 1000)).toMatchObject({ kind: 'not installed', exit: 127 });
    // Reached, then silent past -t: the command's failure, not the network's.
    expect(classify(host, ran({ code: null, timedOut: true, stdout: `${MARK}\n` }), 1000)).toMatchObject({ kind: 'timed out', exit: 124 });
  });

  it('a command that ran is answered, with its own exit and its envelope', () => {
    const outcome = classify(host, ran({ code: 1, stdout: envelope({ exit: 1, stdout: '[]\n' }) }), 1000);
    expect(outcome).toMatchObject({ kind: 'answered', exit: 1 });
    expect(outcome.envelope?.supervisor?.version).toBe('9.9.8');
  });

  it('the fleet exits 1 if one failed, else 255 if one was not reached', () => {
    expect(fleetExit([{ ok: true, kind: 'answered' }])).toBe(0);
    expect(fleetExit([{ ok: true, kind: 'answered' }, { ok: false, kind: 'unreachable' }])).toBe(255);
    expect(fleetExit([{ ok: false, kind: 'auth refused' }, { ok: false, kind: 'unreachable' }])).toBe(1);
  });

  it('the remote line quotes every word for the remote shell', () => {
    expect(shq("it's")).toBe(`'it'\\''s'`);
    expect(proclaunchLine({ ...host, state: '/var/x y' }, 'status', ['web*'])).toBe(`echo ${MARK}; exec env PROCLAUNCH_JSON_ENVELOPE=1 proclaunch status --state '/var/x y' 'web*'`);
    expect(parseOutput('motd noise\n')).toMatchObject({ connected: false });
  });
});

describe('fleet check', () => {
  const answered = (label: string, running: number, total: number, down: string[], unmatched: string[] = []): HostResult =>
    ({ host: { ...host, label }, ok: true, kind: 'answered', exit: 0, ms: 1, version: '1', result: { status: 'OK', line: '', running, total, down, unmatched } }) as HostResult;
  const lost = (label: string): HostResult => ({ host: { ...host, label }, ok: false, kind: 'unreachable', exit: 255, ms: 1, version: null, error: 'gone' });
  const options = (critical: string | null, names: string[] = [], unreachableCritical = false) => ({
    warning: parseThreshold('0'),
    critical: critical === null ? null : parseThreshold(critical),
    unreachableCritical,
    names,
    json: false,
  });

  it("adds up every host's counts: 49% down is OK at -c 49%, more is CRITICAL (lancelot's alert)", () => {
    const half = [answered('w1', 5, 5, []), answered('w2', 0, 5, ['worker@1', 'worker@2', 'worker@3', 'worker@4', 'worker@5'])];
    const { status, line } = verdict(half, options('49%'));
    expect(status).toBe('CRITICAL');
    expect(line).toBe('PROCLAUNCH CRITICAL - 5/10 running on 2/2 hosts, down: w2:worker@1, w2:worker@2, w2:worker@3, w2:worker@4, w2:worker@5 | running=5;;;0;10 down=5;0;4.9;0;10 hosts=2;;;0;2');
    expect(verdict([answered('w1', 5, 5, []), answered('w2', 1, 5, ['a', 'b', 'c', 'd'])], options('49%')).status).toBe('WARNING');
  });

  it('a host not read is UNKNOWN (CRITICAL with --unreachable critical), below a CRITICAL', () => {
    expect(verdict([answered('w1', 5, 5, []), lost('w2')], options('49%')).line).toMatch(/^PROCLAUNCH UNKNOWN - 5\/5 running on 1\/2 hosts, not read: w2 \(unreachable\) \|/);
    expect(verdict([answered('w1', 5, 5, []), lost('w2')], options('49%', [], true)).status).toBe('CRITICAL');
  });

  it('a host without the named profiles adds nothing; none anywhere is UNKNOWN', () => {
    expect(verdict([answered('w1', 2, 2, []), answered('db', 0, 0, [], ['worker*'])], options(null, ['worker*'])).status).toBe('OK');
    expect(verdict([answered('db', 0, 0, [], ['worker*'])], options(null, ['worker*'])).line).toMatch(/UNKNOWN .*no profile matches "worker\*" on any host/);
  });
});

it('the pool keeps the hosts’ order and never runs more than asked at once', async () => {
  let running = 0;
  let most = 0;
  const results = await pool([30, 5, 20, 1, 10], 2, async (ms, i) => {
    most = Math.max(most, ++running);
    await new Promise((r) => setTimeout(r, ms));
    running--;
    return i;
  });
  expect(results).toEqual([0, 1, 2, 3, 4]);
  expect(most).toBe(2);
});

it('one warning when the hosts that answered run different versions, none when they agree', () => {
  const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const at = (label: string, version: string | null) => ({ host: { ...host, label }, ok: version !== null, kind: 'answered', exit: 0, ms: 1, version }) as HostResult;
    warnVersions([at('w1', '0.1.0'), at('w2', '0.1.0'), at('w3', null)]);
    expect(write).not.toHaveBeenCalled();
    warnVersions([at('w1', '0.1.0'), at('w2', '0.2.0'), at('w3', '0.1.0')]);
    expect(write.mock.calls).toEqual([['proclaunch fleet: the hosts run different versions: 0.1.0 (w1, w3), 0.2.0 (w2)\n']]);
  } finally {
    write.mockRestore();
  }
});
