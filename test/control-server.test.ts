// The control socket against broken and hostile clients: real Unix sockets,
// the real server, a handler that records what reached it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_REQUEST_BYTES, parseRequest, type Request } from '../src/control/protocol.js';
import { startControlServer, type Handler } from '../src/control/server.js';
import { VERSION } from '../src/vocabulary/version.js';
import { waitFor } from './support/wait.js';

let dir: string;
let path: string;
let server: Server | null = null;
let handled: Request[] = [];
let errors: string[] = [];
/** Every reply line carries the supervisor's version. */
const v = (line: object) => ({ ...line, version: VERSION });

const echo: Handler = (request, reply) => {
  handled.push(request);
  if (request.command === 'events' && request.follow) {
    const timer = setInterval(() => reply.send({ event: 'tick' }), 5);
    reply.onClose(() => clearInterval(timer));
    return;
  }
  reply.end({ ok: true, command: request.command });
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'proclaunch-ctl-'));
  path = join(dir, 'control.sock');
  handled = [];
  errors = [];
});
afterEach(() => {
  server?.close();
  server = null;
  rmSync(dir, { recursive: true, force: true });
});

async function serve(options = {}): Promise<Server> {
  server = await startControlServer(path, echo, { onError: (m) => errors.push(m), ...options });
  return server;
}

/** Connect, send raw bytes, collect reply lines until the server closes (or `count` lines). */
function exchange(raw: string | Buffer, count = Infinity): Promise<{ lines: Record<string, unknown>[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let text = '';
    const lines = () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    socket.on('data', (d) => {
      text += d;
      if (lines().length >= count) {
        socket.destroy();
        resolve({ lines: lines(), closed: false });
      }
    });
    socket.on('close', () => resolve({ lines: lines(), closed: true }));
    socket.on('error', reject);
    socket.write(raw);
  });
}

describe('parseRequest', () => {
  it('accepts the documented requests, with defaults', () => {
    expect(parseRequest('{"command":"status"}')).toEqual({ id: null, request: { command: 'status', names: [], usage: true, detail: false } });
    expect(parseRequest('{"id":7,"command":"stop","names":["web"]}')).toEqual({
      id: 7, request: { command: 'stop', names: ['web'], all: false, wait: true, timeoutMs: 60_000, rolling: false },
    });
    expect(parseRequest('{"command":"restart","names":["pool"],"rolling":true}')).toMatchObject({ request: { command: 'restart', rolling: true, wait: true } });
    expect(parseRequest('{"command":"events","since":"2026-11-23T10:00:00Z","follow":true}')).toMatchObject({ request: { follow: true, names: [], last: null } });
    expect(parseRequest('{"command":"events","names":["web"],"last":10}')).toMatchObject({ request: { names: ['web'], last: 10 } });
    // `logs`: the first protocol's one `name` (its old reply), or `names` (none: all).
    expect(parseRequest('{"command":"logs","name":"web"}')).toEqual({ id: null, request: { command: 'logs', name: 'web', names: [] } });
    expect(parseRequest('{"command":"logs"}')).toEqual({ id: null, request: { command: 'logs', name: null, names: [] } });
    expect(parseRequest('{"command":"ps","names":["w*"]}')).toEqual({ id: null, request: { command: 'ps', names: ['w*'] } });
  });
  it.each([
    ['not json', 'malformed request: not JSON'],
    ['[1,2]', 'malformed request: not a JSON object'],
    ['{"command":7}', 'malformed request: "command" must be a string'],
    ['{"command":"frobnicate"}', 'unknown command "frobnicate" (known: status, start, stop, restart, reload, signal, logs, events, ps, rescan, quit)'],
    ['{"command":"stop"}', 'stop: give "names" or "all": true'],
    ['{"command":"stop","names":"web"}', 'stop: "names" must be a list of names'],
    ['{"command":"stop","names":[""]}', 'stop: "names" must be a list of names'],
    ['{"command":"start","all":true,"timeoutMs":-1}', 'start: "timeoutMs" must be milliseconds (0 to 86400000)'],
    ['{"command":"signal","names":["web"]}', 'signal: "signal" must be a signal name or number'],
    ['{"command":"logs","name":7}', 'logs: "name" must be a profile name'],
    ['{"command":"logs","names":"web"}', 'logs: "names" must be a list of names'],
    ['{"command":"events","last":-1}', 'events: "last" must be a number of events (0 or more)'],
    ['{"command":"ps","names":[3]}', 'ps: "names" must be a list of names'],
    ['{"command":"events","since":"yesterday-ish"}', 'events: "since" must be an ISO 8601 time'],
    ['{"command":"quit","leaveRunning":"yes"}', 'quit: "leaveRunning" must be true or false'],
    ['{"command":"stop","names":["web"],"rolling":true}', 'stop: "rolling" is for restart only'],
    ['{"command":"restart","names":["web"],"rolling":"yes"}', 'restart: "rolling" must be true or false'],
    ['{"command":"restart","names":["web"],"rolling":true,"wait":false}', 'restart: "rolling" waits for each service to be ready: it cannot be given with "wait": false'],
  ])('%s → %s', (line, error) => {
    expect(parseRequest(line)).toMatchObject({ error });
  });
});

