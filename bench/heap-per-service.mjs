#!/usr/bin/env node
// The live heap per idle service (issue 16), measured from outside with no
// support in src/: proclaunch is started with NODE_OPTIONS
// `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=DIR` on N = 1 and on
// N = 500 services (plain, as in the bulk section); 5 s after the last one is
// running (the moment the bulk section takes PSS) it gets SIGUSR2 and V8
// writes a heap snapshot (after a full garbage collection, so only what is
// live). The heap is the sum of the snapshot's nodes' self sizes; per service
// is (heap at 500 − heap at 1) / 499, with the object kinds that grow most.
// Used by bench.mjs (section 4); alone:
//
//   npm run build && node bench/heap-per-service.mjs [--n 500] [--quick] [--keep DIR]
//
// --keep DIR: also keep the two snapshots there (heap-1.heapsnapshot, heap-500.heapsnapshot), for
// Chrome DevTools' Memory tab (its Comparison view shows what each service adds).
//
// NODE_OPTIONS rather than flags on the command line: it reaches the
// supervisor even if a launcher re-executes Node. The snapshot is asked of the
// services' parent (the supervisor itself, whatever started it).
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isSleep, killIfSame, now, pause, readPid, statFields, until } from './lib.mjs';
import proclaunch from './peers/proclaunch.mjs';

/** What a snapshot holds: the total self size in bytes, the node count, and bytes per kind of object. */
export function heapOfSnapshot(snapshot) {
  const { node_fields: fields, node_types: types } = snapshot.snapshot.meta;
  const stride = fields.length;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const typeNames = types[typeAt];
  const { nodes, strings } = snapshot;
  const byKind = new Map();
  let bytes = 0;
  for (let i = 0; i < nodes.length; i += stride) {
    const size = nodes[i + sizeAt];
    bytes += size;
    const type = typeNames[nodes[i + typeAt]];
    // Objects and closures by constructor or function name; the rest (strings, code, arrays...) by type.
    const kind = type === 'object' || type === 'closure' || type === 'native' ? `${strings[nodes[i + nameAt]].slice(0, 60) || '(anonymous)'} (${type})` : `(${type})`;
    byKind.set(kind, (byKind.get(kind) ?? 0) + size);
  }
  return { bytes, nodes: nodes.length / stride, byKind };
}

/** Wait for V8 to finish writing the snapshot in `dir`, then read it. */
async function readSnapshot(dir, timeoutMs, keepAs) {
  const deadline = now() + timeoutMs;
  let lastSize = -1;
  for (;;) {
    const file = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot'));
    if (file) {
      const path = join(dir, file);
      const size = statSync(path).size;
      // Done: the size held still for 200 ms and the JSON is closed (its last array is the strings).
      if (size === lastSize && size > 0) {
        try {
          const heap = heapOfSnapshot(JSON.parse(readFileSync(path, 'utf8')));
          if (keepAs) copyFileSync(path, keepAs);
          return heap;
        } catch {
          // not complete after all: wait on
        }
      }
      lastSize = size;
    }
    if (now() > deadline) throw new Error(`no complete heap snapshot in ${timeoutMs / 1000} s`);
    await pause(200);
  }
}

