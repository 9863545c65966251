// The two drains of bounded output (native/output-sink.c and
// src/output/js-drain.ts), driven directly through a real FIFO: the same
// rules for both.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, constants, existsSync, lstatSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { holdPipe, releasePipe } from '../src/process/log-pipe.js';
import { loadNative } from '../src/process/native.js';
import { makeDrain, type Drain } from '../src/output/sinks.js';
import { CUT_MARK, OUTPUT_DEFAULTS, type OutputBounds } from '../src/vocabulary/output.js';
import { waitFor } from './support/wait.js';

const native = loadNative();
const STAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d $/;
// One listener per process for the native drain: the events of every test go through this.
const events: Array<[number, string, string, number]> = [];
const drains: Array<[string, Drain | null]> = [['native', null], ['js', null]];
for (const entry of drains) {
  if (entry[0] === 'native' && !native) continue;
  entry[1] = makeDrain(entry[0] === 'native' ? native : null);
  entry[1].onEvent((...event) => events.push(event));
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'proclaunch-drain-'));
  events.length = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the FIFOs', () => {
  it.skipIf(!native)('are made by mkfifo(3) in the native module: no process (here, no mkfifo on the PATH at all)', async () => {
    const path = join(dir, 'out', 'svc');
    const saved = process.env.PATH;
    process.env.PATH = join(dir, 'nothing-here');
    try {
      await holdPipe(path);
    } finally {
      process.env.PATH = saved;
    }
    expect(lstatSync(path).isFIFO()).toBe(true);
    expect(lstatSync(path).mode & 0o777).toBe(0o600);
    releasePipe(path);
  });
});

