#!/usr/bin/env node
// The naive Node supervisor of issue 16, a baseline: what ~60 lines of Node
// do with child_process.spawn and nothing else, so that what proclaunch costs
// beyond the runtime itself shows. It runs DIR/NAME/run for each directory in
// DIR, restarts one that exits (after 1 s if it ran less than 1 s: no busy
// loop on a broken service), starts new directories as fs.watch reports them
// (a full rescan per event), and on SIGTERM stops every service with SIGTERM,
// then exits once all have.
//
//   node bench/peers/programs/naive-supervisor.mjs DIR
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, watch } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const known = new Set(); // every service started (or waiting to be restarted)
const running = new Map(); // name → its ChildProcess
let stopping = false;

function start(name) {
  const cwd = join(dir, name);
  const startedAt = Date.now();
  const child = spawn(join(cwd, 'run'), [], { cwd, stdio: 'ignore' });
  running.set(name, child);
  child.on('error', () => {
    running.delete(name); // could not start (the directory went away): forget it
    known.delete(name);
    stopped();
  });
  child.on('exit', () => {
    running.delete(name);
    if (stopping) return stopped();
    const ranLongEnough = Date.now() - startedAt >= 1000;
    if (ranLongEnough) start(name);
    else setTimeout(() => !stopping && start(name), 1000);
  });
}

function scan() {
  if (stopping) return;
  for (const name of readdirSync(dir)) {
    if (known.has(name) || name.startsWith('.') || !existsSync(join(dir, name, 'run'))) continue;
    known.add(name);
    start(name);
  }
}

function stopped() {
  if (stopping && running.size === 0) process.exit(0);
}

process.on('SIGTERM', () => {
  stopping = true;
  for (const child of running.values()) child.kill('SIGTERM');
  stopped();
});

watch(dir, scan);
scan();
