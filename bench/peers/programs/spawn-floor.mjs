#!/usr/bin/env node
// The floor of a bulk start (issue 16): a bare Node loop that reads DIR and
// starts DIR/NAME/run for each entry with posix_spawn — proclaunch's native
// module (build/Release/proclaunch_native.node, native/proclaunch.c), called
// as src/process/native-spawn.ts calls it (new session, stdio on /dev/null,
// the entry's directory as cwd), with nothing else: no profile read, no state
// machine, no record, no log, no watcher, no restart. What a Node supervisor
// cannot go below. On SIGTERM it sends SIGTERM to every service and exits.
//
//   node bench/peers/programs/spawn-floor.mjs DIR BINDING
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const [dir, bindingPath] = process.argv.slice(2);
const native = createRequire(import.meta.url)(bindingPath);
const envp = Object.entries(process.env).map(([name, value]) => `${name}=${value}`);
const NULL_FD = -1; // the binding's /dev/null

const pids = [];
for (const name of readdirSync(dir)) {
  if (name.startsWith('.')) continue;
  const cwd = join(dir, name);
  const run = join(cwd, 'run');
  pids.push(native.spawn(run, [run], envp, cwd, NULL_FD, NULL_FD, NULL_FD));
}

process.on('SIGTERM', () => {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  process.exit(0);
});
// Nothing else keeps the event loop alive (the children are not libuv's): wait for SIGTERM.
setInterval(() => undefined, 2 ** 30);