describe.each(drains)('the %s drain', (kind, drain) => {
  const d = drain!;
  let writer = -1;
  let held = -1;
  let id = 0;
  let log = '';

  function start(bounds: Partial<OutputBounds> = {}, path = join(dir, 'logs', 'svc.log')): void {
    const fifo = join(dir, 'fifo');
    spawnSync('mkfifo', [fifo]);
    held = openSync(fifo, constants.O_RDWR);
    writer = openSync(`/proc/self/fd/${held}`, constants.O_RDWR);
    log = path;
    id = d.add(openSync(`/proc/self/fd/${held}`, constants.O_RDWR | constants.O_NONBLOCK), log, { ...OUTPUT_DEFAULTS, ...bounds });
  }
  afterEach(() => {
    if (held < 0) return;
    d.release(id);
    d.flush(5000);
    closeSync(writer);
    closeSync(held);
    held = -1;
  });

  /** Into the FIFO, 32 KiB at a time, each drained before the next (the JS drain runs on this thread). */
  function feed(data: string | Buffer): void {
    const bytes = Buffer.from(data);
    for (let at = 0; at < bytes.length; at += 32 * 1024) {
      writeSync(writer, bytes.subarray(at, at + 32 * 1024));
      expect(d.flush(5000)).toBe(true);
    }
    if (bytes.length === 0) d.flush(5000);
  }
  const text = (path = log) => (existsSync(path) ? readFileSync(path, 'latin1') : '');
  /** Oldest first: PATH.keep … PATH.1, PATH. */
  const all = (keep: number) => [...Array(keep).keys()].map((i) => text(`${log}.${keep - i}`)).join('') + text();

  it.skipIf(kind === 'native' && !native)('writes lines as they come, a partial one at once, into a file it creates (and its directory)', () => {
    start();
    feed('one\ntwo\nprompt: ');
    expect(text()).toBe('one\ntwo\nprompt: ');
    feed('yes\n');
    expect(text()).toBe('one\ntwo\nprompt: yes\n');
  });

  it('rotates before a line that would not fit: every file within the bound, whole lines, nothing lost or repeated but what keep drops', () => {
    start({ maxBytes: 4096, keep: 3 });
    const lines = Array.from({ length: 600 }, (_, i) => `line ${String(i + 1).padStart(5, '0')} ${'x'.repeat(i % 90)}\n`);
    feed(lines.join(''));
    const files = [log, `${log}.1`, `${log}.2`, `${log}.3`];
    for (const file of files) {
      expect(statSync(file).size).toBeLessThanOrEqual(4096);
      expect(text(file).endsWith('\n')).toBe(true);
    }
    expect(existsSync(`${log}.4`)).toBe(false);
    const kept = all(3);
    expect(lines.join('').endsWith(kept)).toBe(true);
    expect(kept.startsWith('line ')).toBe(true);
    expect(kept.length).toBeGreaterThan(3 * 3000);
  });

  it('cuts a line longer than 64 KiB with a mark; the rest goes on as the next line', () => {
    start();
    const long = 'a'.repeat(2 * 65536 + 10);
    feed(`${long}\nshort\n`);
    const mark = CUT_MARK.trimEnd();
    expect(text().split('\n')).toEqual([`${'a'.repeat(65536)}${mark}`, `${'a'.repeat(65536)}${mark}`, 'a'.repeat(10), 'short', '']);
    expect(text().replaceAll(CUT_MARK, '')).toBe(`${long}\nshort\n`);
  });

  it('with a tiny log_max_size, cuts lines shorter so that a piece fits a file', () => {
    start({ maxBytes: 4096, keep: 5, timestamps: true });
    feed(`${'b'.repeat(10_000)}\n`);
    const pieces = all(5).split('\n').filter(Boolean);
    expect(pieces).toHaveLength(3);
    for (const file of [log, `${log}.1`, `${log}.2`]) expect(statSync(file).size).toBeLessThanOrEqual(4096);
    expect(pieces.map((p) => p.slice(30).replace(CUT_MARK.trimEnd(), '')).join('')).toBe('b'.repeat(10_000));
  });

  it('log_timestamps: each line starts with the time it arrived, ISO 8601', () => {
    start({ timestamps: true });
    const before = Date.now();
    feed('x\ny\n');
    const lines = text().split('\n').filter(Boolean);
    expect(lines.map((l) => l.slice(30))).toEqual(['x', 'y']);
    for (const line of lines) {
      expect(line.slice(0, 30)).toMatch(STAMP);
      expect(Date.parse(line.slice(0, 29))).toBeGreaterThanOrEqual(before - 1000);
    }
  });

  it('passes binary output through unchanged', () => {
    start();
    const data = randomBytes(300_000);
    feed(data);
    expect(readFileSync(log).equals(data)).toBe(true);
  });

  it('cannot write: drops the output (the writer never blocks), says so once, and writes again when it can, saying how much was lost', async () => {
    writeFileSync(join(dir, 'logs'), 'a file where the directory should be');
    start();
    feed('lost\n'.repeat(60_000)); // 300 KB: would block a writer if it stayed in the pipe
    feed('lost too\n');
    await waitFor('the failing event', () => events.some((e) => e[0] === id)); // the native drain's come through the event loop
    expect(events.filter((e) => e[0] === id)).toEqual([[id, 'failing', 'ENOTDIR', 0]]);
    rmSync(join(dir, 'logs'));
    feed('back\n');
    expect(text()).toBe(`[proclaunch: ${300_000 + 9} bytes of output dropped: Not a directory]\nback\n`);
    await waitFor('the writing event', () => events.filter((e) => e[0] === id).length === 2);
    expect(events.filter((e) => e[0] === id)).toEqual([[id, 'failing', 'ENOTDIR', 0], [id, 'writing', '', 300_009]]);
  });

  it('follows a file moved or removed by someone else (logrotate, rm): a new one, nothing written into the old', () => {
    start();
    feed('a\n');
    renameSync(log, `${log}.old`);
    feed('b\n');
    rmSync(log);
    feed('c\n');
    expect([text(`${log}.old`), text()]).toEqual(['a\n', 'c\n']);
  });

  it('release drains what is left and ends the last line; a lower keep removes the files beyond it', async () => {
    start({ maxBytes: 4096, keep: 3 });
    feed('z'.repeat(100).concat('\n').repeat(200));
    expect(existsSync(`${log}.3`)).toBe(true);
    d.set(id, { ...OUTPUT_DEFAULTS, maxBytes: 4096, keep: 1 });
    writeSync(writer, 'last words');
    d.release(id);
    d.flush(5000);
    await waitFor('released', () => text().endsWith('last words\n'));
    expect([existsSync(`${log}.1`), existsSync(`${log}.2`), existsSync(`${log}.3`)]).toEqual([true, false, false]);
    closeSync(writer);
    closeSync(held);
    held = -1;
  });
});
