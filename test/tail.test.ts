import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { follow, lastLines, sizeOf, tail } from '../src/output/tail.js';
import { waitFor } from './support/wait.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'proclaunch-tail-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** What `tail -n N` prints, computed the obvious (whole-file) way. */
function reference(content: string, n: number): string {
  if (n <= 0 || content === '') return '';
  const trailing = content.endsWith('\n');
  const lines = (trailing ? content.slice(0, -1) : content).split('\n');
  return lines.slice(-n).join('\n') + (trailing ? '\n' : '');
}

describe('lastLines', () => {
  it('returns exactly the last N lines', async () => {
    const path = join(dir, 'a.log');
    writeFileSync(path, 'one\ntwo\nthree\nfour\n');
    expect(await lastLines(path, 1)).toBe('four\n');
    expect(await lastLines(path, 2)).toBe('three\nfour\n');
    expect(await lastLines(path, 4)).toBe('one\ntwo\nthree\nfour\n');
  });

  it('keeps a last line without a newline as a line', async () => {
    const path = join(dir, 'a.log');
    writeFileSync(path, 'one\ntwo\nthree');
    expect(await lastLines(path, 1)).toBe('three');
    expect(await lastLines(path, 2)).toBe('two\nthree');
  });

  it('counts empty lines', async () => {
    const path = join(dir, 'a.log');
    writeFileSync(path, 'x\n\n\n');
    expect(await lastLines(path, 2)).toBe('\n\n');
    expect(await lastLines(path, 3)).toBe('x\n\n\n');
  });

  it('returns the whole file when N is larger', async () => {
    const path = join(dir, 'a.log');
    writeFileSync(path, 'one\ntwo\n');
    expect(await lastLines(path, 100)).toBe('one\ntwo\n');
  });

  it('returns nothing for N=0, an empty file or a missing file', async () => {
    const path = join(dir, 'a.log');
    writeFileSync(path, 'one\ntwo\n');
    expect(await lastLines(path, 0)).toBe('');
    writeFileSync(path, '');
    expect(await lastLines(path, 5)).toBe('');
    expect(await lastLines(join(dir, 'missing.log'), 5)).toBe('');
  });

  it('passes multi-byte characters through', async () => {
    const path = join(dir, 'a.log');
    writeFileSync(path, 'ä\n€ ok\n🙂\n');
    expect(await lastLines(path, 2)).toBe('€ ok\n🙂\n');
  });

  // 16-byte lines put a newline exactly on every 64 KiB chunk edge; 13-byte lines cut lines across edges.
  it.each([16, 13])('reads a file much bigger than one chunk (%i-byte lines)', async (width) => {
    const path = join(dir, 'big.log');
    const content = Array.from({ length: 200_000 }, (_, i) => `${String(i).padStart(width - 1, '0')}\n`).join('');
    writeFileSync(path, content);
    for (const n of [1, 10, 4095, 4096, 4097, 10_000, 200_000, 300_000]) {
      expect(await lastLines(path, n), `n=${n}`).toBe(reference(content, n));
    }
    writeFileSync(path, content.slice(0, -1)); // and without the final newline
    for (const n of [1, 4096, 10_000]) {
      expect(await lastLines(path, n), `n=${n}`).toBe(reference(content.slice(0, -1), n));
    }
  });

  it('tail() says where it stopped reading, for follow()', async () => {
    const path = join(dir, 'a.log');
    writeFileSync(path, 'one\ntwo\n');
    expect(await tail(path, 1)).toEqual({ text: 'two\n', end: 8 });
    expect(await tail(path, 0)).toEqual({ text: '', end: 8 });
    expect(await tail(join(dir, 'missing.log'), 1)).toEqual({ text: '', end: 0 });
    expect(sizeOf(path)).toBe(8);
    expect(sizeOf(join(dir, 'missing.log'))).toBe(0);
  });
});

