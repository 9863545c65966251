// The command line itself: every COMMAND --help, the synopsis, ProcLaunch's
// way of starting us, and the typos that must not be taken for it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { procLaunchArgs } from '../../src/cli/shorthand.js';
import { SUPERVISE_OPTIONS } from '../../src/cli/supervise-options.js';
import { CLI } from '../support/sandbox.js';

const cwd = mkdtempSync(join(tmpdir(), 'proclaunch-cli-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env: { ...process.env, PROCLAUNCH_STATE: join(cwd, 'no-state') }, timeout: 10_000 });

describe('help', () => {
  it('COMMAND --help prints its usage, its options and one example, for every command', () => {
    const commands = ['supervise', 'status', 'start', 'stop', 'restart', 'reload', 'signal', 'logs', 'events', 'ps', 'check', 'rescan', 'quit', 'completion'];
    for (const command of commands) {
      const r = run(command, '--help');
      expect(r.status, command).toBe(0);
      expect(r.stdout, command).toMatch(new RegExp(`^Usage:\\s+proclaunch ${command}`));
      expect(r.stdout, command).toMatch(/\nExample: proclaunch .+\n$/);
      expect(r.stderr, command).toBe('');
    }
  });

  it("--help's synopsis lists every supervise option, and the control commands", () => {
    const help = run('--help').stdout;
    const synopsis = help.slice(0, help.indexOf('STATE_DIR PROFILES_DIR'));
    for (const [name, spec] of Object.entries(SUPERVISE_OPTIONS)) {
      if ('hidden' in spec) expect(help).not.toContain(`--${name}`);
      else expect(synopsis).toContain(`[--${name}${'value' in spec ? ` ${spec.value}` : ''}]`);
    }
    expect(help).toContain('proclaunch completion bash|zsh');
    expect(run('supervise', '--help').stdout).toContain('--rescan-interval S');
  });
});

describe('the ProcLaunch command line', () => {
  it("is read the way Getopt::Long read it: before or after the directories, = or not, one dash or two, any case, abbreviated", () => {
    expect(procLaunchArgs(['--log-path=/x/log', 's', 'p'])).toEqual(['--log-path=/x/log', 's', 'p']);
    expect(procLaunchArgs(['s', 'p', '--log-path', '/x/log', '-F', '-d'])).toEqual(['s', 'p', '--log-path', '/x/log', '-f', '-D']);
    expect(procLaunchArgs(['-foreground', '--Log-Level=info', '--fore', '--log-l', 'DEBUG', 's', 'p'])).toEqual(['--foreground', '--log-level=info', '--foreground', '--log-level', 'DEBUG', 's', 'p']);
    expect(procLaunchArgs(['--log-path', '-odd-name', 's', 'p'])).toEqual(['--log-path', '-odd-name', 's', 'p']); // a value is never respelled
    expect(procLaunchArgs(['--log', 's', 'p'])).toEqual(['--log', 's', 'p']); // ambiguous (--log-level, --log-path): as written, refused below
    expect(run('--log', 's', 'profiles')).toMatchObject({ status: 2, stderr: expect.stringContaining("Unknown option '--log'") });
  });
});

describe('a typo is not the ProcLaunch shorthand', () => {
  it('a first word close to a command: "did you mean", exit 2, nothing created or started', () => {
    mkdirSync(join(cwd, 'web'), { recursive: true });
    const before = readdirSync(cwd).sort();
    expect(run('stauts', 'web')).toMatchObject({ status: 2, stdout: '', stderr: `proclaunch: unknown command "stauts"; did you mean status?\nTry 'proclaunch --help'.\n` });
    expect(run('stpo')).toMatchObject({ status: 2, stderr: expect.stringContaining('did you mean stop?') });
    expect(run('restrat', 'web', '--all')).toMatchObject({ status: 2, stderr: expect.stringContaining('did you mean restart?') });
    expect(run('bogus')).toMatchObject({ status: 2, stderr: `proclaunch: unknown command "bogus"\nTry 'proclaunch --help'.\n` });
    expect(readdirSync(cwd).sort()).toEqual(before);
  });

  it('a PROFILES_DIR that does not exist: exit 2, nothing created, nothing started', () => {
    const r = run('./state', './bash');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`proclaunch: PROFILES_DIR "${join(cwd, 'bash')}" is not a directory; nothing started (\`proclaunch supervise\` waits for a missing one)\nTry 'proclaunch --help'.\n`);
    expect(existsSync(join(cwd, 'state'))).toBe(false);
    expect(run('--log-path=x.log', 'state', 'nope').status).toBe(2);
    expect(existsSync(join(cwd, 'x.log'))).toBe(false);
  });
});
