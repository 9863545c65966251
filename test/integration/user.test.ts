// `user`: as root, the service runs as that user with its groups and login environment.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CLI, Sandbox, sh } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

const asRoot = process.getuid?.() === 0;
const suffix = `${process.pid}`.slice(-5);
const user = `pltest${suffix}`;
const extraGroup = `pltestg${suffix}`;
let canManageUsers = false;

beforeAll(() => {
  if (!asRoot) return;
  canManageUsers =
    spawnSync('groupadd', [extraGroup]).status === 0 &&
    spawnSync('useradd', ['--no-create-home', '--home-dir', '/nonexistent', '--shell', '/bin/sh', '-G', extraGroup, user]).status === 0;
});
afterAll(() => {
  if (!canManageUsers) return;
  spawnSync('userdel', [user]);
  spawnSync('groupdel', [extraGroup]);
});

let box: Sandbox;
beforeEach(() => {
  box = new Sandbox();
  chmodSync(box.root, 0o755); // the service user must reach its run file
});
afterEach(async () => {
  await box.cleanup();
});

const statusField = (pid: number, field: string): string =>
  readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`))!.split(':')[1]!.trim();

/** The pid is logged at spawn, while setpriv may not yet have changed user: wait for the service itself. */
const serviceRunning = (pid: number): Promise<unknown> =>
  waitFor(`pid ${pid} to exec sleep`, () => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep');

const gid = (name: string): string => readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`))!.split(':')[2]!;

describe.skipIf(!asRoot)('user, as root', () => {
  it('drops to the uid, gid and supplementary groups of the user, with HOME/USER/LOGNAME/SHELL', async () => {
    expect(canManageUsers).toBe(true);
    box.profile('web', { run: sh('echo "env $HOME $USER $LOGNAME $SHELL"; exec sleep 1000'), user });
    box.start();
    const pid = await box.runningPid('web');
    await serviceRunning(pid);
    const uid = spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout.trim();
    expect(statusField(pid, 'Uid').split(/\s+/)).toEqual([uid, uid, uid, uid]);
    expect(statusField(pid, 'Gid').split(/\s+/)[0]).toBe(gid(user));
    expect(statusField(pid, 'Groups').split(/\s+/).sort()).toEqual([gid(user), gid(extraGroup)].sort());
    await waitFor('login env', () => box.serviceLog('web').includes(`env /nonexistent ${user} ${user} /bin/sh`));
  });

  it('USER:GROUP sets the primary group', async () => {
    box.profile('web', { run: sh('exec sleep 1000'), user: 'nobody:daemon' });
    box.start();
    const pid = await box.runningPid('web');
    await serviceRunning(pid);
    expect(statusField(pid, 'Uid').split(/\s+/)[0]).toBe('65534');
    expect(statusField(pid, 'Gid').split(/\s+/)[0]).toBe(gid('daemon'));
    expect(statusField(pid, 'Groups')).not.toMatch(/(^|\s)0(\s|$)/); // root's groups are gone
  });

  it('a supervisor that is not root logs one WARN and runs the service as itself', async () => {
    expect(canManageUsers).toBe(true);
    box.profile('web', { run: sh('exec sleep 1000'), user: 'daemon' });
    spawnSync('chown', ['-R', `${user}:`, box.root]);
    // The supervisor itself runs as the unprivileged test user.
    box.supervisor = spawn('setpriv', ['--reuid', user, '--regid', user, '--init-groups', process.execPath, CLI, 'supervise', '--foreground', '--log-path', box.logPath, box.stateDir, box.profilesDir], { stdio: 'ignore' });
    const pid = await box.runningPid('web');
    await serviceRunning(pid);
    const uid = spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout.trim();
    expect(statusField(pid, 'Uid').split(/\s+/)[0]).toBe(uid);
    // (Without the native module, one more WARN says pids are polled: not about users.)
    const notInfo = box.lines().filter((l) => l.level !== 'INFO' && !l.message.startsWith('watching pids that are not our children by polling'));
    expect(notInfo).toEqual([{ level: 'WARN', tag: 'web', message: 'user daemon ignored: the supervisor is not root' }]);
  });

  describe('a pid file that a service user could have written (systemd PIDFile rule)', () => {
    it('naming an unrelated process: refused at once with one ERROR, that process never signalled', async () => {
      expect(canManageUsers).toBe(true);
      const stranger = spawn('sleep', ['1000'], { stdio: 'ignore' });
      try {
        // start_timeout 60 s, longer than waitLog waits: the start fails on the pid file this run wrote, not on the timeout.
        const dir = box.profile('d', { run: sh(`echo ${stranger.pid} > pids/d.pid`), pid_file: 'pids/d.pid', start_timeout: '60' });
        spawnSync('mkdir', [`${dir}/pids`]);
        spawnSync('chown', [`${user}:`, `${dir}/pids`]);
        box.start();
        await box.waitLog('d', new RegExp(`^failed: pid file .*d\\.pid can be written by a user other than root and names pid ${stranger.pid}, owned by root \\(uid 0\\), not from its run; not trusted$`));
        expect(box.lines().filter((l) => l.level === 'ERROR')).toHaveLength(1);
        expect(stranger.exitCode).toBeNull();
        expect(stranger.signalCode).toBeNull();
      } finally {
        stranger.kill('SIGKILL');
      }
    });

    it("a `user nobody` run naming a root process: one ERROR at once that it is another user's, the start failed with that reason", async () => {
      const root = spawn('sleep', ['1000'], { stdio: 'ignore' });
      try {
        const dir = box.profile('d', { run: sh(`echo ${root.pid} > pids/d.pid`), pid_file: 'pids/d.pid', user: 'nobody', start_timeout: '60' });
        spawnSync('mkdir', [`${dir}/pids`]);
        spawnSync('chown', ['nobody:', `${dir}/pids`]);
        await box.startReady();
        const reason = `pid file ${dir}/pids/d.pid names pid ${root.pid}, owned by root (uid 0): another user than the profile's (nobody), and not from its run; not trusted`;
        await box.waitLog('d', /^failed: /);
        expect(box.lines().filter((l) => l.level === 'ERROR')).toEqual([{ level: 'ERROR', tag: 'd', message: `failed: ${reason}` }]);
        expect((await box.status('d'))[0]).toMatchObject({ state: 'stopped', substate: 'failed', reason });
        expect(root.exitCode).toBeNull();
        expect(root.signalCode).toBeNull();
      } finally {
        root.kill('SIGKILL');
      }
    });

    it("naming the profile user's own daemon (setsid, double fork): accepted", async () => {
      expect(canManageUsers).toBe(true);
      const dir = box.profile('d', { run: sh('setsid sleep 1000 </dev/null >/dev/null 2>&1 &\necho $! > pids/d.pid'), pid_file: 'pids/d.pid', user });
      spawnSync('mkdir', [`${dir}/pids`]);
      spawnSync('chown', [`${user}:`, `${dir}/pids`]);
      box.start();
      const pid = await box.runningPid('d');
      expect(readFileSync(`${dir}/pids/d.pid`, 'utf8').trim()).toBe(String(pid));
    });

    it('naming a process that came from run (same session): accepted for a root service', async () => {
      expect(canManageUsers).toBe(true);
      const dir = box.profile('d', { run: sh('sleep 1000 </dev/null >/dev/null 2>&1 &\necho $! > pids/d.pid'), pid_file: 'pids/d.pid' });
      spawnSync('mkdir', [`${dir}/pids`]);
      spawnSync('chown', [`${user}:`, `${dir}/pids`]);
      box.start();
      await box.runningPid('d');
    });
  });
});
