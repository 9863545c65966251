// GET /api/v1/services/NAME/log across rotations (log_max_size 4k): the SSE
// follow goes on through them, and ?lines=N reads back into TAG.log.1 …, every
// numbered line once, in order.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Sandbox, sh } from '../support/sandbox.js';
import { http, httpAddressOf, sse, tokenOf } from '../support/http.js';

let box: Sandbox;
beforeEach(() => {
  box = new Sandbox();
});
afterEach(async () => {
  await box.cleanup();
});

const numbered = (lines: string[]) => lines.map((line) => Number(/^line (\d+)$/.exec(line)?.[1]));
const from = (first: number, count: number) => Array.from({ length: count }, (_, i) => first + i);

describe('a service’s log over HTTP, across rotations', () => {
  it('follow=1 streams on through the rotations without a gap or a repeat; lines=N reads across TAG.log.1 and TAG.log', async () => {
    // 2,000 lines, ~20 KB: some five rotations at 4 KiB, written over a second or so (after `go`, once the stream is open).
    const dir = box.profile('rot', {
      run: sh('while [ ! -e go ]; do sleep 0.01; done\ni=0; while [ $i -lt 2000 ]; do i=$((i+1)); echo "line $i"; [ $((i % 50)) = 0 ] && sleep 0.02; done\nexec sleep 1000'),
      log_max_size: '4k',
      log_keep: '10',
    });
    await box.startReady(['--http', '127.0.0.1:0']);
    const { port } = await httpAddressOf(box);
    const token = tokenOf(box);
    const stream = await sse(port, '/api/v1/services/rot/log?lines=0&follow=1', { token });
    expect(stream.status).toBe(200);
    box.write(join(dir, 'go'), '');
    await stream.waitFor('line 2000', (m) => m.data === 'line 2000', 20_000);
    stream.close();
    const log = join(box.stateDir, 'logs', 'rot.log');
    expect(existsSync(`${log}.2`)).toBe(true);
    expect(numbered(stream.messages.map((m) => m.data))).toEqual(from(1, 2000));

    const tail = await http(port, '/api/v1/services/rot/log?lines=1500', { token });
    expect(tail.status).toBe(200);
    // 1,500 lines, ~15 KB: from three files or more.
    expect(numbered(tail.text.split('\n').slice(0, -1))).toEqual(from(501, 1500));
  });
});