describe('follow', () => {
  const stops: Array<() => void> = [];
  afterEach(() => {
    for (const stop of stops.splice(0)) stop();
  });

  /** Follow `path`, collecting the output. */
  function collect(path: string, fromOffset: number, pollMs?: number): { text(): string; stop(): void } {
    const chunks: Buffer[] = [];
    const follower = follow(path, fromOffset, (chunk) => chunks.push(chunk), { pollMs });
    stops.push(() => follower.stop());
    return { text: () => Buffer.concat(chunks).toString(), stop: () => follower.stop() };
  }

  async function receives(follower: { text(): string }, expected: string): Promise<void> {
    await waitFor(`output ${JSON.stringify(expected)}`, () => follower.text() === expected && true);
  }

  it('passes on appends from the offset, woken by the watch alone', async () => {
    const path = join(dir, 'a.log');
    writeFileSync(path, 'before\n');
    // An hour-long poll: only fs.watch can deliver these in time.
    const follower = collect(path, sizeOf(path), 3_600_000);
    appendFileSync(path, 'one\n');
    await receives(follower, 'one\n');
    appendFileSync(path, 'two\n');
    appendFileSync(path, 'three\n');
    await receives(follower, 'one\ntwo\nthree\n');
  });

  it('passes on bytes as they are, however much arrives at once', async () => {
    const path = join(dir, 'a.log');
    writeFileSync(path, '');
    const chunks: Buffer[] = [];
    const follower = follow(path, 0, (chunk) => chunks.push(chunk), { pollMs: 50 });
    stops.push(() => follower.stop());
    const bytes = Buffer.alloc(300_000, 'ab\xff\x00\n', 'latin1');
    appendFileSync(path, bytes);
    await waitFor('all bytes', () => Buffer.concat(chunks).length === bytes.length);
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
  });

  it('starts over after the file is truncated', async () => {
    const path = join(dir, 'a.log');
    writeFileSync(path, 'first line\nsecond line\n');
    const follower = collect(path, 0, 50);
    await receives(follower, 'first line\nsecond line\n');
    truncateSync(path, 0);
    appendFileSync(path, 'after\n');
    await receives(follower, 'first line\nsecond line\nafter\n');
    appendFileSync(path, 'more\n');
    await receives(follower, 'first line\nsecond line\nafter\nmore\n');
  });

  it('reopens the path after rotation by rename, and repeats nothing', async () => {
    const path = join(dir, 'a.log');
    writeFileSync(path, 'old 1\n');
    const follower = collect(path, 0, 50);
    await receives(follower, 'old 1\n');
    renameSync(path, `${path}.1`);
    appendFileSync(`${path}.1`, 'old 2\n'); // written to the rotated file: may or may not arrive
    writeFileSync(path, 'new 1\n');
    await waitFor('the new file', () => follower.text().endsWith('new 1\n'));
    appendFileSync(path, 'new 2\n');
    await waitFor('the new file', () => follower.text().endsWith('new 1\nnew 2\n'));
    expect(['old 1\nnew 1\nnew 2\n', 'old 1\nold 2\nnew 1\nnew 2\n']).toContain(follower.text());
  });

  it('waits for a file that does not exist yet, and reads it from its start', async () => {
    const path = join(dir, 'a.log');
    const follower = collect(path, 999, 50);
    writeFileSync(path, 'hello\n');
    await receives(follower, 'hello\n');
    appendFileSync(path, 'world\n');
    await receives(follower, 'hello\nworld\n');
  });

  it('waits for the directory too (the poll sets up the watch later)', async () => {
    const path = join(dir, 'logs', 'a.log');
    const follower = collect(path, 0, 20);
    mkdirSync(join(dir, 'logs'));
    writeFileSync(path, 'hello\n');
    await receives(follower, 'hello\n');
    appendFileSync(path, 'world\n');
    await receives(follower, 'hello\nworld\n');
  });

  it('stop() stops the output and closes the file', async () => {
    const path = join(dir, 'a.log');
    writeFileSync(path, '');
    const openOnPath = (): boolean =>
      readdirSync('/proc/self/fd').some((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === path;
        } catch {
          return false; // the descriptor readdirSync used, closed by now
        }
      });
    const stopped = collect(path, 0, 20);
    expect(openOnPath()).toBe(true);
    stopped.stop();
    expect(openOnPath()).toBe(false);
    // Proof of absence needs a witness: it sees the append, the stopped follower had the same chance.
    const witness = collect(path, 0, 20);
    appendFileSync(path, 'after stop\n');
    await receives(witness, 'after stop\n');
    expect(stopped.text()).toBe('');
  });

  /**
   * MAIN (after `follow` and `path` are set) in a process of its own, so that a leftover timer or watch
   * shows as a process that never exits; resolves with how it exited.
   */
  async function runFollower(main: string): Promise<{ code: number; stdout: string; stderr: string }> {
    const source = readFileSync(new URL('../src/output/tail.ts', import.meta.url), 'utf8');
    const options = { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 };
    writeFileSync(join(dir, 'tail.mjs'), ts.transpileModule(source, { compilerOptions: options }).outputText);
    writeFileSync(join(dir, 'main.mjs'), `import { appendFileSync } from 'node:fs';\nimport { follow } from './tail.mjs';\nconst path = process.argv[2];\n${main}`);
    const child = spawn(process.execPath, [join(dir, 'main.mjs'), join(dir, 'a.log')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    try {
      const code = await waitFor(() => `the follower process to exit by itself (stderr: ${stderr})`, () => child.exitCode ?? false);
      return { code, stdout, stderr };
    } finally {
      if (child.exitCode === null) child.kill();
    }
  }

  it('out() returning false stops it, even in the first read, before follow() has returned: nothing left, nothing thrown', async () => {
    writeFileSync(join(dir, 'a.log'), 'there already\n');
    const run = await runFollower(`follow(path, 0, (chunk) => { process.stdout.write(chunk); return false; }, { pollMs: 20 });
       appendFileSync(path, 'more\\n');`);
    expect(run).toEqual({ code: 0, stdout: 'there already\n', stderr: '' });
  });

  it('leaves nothing behind after stop(), even from inside out(): the process exits', async () => {
    writeFileSync(join(dir, 'a.log'), ''); // open from the start: stop() comes in the middle of a check
    const { code, stdout } = await runFollower(`const follower = follow(path, 0, (chunk) => { process.stdout.write(chunk); follower.stop(); }, { pollMs: 20 });
       appendFileSync(path, 'hello\\n');`);
    expect(code).toBe(0);
    expect(stdout).toBe('hello\n');
  });
});
