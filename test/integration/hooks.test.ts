// `supervise --hooks DIR` with a real supervisor: what hooks see for each kind
// of event, a hanging hook that does not hold supervision up, shutdown, and
// the shipped crash-mail example end to end.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alive, CLI, Sandbox, sh } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

let box: Sandbox;
let hooksDir = '';
beforeEach(() => {
  box = new Sandbox();
  hooksDir = join(box.root, 'hooks');
  mkdirSync(hooksDir);
});
afterEach(async () => {
  await box.cleanup();
});

const forever = sh('exec sleep 1000');

describe('supervise --hooks DIR', () => {
  it('runs each hook on every event with PROCLAUNCH_* set: added, started, crashed, changed, stopped, exited, removed, instances', async () => {
    const seen = join(box.root, 'seen');
    box.write(
      join(hooksDir, 'record'),
      { content: sh(`echo "$PROCLAUNCH_EVENT|$PROCLAUNCH_PROFILE|$PROCLAUNCH_TAG|\${PROCLAUNCH_INSTANCE-none}|$PROCLAUNCH_PID|$PROCLAUNCH_EXIT_CODE|$PROCLAUNCH_SIGNAL|$PROCLAUNCH_STATE|$PROCLAUNCH_TIME" >> ${seen}`), mode: 0o755 },
    );
    const events = () => readFileSync(seen, 'utf8').trim().split('\n').map((line) => line.split('|'));
    const has = (...fields: string[]) => () => events().some((e) => fields.every((f, i) => f === '*' || e[i] === f));
    const dir = box.profile('web', { run: forever, restart: '' });
    box.start(['--hooks', hooksDir]);
    const first = await box.runningPid('web');
    await waitFor('added, started', has('started', 'web', 'web', 'none', String(first), '', '', box.stateDir));
    expect(events()[0]!.slice(0, 8)).toEqual(['added', 'web', 'web', 'none', '', '', '', box.stateDir]);

    process.kill(first, 'SIGKILL');
    const second = await box.runningPid('web', 2);
    await waitFor('crashed', has('crashed', 'web', 'web', 'none', String(first), '', 'KILL'));
    await waitFor('started again', has('started', 'web', 'web', 'none', String(second)));

    box.replace(join(dir, 'run'), sh('echo v2; exec sleep 1000')); // an empty run read in between would be one more change
    const third = await box.runningPid('web', 3);
    await waitFor('changed, stopped, started', has('started', 'web', 'web', 'none', String(third)));
    expect(events().slice(-3).map((e) => e.slice(0, 7))).toEqual([
      ['changed', 'web', 'web', 'none', '', '', ''],
      ['stopped', 'web', 'web', 'none', String(second), '', 'TERM'],
      ['started', 'web', 'web', 'none', String(third), '', ''],
    ]);

    box.profile('pool', { run: forever, instances: '2' });
    const pooled = await box.runningPid('pool@2');
    await waitFor('pool@2 started', has('started', 'pool', 'pool@2', '2', String(pooled)));
    expect(events().some((e) => e[0] === 'added' && e[2] === 'pool@1' && e[3] === '1')).toBe(true);

    box.profile('once', { run: sh('exit 0') });
    await waitFor('exited', has('exited', 'once', 'once', 'none', '*', '0', ''));

    box.remove(dir); // gone at once, not seen half-deleted (invalid)
    await waitFor('removed, stopped', has('stopped', 'web', 'web', 'none', String(third), '', 'TERM'));
    expect(events().some((e) => e[0] === 'removed' && e[1] === 'web')).toBe(true);
    for (const e of events()) expect(e[8]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(box.count('proclaunch', /^hook /)).toBe(0);
  });

  it('a hanging hook is killed with its group after --hook-timeout; services are supervised promptly meanwhile; shutdown kills the next one', async () => {
    const pids = join(box.root, 'hook-pids');
    box.write(join(hooksDir, 'hang'), { content: sh(`sleep 1000 & echo "$$ $!" >> ${pids}; exec sleep 1000`), mode: 0o755 });
    const hookPids = () => readFileSync(pids, 'utf8').trim().split(/\s+/).map(Number);
    box.profile('steady', { run: forever });
    box.start(['--hooks', hooksDir, '--hook-timeout', '4']);
    await box.runningPid('steady');
    const [leader, child] = await waitFor('the first hook run', () => hookPids().length === 2 && hookPids());
    // While it hangs: a profile dropped in runs, a killed service comes back.
    box.profile('web', { run: forever, restart: '' });
    const web = await box.runningPid('web');
    process.kill(web, 'SIGKILL');
    await box.runningPid('web', 2);

    await box.waitLog('proclaunch', new RegExp(`^hook "hang" pid ${leader} timed out after 4\\.0s on added of steady; killing its process group$`), 15_000);
    // Supervised meanwhile: all that happened before the hang was killed, however long it took on this machine.
    const lines = box.lines();
    const timedOut = lines.findIndex((l) => / timed out after /.test(l.message));
    expect(lines.filter((l, i) => l.tag === 'web' && /^running pid /.test(l.message) && i < timedOut)).toHaveLength(2);
    await waitFor('its group killed', () => !alive(leader!) && !alive(child!));
    await waitFor('the next run of hang', () => hookPids().length === 4);

    // Shutdown: services stop, hooks get the hook timeout to finish, then are killed; nothing is left behind.
    expect(await box.stopSupervisor()).toBe(0);
    await box.waitLog('proclaunch', /^hooks: exiting: killed 1 running hook "hang" pid \d+; dropped \d+ queued runs?$/);
    await waitFor('no process left in the sandbox', () => box.processes().length === 0);
  });

  it('refuses a --hooks DIR it cannot read, before starting anything (exit 2, one line)', () => {
    const missing = join(box.root, 'no-such-dir');
    const result = spawnSync(process.execPath, [CLI, 'supervise', '--foreground', '--hooks', missing, box.stateDir, box.profilesDir], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^proclaunch: --hooks "${missing}": ENOENT: no such file or directory, scandir '${missing}'\nTry 'proclaunch --help'.\n$`));
    const zero = spawnSync(process.execPath, [CLI, 'supervise', '--foreground', '--hooks', hooksDir, '--hook-timeout', '0', box.stateDir, box.profilesDir], { encoding: 'utf8' });
    expect(zero.status).toBe(2);
    expect(zero.stderr).toContain('--hook-timeout takes a number of seconds above 0');
  });
});

describe('examples/hooks/crash-mail', () => {
  it('mails a crash through sendmail -t, with the exit code and the last lines of the service log', async () => {
    const bin = join(box.root, 'bin');
    const mails = join(box.root, 'mails');
    mkdirSync(mails);
    box.write(join(bin, 'sendmail'), { content: sh(`{ echo "args: $*"; cat; } > ${mails}/.new.$$ && mv ${mails}/.new.$$ ${mails}/mail.$$`), mode: 0o755 });
    symlinkSync(resolve('examples/hooks/crash-mail'), join(hooksDir, 'crash-mail'));
    box.profile('web', { run: sh('echo "boom: 100% of \\"it\\""; exit 3') });
    box.start(['--hooks', hooksDir], { env: { PATH: `${bin}:${process.env.PATH}`, PROCLAUNCH_MAIL_TO: 'ops@example.com' } });
    await box.waitLog('web', /^exited pid \d+ code 3 /);
    const [name] = await waitFor('a mail', () => {
      const found = readdirSync(mails).filter((f) => f.startsWith('mail.'));
      return found.length > 0 && found;
    });
    const mail = readFileSync(join(mails, name!), 'utf8');
    expect(mail).toMatch(/^args: -oi -t\nTo: ops@example.com\nSubject: \[proclaunch\] web crashed on \S+\n\n/);
    expect(mail).toContain('exit code: 3\n');
    expect(mail).toContain('boom: 100% of "it"');
    // added and started are not mailed; stopping the supervisor lets every queued run finish first.
    await box.stopSupervisor();
    expect(readdirSync(mails).filter((f) => f.startsWith('mail.'))).toHaveLength(1);
    expect(box.count('proclaunch', /^hook /)).toBe(0);
  });
});
