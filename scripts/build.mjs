#!/usr/bin/env node
// `npm run build` (and `prepare`): tsc, then a stamp of when it started.
// `npm start` runs this with --if-changed: tsc (~6 s) only when a source
// file, a directory under src/ (a file added, removed or renamed) or
// tsconfig.json changed since the last build started, so starting again
// costs nothing. A build that fails leaves the stamp as it was.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const stampOf = (root) => join(root, 'dist', '.build-stamp');

/** The newest mtime (ms) of what the build reads: src/ (files and directories) and tsconfig.json. */
export function newestInput(root) {
  let newest = statSync(join(root, 'tsconfig.json')).mtimeMs;
  const walk = (dir) => {
    newest = Math.max(newest, statSync(dir).mtimeMs);
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  walk(join(root, 'src'));
  return newest;
}

/** Whether dist/ may be older than the sources: no stamp, no dist/cli/main.js, or an input changed since the build began. */
export function needsBuild(root) {
  let startedAt;
  try {
    startedAt = Number(readFileSync(stampOf(root), 'utf8'));
    statSync(join(root, 'dist', 'cli', 'main.js'));
  } catch {
    return true;
  }
  return !Number.isFinite(startedAt) || newestInput(root) >= startedAt;
}

/**
 * The supervisor as one module (dist/cli/supervise.bundle.js, its lazy parts
 * as chunks beside it): Node's loader costs ~0.5 ms a file, and supervising
 * loads ~120 of them before the first service starts (bench/RESULTS.md, start-up).
 * Beside dist/cli so that every path a module takes from import.meta.url
 * (../../package.json, the native module, ./main.js) is the same. Without
 * rolldown (dev dependency; not on every platform), main.js loads the files.
 */
async function bundleSupervisor(root) {
  const out = join(root, 'dist', 'cli');
  for (const name of readdirSync(out)) if (name.startsWith('supervise.bundle') || name.startsWith('supervise.chunk-')) rmSync(join(out, name));
  let rolldown;
  try {
    ({ rolldown } = await import('rolldown'));
  } catch (error) {
    process.stderr.write(`build: not bundling the supervisor (rolldown cannot be loaded: ${error.message}); it loads from dist/ file by file\n`);
    return;
  }
  const bundle = await rolldown({ input: join(out, 'supervise.js'), platform: 'node', logLevel: 'warn' });
  await bundle.write({ dir: out, format: 'esm', entryFileNames: 'supervise.bundle.js', chunkFileNames: 'supervise.chunk-[name]-[hash].js' });
  await bundle.close();
}

async function build(root) {
  const startedAt = Date.now();
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
  if (tsc.status !== 0) return tsc.status ?? 1;
  await bundleSupervisor(root);
  mkdirSync(join(root, 'dist'), { recursive: true });
  writeFileSync(stampOf(root), String(startedAt));
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv.includes('--if-changed') && !needsBuild(ROOT)) {
    process.stderr.write('dist/ is up to date (no source changed since the last build)\n');
  } else {
    process.exitCode = await build(ROOT);
  }
}
