// The services' own time, for bench/needs.mjs: the same chain of services
// (the same `run` scripts, each started once the one before is ready), run by
// this bare loop with no supervisor. It starts each with the native module's
// posix_spawn (what the supervisor uses) and learns of its readiness the
// cheapest way there is — sd_notify: the native datagram socket, READY=1 in a
// datagram, no credentials checked; notification-fd: a FIFO read by the event
// loop. What the chain costs per link under the supervisor beyond this is the
// supervisor's own part.
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, constants, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { now } from './lib.mjs';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');

/** Each kind's `run` and how the bare loop hears it is ready (bench/needs.mjs gives the supervisor the same scripts). */
export const RUN = {
  'notification-fd': '#!/bin/sh\necho >&3\nexec 3>&-\nexec sleep 100000\n',
  sd_notify: '#!/bin/sh\nsystemd-notify --ready\nexec sleep 100000\n',
};

/**
 * Run a chain of `links` services of `kind` one after the other, each once
 * the one before is ready. Returns { perLinkMs, cpuPerLinkMs }: from the first one ready to
 * the last ready, per link (hrtime), and this loop's CPU per link (its spawns'
 * share included) over the same span. Every service is killed (its group: it
 * leads its own session) before it returns.
 */
export async function bareChain(kind, links) {
  const { spawnChild } = await import(join(DIST, 'process', 'native-spawn.js'));
  const { openNotifySocket } = await import(join(DIST, 'process', 'notify.js'));
  const root = mkdtempSync(join(tmpdir(), 'proclaunch-needs-bare-'));
  const devNull = openSync('/dev/null', 'r+');
  const children = [];
  try {
    // Untimed: the scripts (and FIFOs) are there before the first start, as profiles are.
    const dirs = [];
    for (let i = 0; i < links; i++) {
      const dir = join(root, `s${i}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'run'), RUN[kind]);
      chmodSync(join(dir, 'run'), 0o755);
      if (kind === 'notification-fd') execFileSync('mkfifo', [join(dir, 'ready')]);
      dirs.push(dir);
    }
    const readyAt = [];
    let cpuAtFirst;
    for (const dir of dirs) {
      await new Promise((resolve, reject) => {
        const env = { ...process.env };
        const stdio = [devNull, devNull, devNull];
        let stop = () => undefined;
        let done = false;
        const ready = () => {
          if (done) return;
          done = true;
          readyAt.push(now());
          if (readyAt.length === 1) cpuAtFirst = process.cpuUsage();
          stop();
          resolve();
        };
        if (kind === 'sd_notify') {
          const socket = openNotifySocket(({ data }) => data?.toString('latin1').split('\n').includes('READY=1') && ready());
          env.NOTIFY_SOCKET = socket.address;
          stop = () => socket.close();
        } else {
          const readEnd = openSync(join(dir, 'ready'), constants.O_RDONLY | constants.O_NONBLOCK);
          stdio[3] = openSync(join(dir, 'ready'), constants.O_WRONLY | constants.O_NONBLOCK);
          const fifo = new Socket({ fd: readEnd, readable: true, writable: false });
          fifo.on('data', (chunk) => chunk.includes(10) && ready());
          stop = () => fifo.destroy();
        }
        const child = spawnChild(join(dir, 'run'), [], { cwd: dir, detached: true, stdio, env });
        if (stdio[3] !== undefined) closeSync(stdio[3]);
        child.once('error', reject);
        children.push(child);
      });
    }
    const cpu = process.cpuUsage(cpuAtFirst);
    return { perLinkMs: (readyAt.at(-1) - readyAt[0]) / (links - 1), cpuPerLinkMs: (cpu.user + cpu.system) / 1000 / (links - 1) };
  } finally {
    for (const child of children) {
      try {
        process.kill(-child.pid, 'SIGKILL'); // our own child, in its own session
      } catch {
        // already gone
      }
    }
    closeSync(devNull);
    rmSync(root, { recursive: true, force: true });
  }
}
