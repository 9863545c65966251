// `fleet install` sends this proclaunch as one tarball that installs offline: what `npm pack`
// packs of the package, its runtime dependencies bundled (bundleDependencies), and the native module
// built here, for a host with the same Node ABI (scripts/build-native.mjs keeps it when it
// loads, else builds or falls back as on any install).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { run } from './run.js';

export interface Pack {
  path: string;
  sha256: string;
  version: string;
  /** Remove the temporary files. */
  dispose(): void;
}

/** The package root: dist/fleet/ (or src/fleet/) is two levels below it. */
export const packageRoot = (): string => fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');

interface Manifest {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  files?: string[];
  scripts?: Record<string, string>;
  bundleDependencies?: string[];
}

const manifest = (dir: string): Manifest => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;

/** Where Node would find `name` from `from`: its node_modules, then each parent's. */
function locate(name: string, from: string): string | null {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return null;
  }
}

/**
 * Link the runtime dependency tree of `root` into `target/node_modules` (tar -h copies through
 * the links: copying 5,000 files of date-fns one by one costs seconds). A dependency nested
 * in another's node_modules comes with it.
 */
function linkDependencies(root: string, target: string): void {
  const done = new Set<string>();
  const visit = (dir: string): void => {
    for (const name of Object.keys(manifest(dir).dependencies ?? {})) {
      const found = locate(name, dir);
      if (!found) throw new Error(`cannot pack: dependency ${name} of ${manifest(dir).name} is not installed here (npm ci first)`);
      if (done.has(found)) continue;
      done.add(found);
      const inside = relative(root, found);
      const topLevel = inside.startsWith('..') || inside === join('node_modules', name);
      const link = join(target, 'node_modules', name);
      if (topLevel && !existsSync(link)) {
        mkdirSync(dirname(link), { recursive: true });
        symlinkSync(found, link);
      }
      visit(found);
    }
  };
  visit(root);
}

/** `tar -h` of STAGE/package, reproducible (names sorted, one mtime, owner 0), gzipped without a timestamp. */
async function tarball(stage: string, out: string): Promise<void> {
  // Of the dependencies, what runs: not their type declarations and source maps (half of date-fns's 5,300 files).
  const skip = ['.bin', '*.d.ts', '*.d.cts', '*.d.mts', '*.map'].map((pattern) => `--exclude=package/node_modules/*${pattern}`);
  const args = ['-h', '--sort=name', '--mtime=@499162500', '--owner=0', '--group=0', '--numeric-owner', ...skip, '-C', stage, '-cf', '-', 'package'];
  const tar = spawn('tar', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let said = '';
  tar.stderr.setEncoding('utf8').on('data', (chunk: string) => (said += chunk));
  const exited = new Promise<number | null>((done) => tar.on('close', done));
  await pipeline(tar.stdout, createGzip({ level: 6 }), createWriteStream(out));
  const code = await exited;
  if (code !== 0) throw new Error(`cannot pack: tar: ${said.trim().split('\n').pop() ?? `code ${code}`}`);
}

async function npmPack(dir: string, destination: string): Promise<string> {
  const ran = await run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', destination], { cwd: dir, deadline: Date.now() + 300_000 });
  const file = ran.stdout.trim().split('\n').pop();
  if (ran.code !== 0 || !file) throw new Error(`npm pack failed in ${dir}: ${ran.spawnError ?? (ran.stderr.trim().split('\n').pop() || `code ${ran.code}`)}`);
  return join(destination, file);
}

export async function packWithDependencies(root = packageRoot()): Promise<Pack> {
  const stage = mkdtempSync(join(tmpdir(), 'proclaunch-pack-'));
  const dispose = () => rmSync(stage, { recursive: true, force: true });
  try {
    const plain = await npmPack(root, stage);
    const unpacked = await run('tar', ['-xzf', plain, '-C', stage], { deadline: Date.now() + 120_000 });
    if (unpacked.code !== 0) throw new Error(`cannot unpack ${plain}: ${unpacked.stderr.trim()}`);
    const pkg = join(stage, 'package');
    linkDependencies(root, pkg);
    const meta = manifest(pkg);
    meta.bundleDependencies = Object.keys(meta.dependencies ?? {});
    delete meta.scripts?.prepare;
    const native = join(root, 'build', 'Release', 'proclaunch_native.node');
    if (existsSync(native)) {
      mkdirSync(join(pkg, 'build', 'Release'), { recursive: true });
      cpSync(native, join(pkg, 'build', 'Release', 'proclaunch_native.node'));
      writeFileSync(join(pkg, 'build', 'prebuilt.json'), `${JSON.stringify({ abi: process.versions.modules, platform: process.platform, arch: process.arch })}\n`);
      meta.files = [...(meta.files ?? []), 'build/Release/proclaunch_native.node', 'build/prebuilt.json'];
    }
    writeFileSync(join(pkg, 'package.json'), `${JSON.stringify(meta, null, 2)}\n`);
    const path = join(stage, `${meta.name}-${meta.version}-bundled.tgz`);
    await tarball(stage, path);
    const sha256 = createHash('sha256').update(readFileSync(path)).digest('hex');
    return { path, sha256, version: meta.version, dispose };
  } catch (error) {
    dispose();
    throw error;
  }
}
