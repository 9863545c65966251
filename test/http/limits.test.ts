// Slow and stalled clients, against the HTTP side of a real supervisor in
// this process (its limits made short, so that the test takes milliseconds
// where the defaults take seconds): a slow loris's headers, a trickled
// body, an SSE client that stops reading.
import { spawnSync } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { controlHandler } from '../../src/control/handlers.js';
import { startHttp, type HttpSide } from '../../src/http/index.js';
import { createLogger } from '../../src/log/logger.js';
import { http, tokenOf } from '../support/http.js';
import { inProcessPerTest } from '../support/in-process.js';
import { sh } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

const run = inProcessPerTest();
let side: HttpSide | null = null;
afterEach(() => {
  side?.close();
  side = null;
});

async function serve(limits: Parameters<typeof startHttp>[0]['limits']): Promise<number> {
  const { supervisor, eventLog } = await run.start();
  const logger = createLogger({ path: run.box.logPath, level: 'DEBUG' });
  side = await startHttp({
    address: { kind: 'tcp', host: '127.0.0.1', port: 0 },
    stateDir: run.box.stateDir,
    supervisor,
    eventLog,
    handle: controlHandler({ supervisor, eventLog, quit: () => {} }),
    logger,
    limits,
  });
  side.started();
  return Number(side.address.split(':').pop());
}

/** A raw connection: resolves once connected; `closedAt` says when the server dropped it. */
function raw(port: number): Promise<{ socket: Socket; closed: Promise<number>; received: () => string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (d) => (received += d.toString()));
    const closed = new Promise<number>((done) => socket.on('close', () => done(Date.now())));
    socket.on('error', () => {});
    socket.once('connect', () => resolve({ socket, closed, received: () => received }));
    socket.once('error', reject);
  });
}

describe('slow clients are dropped', () => {
  it('headers sent a byte at a time are dropped at the headers deadline, however often bytes come; others are served meanwhile', async () => {
    const port = await serve({ headersTimeoutMs: 400 });
    const loris = await raw(port);
    const began = Date.now();
    const request = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'a'.repeat(200)}`;
    let at = 0;
    const trickle = setInterval(() => !loris.socket.destroyed && loris.socket.write(request[at++ % request.length]!), 20);
    expect((await http(port, '/healthz')).status).toBe(200);
    const closedAt = await loris.closed;
    clearInterval(trickle);
    expect(closedAt - began).toBeGreaterThanOrEqual(350);
    expect(closedAt - began).toBeLessThan(5000);
    expect(loris.received()).toBe('');
  });

  it('an idle connection that never sends a request is dropped too', async () => {
    const port = await serve({ headersTimeoutMs: 300 });
    const idle = await raw(port);
    const began = Date.now();
    expect((await idle.closed) - began).toBeLessThan(5000);
  });

  it('a body trickled slower than the body deadline is dropped, and nothing is done', async () => {
    const port = await serve({ bodyTimeoutMs: 300 });
    run.box.profile('web', { run: sh('exec sleep 1000') });
    await run.box.runningPid('web');
    const token = tokenOf(run.box);
    const slow = await raw(port);
    const body = '{"signal":"KILL"}';
    slow.socket.write(
      `POST /api/v1/services/web/signal HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`,
    );
    const began = Date.now();
    expect((await slow.closed) - began).toBeLessThan(5000);
    expect(slow.received()).toBe('');
  });
});

describe('an SSE client that stops reading', () => {
  it('is dropped once its unsent buffer passes the bound (one WARN), and the supervisor goes on serving', async () => {
    const port = await serve({ streamBufferBytes: 64 * 1024 });
    // Told to go, a service floods its log (40 MB): far more than a stalled client's kernel buffers and our bound hold.
    run.box.profile('flood', { run: sh("read go < ./go; yes 'the quick brown fox jumps over the lazy dog, again and again' | head -c 40000000; exec sleep 1000"), log_max_size: '100M' });
    spawnSync('mkfifo', [join(run.box.profilesDir, 'flood', 'go')]);
    const token = tokenOf(run.box);
    await run.box.runningPid('flood');
    const stalled = await raw(port);
    stalled.socket.pause(); // reads nothing: the kernel's buffers fill, then ours
    stalled.socket.write(`GET /api/v1/services/flood/log?lines=0&follow=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n\r\n`);
    await waitFor('the stream is open', () => stalled.socket.bytesRead > 0 || stalled.socket.readableLength > 0);
    spawnSync('sh', ['-c', `echo go > ${join(run.box.profilesDir, 'flood', 'go')}`]);
    await run.box.waitLog('proclaunch', /^http: dropped a client of the log of flood that stopped reading \(\d+ KiB unsent\)$/, 20_000);
    stalled.socket.resume(); // to see the end it was given
    await stalled.closed;
    expect((await http(port, '/healthz')).status).toBe(200);
    expect((await http(port, '/api/v1/services/flood', { token })).json()).toMatchObject({ ok: true });
  });
});
