// `proclaunch completion bash|zsh`, run in the real shells: commands, options,
// and the names of the services the running supervisor has.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, Sandbox, sh } from '../support/sandbox.js';

let box: Sandbox;
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  box = new Sandbox();
  box.profile('web', { run: sh('exec sleep 600') });
  box.profile('pool', { run: sh('exec sleep 600'), instances: '2' });
  await box.startReady();
  await Promise.all(['web', 'pool@1', 'pool@2'].map((tag) => box.runningPid(tag)));
  // The scripts call `proclaunch` by the name it was typed as: put one on the PATH.
  const bin = join(box.root, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'proclaunch'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  chmodSync(join(bin, 'proclaunch'), 0o755);
  env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, PROCLAUNCH_STATE: box.stateDir };
});
afterAll(() => box.cleanup());

/** What the shell offers for each line (a trailing space: a new, empty word), all in one shell. */
function offers(shell: 'bash' | 'zsh', lines: string[]): string[][] {
  const bash = `eval "$(proclaunch completion bash)"
for LINE in "$@"; do
  read -ra COMP_WORDS <<<"$LINE"; [[ "$LINE" == *" " ]] && COMP_WORDS+=("")
  COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _proclaunch; printf '%s\\n' "\${COMPREPLY[@]}"; echo "--"
done`;
  // zsh's completion builtins replaced by ones that print what they are given (compinit is not needed for that).
  const zsh = `compdef() { : }; eval "$(proclaunch completion zsh)"
compadd() { if [[ $1 == -a ]]; then print -l -- \${(P)2}; else [[ $1 == -- ]] && shift; print -l -- "$@"; fi }
_describe() { print -l -- \${(P)2} }
_files() { print -- "(files)" }
for LINE in "$@"; do words=(\${=LINE}); [[ $LINE == *" " ]] && words+=(""); CURRENT=\${#words}; _proclaunch; print -- "--"; done`;
  const args = shell === 'bash' ? ['-c', bash, 'bash', ...lines] : ['-f', '-c', zsh, 'zsh', ...lines];
  const r = spawnSync(shell, args, { env, encoding: 'utf8', cwd: box.root });
  expect(r.stderr).toBe('');
  return r.stdout.split('--\n').slice(0, lines.length).map((block) => block.split('\n').filter(Boolean));
}

const hasZsh = spawnSync('zsh', ['-c', 'true']).status === 0;

describe('bash', () => {
  it('completes commands, options, signals and the running services', () => {
    const [commands, names, one, wide, hooks, signals, afterSignal, elsewhere, shells] = offers('bash', [
      'proclaunch st', 'proclaunch restart ', 'proclaunch logs w', 'proclaunch status --w', 'proclaunch supervise --hook',
      'proclaunch signal ', 'proclaunch signal HUP ', `proclaunch stop --state ${join(box.root, 'nothing-here')} `, 'proclaunch completion ',
    ]);
    expect(commands).toEqual(expect.arrayContaining(['status', 'start', 'stop', 'state']));
    expect(names).toEqual(['pool', 'pool@1', 'pool@2', 'web']);
    expect(one).toEqual(['web']);
    expect(wide).toEqual(['--wide']);
    expect(hooks).toEqual(['--hooks', '--hook-timeout']);
    expect(signals).toContain('USR1');
    expect(afterSignal).toContain('web');
    expect(elsewhere).toEqual([]); // no supervisor there: nothing, and no error
    expect(shells).toEqual(['bash', 'zsh']);
  });
});

describe.skipIf(!hasZsh)('zsh (skipped: zsh is not installed)', () => {
  it('completes commands with what they do, options and the running services', () => {
    const [commands, names, options, signals] = offers('zsh', ['proclaunch ', 'proclaunch stop ', 'proclaunch events --', 'proclaunch signal ']);
    expect(commands).toEqual(expect.arrayContaining(['status:state of every service, or one in detail', 'supervise:run the supervisor on STATE_DIR and PROFILES_DIR']));
    expect(names).toEqual(['pool', 'pool@1', 'pool@2', 'web']);
    expect(options).toEqual(expect.arrayContaining(['--since', '--follow', '--json']));
    expect(signals).toContain('TERM');
  });
});

it('every command the CLI knows is in the scripts', () => {
  const script = spawnSync(process.execPath, [CLI, 'completion', 'bash'], { encoding: 'utf8' }).stdout;
  const help = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' }).stdout;
  for (const command of new Set([...help.matchAll(/^ {2}proclaunch ([a-z]+)/gm)].map((m) => m[1]!))) {
    for (const name of command === 'start' ? ['start', 'stop', 'restart'] : [command]) expect(script).toMatch(new RegExp(`\\b${name}\\b`));
  }
});
