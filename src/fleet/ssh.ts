// How we call ssh: the user's OpenSSH client and configuration (`-F`, `$PROCLAUNCH_SSH`),
// never a password prompt (BatchMode), and connections multiplexed (ControlMaster,
// ControlPersist) through sockets in a private directory, so the next command to 50 hosts
// costs a channel each, not a handshake.
import { lstatSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Host } from './hosts-file.js';
import { run, type Ran, type RunOptions } from './run.js';

export interface SshSettings {
  /** -F SSH_CONFIG */
  config?: string;
  /** The per-host timeout (-t), in ms: ssh's own ConnectTimeout stays within it. */
  timeoutMs: number;
}

/** How long an idle master connection stays for the next command. */
const CONTROL_PERSIST_S = 60;

/**
 * The directory of the control sockets: $XDG_RUNTIME_DIR/proclaunch-ssh, else
 * $TMPDIR/proclaunch-ssh-UID; mode 0700 and ours, or refused (a socket there is a
 * shell on every host).
 */
export function controlDir(env: NodeJS.ProcessEnv = process.env): string {
  const uid = process.getuid?.() ?? 0;
  const dir = env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, 'proclaunch-ssh') : join(tmpdir(), `proclaunch-ssh-${uid}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = lstatSync(dir);
  if (!stat.isDirectory() || stat.uid !== uid || (stat.mode & 0o077) !== 0) {
    throw new Error(`refusing the ssh control directory ${dir}: it must be a directory of uid ${uid} with mode 0700`);
  }
  return dir;
}

/** $PROCLAUNCH_SSH (split on spaces) or `ssh`. */
export function sshProgram(env: NodeJS.ProcessEnv = process.env): string[] {
  const words = (env.PROCLAUNCH_SSH ?? '').split(' ').filter(Boolean);
  return words.length > 0 ? words : ['ssh'];
}

export class Ssh {
  readonly program: string[];
  private readonly dir: string;

  constructor(private readonly settings: SshSettings, env: NodeJS.ProcessEnv = process.env) {
    this.program = sshProgram(env);
    this.dir = controlDir(env);
  }

  /** ssh's options (everything but the program and the destination). */
  options(host: Host): string[] {
    const connectTimeout = Math.max(1, Math.min(10, Math.ceil(this.settings.timeoutMs / 1000)));
    const args = this.settings.config ? ['-F', this.settings.config] : [];
    args.push(
      '-o', 'BatchMode=yes',
      '-o', 'ControlMaster=auto',
      '-o', `ControlPath=${join(this.dir, '%C')}`,
      '-o', `ControlPersist=${CONTROL_PERSIST_S}`,
      '-o', `ConnectTimeout=${connectTimeout}`,
      // A master whose host went away is noticed, not waited on forever.
      '-o', 'ServerAliveInterval=10',
      '-o', 'ServerAliveCountMax=3',
    );
    if (host.port !== null) args.push('-p', String(host.port));
    if (host.user !== null) args.push('-l', host.user);
    return args;
  }

  /** Run `command` (one string, read by the remote user's shell) on the host. */
  run(host: Host, command: string, options: RunOptions): Promise<Ran> {
    const [argv0, ...extra] = this.program;
    return run(argv0!, [...extra, ...this.options(host), host.hostname, command], options);
  }

  /** rsync's -e: the same ssh, as one string (rsync splits it on spaces, honouring quotes). */
  rsh(host: Host): string {
    return [...this.program, ...this.options(host)].map((word) => (/[\s'"]/.test(word) ? `'${word}'` : word)).join(' ');
  }

  /** rsync's `HOST:PATH` (an IPv6 address in brackets), user given by -l in rsh. */
  rsyncTarget(host: Host, path: string): string {
    return `${host.hostname.includes(':') ? `[${host.hostname}]` : host.hostname}:${path}`;
  }
}
