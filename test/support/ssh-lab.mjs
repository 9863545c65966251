// Test hosts for `proclaunch fleet`: one real sshd each (Debian openssh-server), on this one
// machine. Each host is a network namespace on a bridge of its own (addresses 10.X.Y.N chosen
// per run) or, where namespaces cannot be made, an sshd on a loopback address of its own
// (127.0.0.N) and port. Host key and client key are made per run; the fleet gets a generated
// ssh_config (-F) and a private XDG_RUNTIME_DIR for its control sockets. Each host has its own
// HOME, PATH and directories (state, profiles); its proclaunch is a wrapper around this
// checkout's dist/cli/main.js. Shared by test/integration/fleet.test.ts and bench/fleet.mjs
// (plain JS, so that the benchmark can run it without a TypeScript loader).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LabNetwork } from './lab-network.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(REPO, 'dist', 'cli', 'main.js');
const SSHD = '/usr/sbin/sshd';
const SYSTEM_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

/** Why the fleet tests cannot run here, or null. */
export function labUnavailable() {
  if (process.platform !== 'linux') return 'not Linux';
  if (!existsSync(SSHD)) return 'sshd is not installed (scripts/ensure-test-tools.sh installs openssh-server)';
  for (const tool of ['ssh', 'ssh-keygen']) if (!has(tool)) return `${tool} is not installed (openssh-client)`;
  if (process.getuid?.() !== 0) return 'sshd test hosts need root (a host logs in as the user that runs the tests, through its own sshd)';
  return null;
}


/**
 * A host: `name`; `key: 'refused'` (its sshd knows no key of ours); `sshd: 'never'` (nothing
 * listens: unreachable) or `'stopped'` (SIGSTOP: hangs); `path: 'bare'` (a PATH without rsync,
 * node, npm, perl) or a list of extra dirs first; `bin: false` (no bin=: `proclaunch` must
 * be on PATH, and is not); `supervisor: false` (none runs there); `groups`.
 */
export class SshLab {
  static async create(specs, { mode = process.env.PROCLAUNCH_LAB_NETWORK || undefined } = {}) {
    const lab = new SshLab();
    await lab.setUp(specs, mode);
    return lab;
  }

  constructor() {
    this.root = mkdtempSync('/tmp/plf-');
    this.hosts = new Map();
    this.supervisors = [];
    this.network = null;
  }

