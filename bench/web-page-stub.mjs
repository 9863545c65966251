// A stand-in for `supervise --http` that serves the real page files and
// answers the API from memory: N made-up services, an event stream the
// caller pushes events into. It measures the page's own cost (render,
// applying events) without a supervisor's or 1,000 processes' share in it.
// Used by bench/web-page.mjs; the tests run the page against the real server.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PAGE = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'http', 'page');
const TYPES = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

const iso = (ms) => new Date(ms).toISOString().replace('Z', '+00:00');

/** @param {{ services: number }} options */
export async function startStub({ services: count }) {
  const started = Date.now();
  const services = new Map();
  for (let i = 1; i <= count; i++) {
    const name = `worker-${String(i).padStart(4, '0')}`;
    services.set(name, {
      name, state: 'running', substate: null, pid: 10_000 + i, since: iso(started), uptimeMs: 0, restarts: 0, lastExit: null,
      reason: null, held: false, down: false, startsInMs: null, ready: true, status: null, notifyStopping: false, probe: null,
      waitingFor: null, rssBytes: 3_500_000 + i, cpuSeconds: 0.01,
    });
  }
  const streams = new Set();
  let nextId = 1;
  const fresh = (s) => ({ ...s, uptimeMs: s.pid && s.since ? Date.now() - Date.parse(s.since) : null });

  const json = (res, status, value) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stub');
    const path = url.pathname;
    if (path === '/' || path.startsWith('/page/')) {
      const file = path === '/' ? 'index.html' : path.slice('/page/'.length);
      if (!/^[a-z-]+\.(html|js|css)$/.test(file)) return json(res, 404, { ok: false, error: 'no such file' });
      res.writeHead(200, { 'content-type': TYPES[/** @type {'js'} */ (file.split('.').pop())] });
      return res.end(readFileSync(join(PAGE, file)));
    }
    if (path === '/api/v1/session') return json(res, 200, { ok: true, readonly: false });
    if (path === '/api/v1/services') {
      const names = url.searchParams.get('names');
      const wanted = names ? names.split(',') : null;
      const list = [...services.values()].filter((s) => !wanted || wanted.includes(s.name)).map(fresh);
      return json(res, 200, { ok: true, services: list });
    }
    if (path === '/api/v1/events') return json(res, 200, { ok: true, events: [] });
    if (path === '/api/v1/events/stream') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.write(': hello\n\n');
      streams.add(res);
      req.on('close', () => streams.delete(res));
      return;
    }
    const log = path.match(/^\/api\/v1\/services\/([^/]+)\/log$/);
    if (log) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${decodeURIComponent(log[1] ?? '')} says hello\n\n`);
      req.on('close', () => res.end());
      return;
    }
    json(res, 404, { ok: false, error: 'not in the stub' });
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', () => done(undefined)));
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());

  return {
    url: `http://127.0.0.1:${port}/`,
    services,
    /** Change a service and tell the page, as the supervisor's event stream would. */
    event(name, kind, change) {
      const s = services.get(name);
      Object.assign(s, change);
      const record = { id: `${Date.now()}-${nextId++}`, time: iso(Date.now()), event: kind, profile: name, ...(s.pid ? { pid: s.pid } : {}) };
      const frame = `id: ${record.id}\nevent: ${kind}\ndata: ${JSON.stringify(record)}\n\n`;
      for (const res of streams) res.write(frame);
    },
    close: () => new Promise((done) => {
      for (const res of streams) res.end();
      server.closeAllConnections();
      server.close(() => done(undefined));
    }),
  };
}