describe('control server', () => {
  it('listens owner-only (0600) and replaces a stale socket file', async () => {
    // A socket left by a process killed while listening: the file stays, nobody answers.
    const killed = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    expect(killed.signal).toBe('SIGKILL');
    expect(statSync(path).isSocket()).toBe(true);
    await serve();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect((await exchange('{"command":"status"}\n', 1)).lines).toEqual([v({ id: null, ok: true, command: 'status' })]);
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('refuses to replace something that is not a socket', async () => {
    writeFileSync(path, 'precious');
    await expect(serve()).rejects.toThrow(/exists and is not a socket/);
  });

  it('answers each malformed request with one error line and keeps the connection', async () => {
    await serve();
    const { lines } = await exchange('garbage\n{"command":"nope","id":"a"}\n{"command":"status","id":"b"}\n', 3);
    expect(lines).toEqual([
      v({ id: null, ok: false, error: 'malformed request: not JSON' }),
      v({ id: 'a', ok: false, error: expect.stringMatching(/^unknown command "nope"/) }),
      v({ id: 'b', ok: true, command: 'status' }),
    ]);
    expect(handled.map((r) => r.command)).toEqual(['status']);
  });

  it('refuses a request over 64 KiB and closes, without buffering more', async () => {
    await serve();
    const huge = `{"command":"status","names":["${'x'.repeat(MAX_REQUEST_BYTES)}"]}\n`;
    const result = await exchange(huge);
    expect(result.closed).toBe(true);
    expect(result.lines).toEqual([v({ id: null, ok: false, error: `request too long (more than ${MAX_REQUEST_BYTES} bytes)` })]);
    // The same with no newline at all: a client that never ends its line.
    const endless = await exchange('x'.repeat(MAX_REQUEST_BYTES + 10));
    expect(endless.lines[0]).toMatchObject({ ok: false });
    expect(handled).toEqual([]);
    expect((await exchange('{"command":"status"}\n', 1)).lines[0]).toMatchObject({ ok: true });
  });

  it('drops a client that connects and never writes, and serves others meanwhile', async () => {
    await serve({ idleTimeoutMs: 200 });
    const silent: Socket = connect(path);
    const dropped = new Promise((done) => silent.on('close', done));
    expect((await exchange('{"command":"status"}\n', 1)).lines[0]).toMatchObject({ ok: true });
    await dropped;
    expect(silent.destroyed).toBe(true);
  });

  it('survives a client that disconnects in the middle of a streamed reply', async () => {
    await serve();
    for (let i = 0; i < 5; i++) {
      const { lines } = await exchange('{"command":"events","follow":true}\n', 3);
      expect(lines).toEqual([v({ id: null, event: 'tick' }), v({ id: null, event: 'tick' }), v({ id: null, event: 'tick' })]);
    }
    expect((await exchange('{"command":"ps"}\n', 1)).lines[0]).toMatchObject({ ok: true, command: 'ps' });
    expect(errors).toEqual([]);
  });

  it('serves 200 clients at once', async () => {
    await serve();
    const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => exchange(`{"id":${i},"command":"status"}\n`, 1)));
    expect(replies.map((r) => r.lines[0]!.id)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(handled).toHaveLength(200);
  });

  it('a handler that throws gets an error reply; the server goes on', async () => {
    server = await startControlServer(path, () => {
      throw new Error('boom');
    }, { onError: (m) => errors.push(m) });
    expect((await exchange('{"command":"rescan"}\n', 1)).lines[0]).toEqual(v({ id: null, ok: false, error: 'internal error: boom' }));
    expect(errors).toEqual(['control: rescan failed: boom']);
    await waitFor('still serving', async () => (await exchange('{"command":"rescan"}\n', 1)).lines.length === 1);
  });
});