  async setUp(specs, mode) {
    const { root } = this;
    // The control sockets: $XDG_RUNTIME_DIR/proclaunch-ssh/%C (a short path: the limit is 108 bytes).
    this.xdg = join(root, 'x');
    mkdirSync(this.xdg, { mode: 0o700 });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(root, 'hostkey')]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(root, 'client')]);
    const hostKey = readFileSync(join(root, 'hostkey.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
    const clientKey = readFileSync(join(root, 'client.pub'), 'utf8').trim();
    // The privilege separation directory sshd wants (Debian makes it when its own service starts).
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    this.network = new LabNetwork(mode);
    this.mode = this.network.mode;
    const config = [];
    const known = [];
    const hostsFile = [];
    let index = 0;
    for (const spec of specs) {
      index += 1;
      const host = await this.makeHost(spec, index, clientKey);
      this.hosts.set(spec.name, host);
      config.push(`Host ${spec.name}`, `  HostName ${host.address}`, `  Port ${host.port}`, `  HostKeyAlias ${spec.name}`);
      known.push(`${spec.name} ${hostKey}`);
      const settings = [`state=${host.stateDir}`];
      if (spec.bin !== false) settings.push(`bin=${host.bin}`);
      hostsFile.push(`${spec.name} ${(spec.groups ?? []).join(' ')} ${settings.join(' ')}`.replace(/\s+/g, ' '));
    }
    config.push('Host *', '  User root', `  IdentityFile ${join(root, 'client')}`, '  IdentitiesOnly yes', `  UserKnownHostsFile ${join(root, 'known_hosts')}`,
      '  GlobalKnownHostsFile /dev/null', '  StrictHostKeyChecking yes', '  LogLevel ERROR');
    this.sshConfig = join(root, 'ssh_config');
    writeFileSync(this.sshConfig, `${config.join('\n')}\n`);
    writeFileSync(join(root, 'known_hosts'), `${known.join('\n')}\n`);
    this.hostsFile = join(root, 'hosts');
    writeFileSync(this.hostsFile, `# written by the test lab\n${hostsFile.join('\n')}\n`);
    await Promise.all([...this.hosts.values()].map((host) => this.startHost(host)));
  }

  async makeHost(spec, index, clientKey) {
    const dir = join(this.root, spec.name);
    const host = {
      name: spec.name,
      spec,
      dir,
      stateDir: join(dir, 'state'),
      profilesDir: join(dir, 'profiles'),
      home: join(dir, 'home'),
      bin: join(dir, 'bin', 'proclaunch'),
      logPath: join(dir, 'supervisor.log'),
      address: '',
      port: 22,
      exec: (argv) => argv,
      sshd: null,
    };
    for (const sub of ['profiles', 'home', 'bin', 'shims']) mkdirSync(join(dir, sub), { recursive: true });
    writeFileSync(host.bin, `#!/bin/sh\nexec ${process.execPath} ${CLI} "$@"\n`, { mode: 0o755 });
    writeFileSync(join(dir, 'authorized_keys'), spec.key === 'refused' ? '' : `${clientKey}\n`);
    const place = await this.network.place(index);
    Object.assign(host, { address: place.address, port: place.port, exec: place.exec });
    // The node running the tests first (CI runs them on Node 22 and 24 too): the hosts' npm installs with it.
    const path = spec.path === 'bare' ? [this.barePath(dir)] : [...(spec.path ?? []), join(dir, 'shims'), dirname(process.execPath), ...SYSTEM_PATH];
    writeFileSync(join(dir, 'sshd_config'), [
      `ListenAddress ${host.address}:${host.port}`,
      `HostKey ${join(this.root, 'hostkey')}`,
      'PidFile none',
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'PrintMotd no',
      'PrintLastLog no',
      'MaxSessions 100',
      'MaxStartups 200',
      'LogLevel ERROR',
      // Its own HOME (no dotfiles of this machine's user) and PATH.
      `SetEnv HOME=${host.home} PATH=${path.join(':')}`,
      '',
    ].join('\n'));
    return host;
  }

  /** A PATH of links to every system program but rsync, node, npm, perl and python: a host with nothing extra installed. */
  barePath(dir) {
    const bare = join(dir, 'bare-bin');
    mkdirSync(bare, { recursive: true });
    const left = new Set(['rsync', 'node', 'nodejs', 'npm', 'npx', 'perl', 'python3', 'proclaunch']);
    for (const system of ['/usr/bin', '/usr/sbin']) {
      for (const name of readdirSync(system)) {
        if (left.has(name) || /^(perl|python)/.test(name) || existsSync(join(bare, name))) continue;
        symlinkSync(join(system, name), join(bare, name));
      }
    }
    return bare;
  }

  async startHost(host) {
    if (host.spec.sshd !== 'never') await this.startSshd(host);
    if (host.spec.supervisor !== false) await this.startSupervisor(host);
  }

  async startSshd(host) {
    const argv = [SSHD, '-D', '-e', '-f', join(host.dir, 'sshd_config')];
    const [program, ...args] = host.exec(argv);
    const child = spawn(program, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let said = '';
    child.stderr.on('data', (d) => (said += d));
    host.sshd = child;
    host.sshdLog = () => said;
    // Up once it accepts a connection (from the host side of the bridge or loopback).
    await until(`sshd of ${host.name} listening`, () => tcpOpen(host.address, host.port), 10_000, () => said);
    if (host.spec.sshd === 'stopped') process.kill(child.pid, 'SIGSTOP');
  }

  async startSupervisor(host) {
    const child = spawn(process.execPath, [CLI, 'supervise', '--foreground', '--log-path', host.logPath, host.stateDir, host.profilesDir], { stdio: 'ignore' });
    host.supervisor = child;
    this.supervisors.push(child);
    await until(`supervisor of ${host.name}`, () => existsSync(host.logPath) && readFileSync(host.logPath, 'utf8').includes('control socket '), 15_000);
  }

  host(name) {
    const host = this.hosts.get(name);
    if (!host) throw new Error(`no test host ${name}`);
    return host;
  }

  /** The environment the fleet runs in: its own control-socket directory. */
  env(extra = {}) {
    return { ...process.env, XDG_RUNTIME_DIR: this.xdg, NO_COLOR: '1', PROCLAUNCH_HOSTS: this.hostsFile, ...extra };
  }

  /** `proclaunch fleet -F ssh_config ARGS`; resolves with code, stdout, stderr, ms. */
  fleet(args, { env = {}, detached = false, onSpawn } = {}) {
    const started = Date.now();
    return new Promise((done) => {
      const child = spawn(process.execPath, [CLI, 'fleet', '-F', this.sshConfig, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: this.env(env), detached });
      onSpawn?.(child);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code, signal) => done({ code, signal, stdout, stderr, ms: Date.now() - started }));
    });
  }

  /** A profile written beside, then renamed into the host's PROFILES_DIR. */
  profile(hostName, name, files) {
    return writeProfile(this.host(hostName).profilesDir, name, files);
  }

  /** Every process whose command line or working directory is in this lab, and their descendants (sshd's sessions). */
  processes() {
    const ours = new Set();
    const parents = new Map();
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
      try {
        parents.set(Number(entry), Number(/\) \S+ (\d+)/.exec(readFileSync(`/proc/${entry}/stat`, 'latin1'))?.[1]));
        const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
        let cwd = '';
        try {
          cwd = readlinkSync(`/proc/${entry}/cwd`);
        } catch {
          // not ours to read
        }
        if (cmdline.includes(this.root) || cwd.startsWith(this.root)) ours.add(Number(entry));
      } catch {
        // gone
      }
    }
    for (let grew = true; grew; ) {
      grew = false;
      for (const [pid, parent] of parents) if (!ours.has(pid) && ours.has(parent)) grew = ours.add(pid) !== null;
    }
    return [...ours];
  }

  async close() {
    for (const host of this.hosts.values()) if (host.sshd && host.spec.sshd === 'stopped') spawnSync('kill', ['-CONT', String(host.sshd.pid)]);
    // The ssh masters first (they would linger ControlPersist seconds), then every process of ours.
    for (const name of this.hosts.keys()) {
      spawnSync('ssh', ['-F', this.sshConfig, '-o', `ControlPath=${join(this.xdg, 'proclaunch-ssh', '%C')}`, '-O', 'exit', name], { stdio: 'ignore', timeout: 5000 });
    }
    for (const child of this.supervisors) if (child.exitCode === null) child.kill('SIGTERM');
    await until('supervisors stopped', () => this.supervisors.every((c) => c.exitCode !== null || c.signalCode !== null), 15_000).catch(() => {});
    for (const pid of this.processes()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    this.network?.close();
    rmSync(this.root, { recursive: true, force: true });
  }
}

export function writeProfile(profilesDir, name, files) {
  const scratch = join(dirname(profilesDir), `.scratch-${name}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  for (const [file, content] of Object.entries(files)) {
    const path = join(scratch, file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    if (file === 'run' || file.endsWith('/run')) chmodSync(path, 0o755);
  }
  const target = join(profilesDir, name);
  execFileSync('mv', ['-T', scratch, target]);
  return target;
}

function tcpOpen(address, port) {
  return new Promise((done) => {
    const socket = connect(port, address);
    const finish = (open) => {
      socket.destroy();
      done(open);
    };
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
    socket.setTimeout(500, () => finish(false));
  });
}

export async function until(what, probe, timeoutMs = 10_000, detail = () => '') {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what} ${detail()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
