#!/usr/bin/env node
// CI: the native module was built against the headers of the node running
// this, and it loads through the CLI's own loader (dist/process/native.js).
// The build never fails an install (it falls back to polling /proc), so
// without this check a CI run could test only the fallback. One line either
// way; exit 1 when it is not so. Usage: node .ci/check-native.mjs [VERSION]
import { readFileSync } from 'node:fs';

const fail = (message) => {
  process.stderr.write(`check-native: ${message}\n`);
  process.exit(1);
};

const [expected] = process.argv.slice(2);
const running = process.versions.node;
if (expected && running !== expected) fail(`running Node ${running}, not ${expected}: the PATH is not what CI meant`);

let headers = 'unknown';
try {
  const nodedir = readFileSync(new URL('../build/config.gypi', import.meta.url), 'utf8').match(/"nodedir": "([^"]*)"/)?.[1];
  const version = readFileSync(`${nodedir}/include/node/node_version.h`, 'utf8');
  const part = (name) => version.match(new RegExp(`#define NODE_${name}_VERSION (\\d+)`))?.[1];
  headers = `${part('MAJOR')}.${part('MINOR')}.${part('PATCH')}`;
} catch (error) {
  fail(`cannot tell which headers the native module was built against: ${error.message} (see build/native-build.log)`);
}
if (headers !== running) fail(`the native module was built against the headers of Node ${headers}, not of Node ${running}`);

const { loadNative, nativeUnavailableReason } = await import('../dist/process/native.js');
const native = loadNative();
if (!native) fail(`the native module does not load in Node ${running}: ${nativeUnavailableReason()}`);
process.stdout.write(`native module: built for Node ${headers}, loaded by Node ${running} (pidfd ${native.pidfd ? 'works' : `does not work: ${native.pidfdProblem}`}, posix_spawn ${native.canSpawn ? 'yes' : 'no'})\n`);
