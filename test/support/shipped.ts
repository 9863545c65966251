// The profiles shipped in profiles/, as committed: tests must not see what a
// user trying the quick start added to the working directory (a profile
// `hello`, an edited greeting.conf, pid files, logger output).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

/** The checkout this suite belongs to (this file is test/support/shipped.ts). */
export const REPO = resolve(import.meta.dirname, '../..');

/** What a run of the examples leaves in a working directory (see .gitignore). */
const LEFTOVERS = ['daemon/daemon.pid', 'daemon/daemon.out', 'with-logger/log/main'];

let warned = false;

/** Whether REPO is the top of a git work tree (not merely inside some other repository). */
function inGitCheckout(): boolean {
  const top = spawnSync('git', ['-C', REPO, 'rev-parse', '--show-toplevel'], { encoding: 'utf8' });
  return top.status === 0 && resolve(top.stdout.trim()) === REPO;
}

/**
 * Write the committed profiles (all, or `names`) into `into`/profiles and
 * return that path. From `git archive HEAD`, which keeps the file modes (run
 * scripts executable); outside a git checkout (an unpacked tarball), a copy of
 * the working directory without the known leftovers.
 */
export function extractShippedProfiles(into: string, names: string[] = []): string {
  const target = join(into, 'profiles');
  mkdirSync(into, { recursive: true });
  if (inGitCheckout()) {
    const paths = names.length > 0 ? names.map((name) => `profiles/${name}`) : ['profiles'];
    // tar.umask: git's default (002) makes directories group-writable, and a pid file in one is not trusted as root.
    const archive = spawnSync('git', ['-C', REPO, '-c', 'tar.umask=0022', 'archive', '--format=tar', 'HEAD', '--', ...paths], { maxBuffer: 64 * 1024 * 1024 });
    if (archive.status !== 0) throw new Error(`git archive HEAD ${paths.join(' ')}: ${archive.stderr}`);
    // -m: files dated now, as in a fresh checkout, not at the commit (the cleaner deletes what is 7 days old).
    const tar = spawnSync('tar', ['-x', '-m', '-C', into], { input: archive.stdout });
    if (tar.status !== 0) throw new Error(`tar -x: ${tar.stderr}`);
    return target;
  }
  if (!warned) console.warn(`not a git checkout: the tests use ${join(REPO, 'profiles')} as it is on disk`);
  warned = true;
  for (const name of names.length > 0 ? names : ['']) cpSync(join(REPO, 'profiles', name), join(target, name), { recursive: true });
  for (const leftover of LEFTOVERS) rmSync(join(target, leftover), { recursive: true, force: true });
  return target;
}

/**
 * The names in a committed directory of REPO (`profiles`, `profiles/kv`), sorted:
 * from `git ls-tree HEAD`, so that what a user added to the working directory
 * (a quick start's `profiles/hello`) is not among them; outside a git checkout,
 * the directory on disk without dot-files and the known leftovers.
 */
export function shippedEntries(dir: string): string[] {
  if (inGitCheckout()) {
    const tree = spawnSync('git', ['-C', REPO, 'ls-tree', '--name-only', 'HEAD', '--', `${dir}/`], { encoding: 'utf8' });
    if (tree.status !== 0) throw new Error(`git ls-tree HEAD ${dir}/: ${tree.stderr}`);
    return tree.stdout.split('\n').filter(Boolean).map((path) => basename(path)).sort();
  }
  const leftovers = new Set(LEFTOVERS.map((path) => join('profiles', path)));
  return readdirSync(join(REPO, dir)).filter((name) => !name.startsWith('.') && !leftovers.has(join(dir, name))).sort();
}