/** proclaunch on `n` plain services; the live heap `settleMs` after the last is running. */
async function liveHeap(n, { scratch, settleMs, keep }) {
  const dir = mkdtempSync(join(scratch, `heap-${n}-`));
  const pidDir = join(dir, 'pids');
  const snapshots = join(dir, 'snapshots');
  mkdirSync(pidDir);
  mkdirSync(snapshots);
  const services = [...Array(n).keys()].map((i) => ({ name: `s${i}`, kind: 'plain', pidFile: join(pidDir, `s${i}`) }));
  const env = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${snapshots}`.trim() };
  const inst = proclaunch.create(dir, { env });
  try {
    inst.prepare(services);
    await inst.start();
    let i = 0;
    await until(`${n} services running`, () => {
      while (i < n && readPid(services[i].pidFile)) i++;
      return i === n;
    }, 60_000 + n * 300);
    await pause(settleMs);
    const supervisor = Number(statFields(readPid(services[0].pidFile))?.fields[1]);
    if (!(supervisor > 1) || supervisor === process.pid) throw new Error('the services\' parent is not a supervisor');
    process.kill(supervisor, 'SIGUSR2');
    return { n, ...(await readSnapshot(snapshots, 60_000, keep && join(keep, `heap-${n}.heapsnapshot`))) };
  } finally {
    const pids = services.map((s) => readPid(s.pidFile)).filter(Boolean);
    await inst.stopAll().catch(() => undefined);
    await inst.close();
    for (const pid of pids) if (isSleep(pid)) killIfSame(pid, null);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The heap at N = 1 and N = `n`, and what grows per service. */
export async function heapPerService({ quick = false, n = quick ? 50 : 500, scratch = tmpdir(), keep = null, log = () => undefined } = {}) {
  if (!existsSync(join(fileURLToPath(new URL('..', import.meta.url)), 'dist', 'cli', 'main.js'))) return { error: 'dist/ is missing: run npm run build' };
  const settleMs = quick ? 500 : 5_000;
  log(`heap: proclaunch on 1 service, a heap snapshot ${settleMs / 1000} s after it runs`);
  if (keep) mkdirSync(keep, { recursive: true });
  const one = await liveHeap(1, { scratch, settleMs, keep });
  log(`heap: proclaunch on ${n} services, a heap snapshot ${settleMs / 1000} s after the last runs`);
  const many = await liveHeap(n, { scratch, settleMs, keep });
  const growth = [...many.byKind]
    .map(([kind, bytes]) => ({ kind, perService: (bytes - (one.byKind.get(kind) ?? 0)) / (n - 1) }))
    .sort((a, b) => b.perService - a.perService);
  // Compiled code grows with how much of proclaunch has run (and been optimized), not with what each service holds.
  const code = (heap) => heap.byKind.get('(code)') ?? 0;
  const perServiceNoCode = (many.bytes - code(many) - (one.bytes - code(one))) / (n - 1);
  return { one, many, settleMs, perService: (many.bytes - one.bytes) / (n - 1), perServiceNoCode, growth };
}

const kb = (bytes) => `${(bytes / 1000).toFixed(1)} KB`;
const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** The report's lines. */
export function heapReport(heap, top = 8) {
  if (!heap) return ['Not measured.'];
  if (heap.error) return [`Not measured: ${heap.error}`];
  const { one, many, perService, perServiceNoCode, growth, settleMs } = heap;
  const lines = [
    `Heap snapshots (\`--heapsnapshot-signal\`: taken after a full GC, so only live objects) ${settleMs / 1000} s after the last service is running: ` +
      `**${kb(perService)} per idle service** = (${mib(many.bytes)} at N = ${many.n} − ${mib(one.bytes)} at N = 1) / ${many.n - 1}; ` +
      `${kb(perServiceNoCode)} without compiled code (\`(code)\`: it grows with how much of proclaunch has run and been optimized, not per service); ` +
      `${one.nodes.toLocaleString('en')} → ${many.nodes.toLocaleString('en')} heap objects. What grows most, per service:`,
    '',
    '| kind (constructor or function; type) | bytes per service |',
    '|---|---:|',
  ];
  for (const g of growth.slice(0, top)) lines.push(`| ${g.kind.replace(/\|/g, '\\|')} | ${g.perService.toFixed(0)} |`);
  return lines;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const option = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const n = option('--n') === undefined ? undefined : Number(option('--n'));
  const heap = await heapPerService({ quick: args.includes('--quick'), n, keep: option('--keep') ?? null, log: (line) => console.error(line) });
  console.log(heapReport(heap, 15).join('\n'));
}
