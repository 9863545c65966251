// `supervise --http`: the JSON API, the SSE streams, the probes and the
// metrics of a real supervisor, with real services, over real HTTP.
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Sandbox, sh } from '../support/sandbox.js';
import { http, httpAddressOf, sse, tokenOf } from '../support/http.js';
import { waitFor } from '../support/wait.js';

let box: Sandbox;
beforeEach(() => {
  box = new Sandbox();
});
afterEach(async () => {
  await box.cleanup();
});

const sleeper = { run: sh('exec sleep 1000'), restart: '' };

async function startWithHttp(extra: string[] = []): Promise<{ port: number; token: string }> {
  await box.startReady(['--http', '127.0.0.1:0', ...extra]);
  const { port } = await httpAddressOf(box);
  return { port, token: tokenOf(box) };
}

describe('the JSON API', () => {
  it('status of all, of a name, of a glob; 404 when nothing matches; actions say who asked (by: http full)', async () => {
    box.profile('web', sleeper);
    box.profile('pool', { ...sleeper, instances: '2' });
    const { port, token } = await startWithHttp();
    const pid = await box.runningPid('web');
    await box.runningPid('pool@2');

    const all = await http(port, '/api/v1/services', { token });
    expect(all.status).toBe(200);
    expect(all.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(all.headers['cache-control']).toBe('no-store');
    const services = all.json().services as Array<Record<string, unknown>>;
    expect(services.map((s) => s.name)).toEqual(['pool@1', 'pool@2', 'web']);
    expect(services[2]).toMatchObject({ name: 'web', state: 'running', pid, ready: true });
    expect(services[2]!.rssBytes).toBeGreaterThan(0);
    expect(typeof services[2]!.cpuSeconds).toBe('number');

    expect((await http(port, '/api/v1/services/pool', { token })).json().services).toHaveLength(2);
    expect((await http(port, '/api/v1/services?names=po*,nope', { token })).json()).toMatchObject({ unmatched: ['nope'] });
    expect((await http(port, `/api/v1/services/${encodeURIComponent('pool@*')},web`, { token })).json().services).toHaveLength(3);
    const missing = await http(port, '/api/v1/services/nope', { token });
    expect(missing.status).toBe(404);
    expect(missing.json()).toEqual({ ok: false, error: 'no profile matches "nope"' });

    const stopped = await http(port, '/api/v1/services/web/stop', { token, method: 'POST' });
    expect(stopped.status).toBe(200);
    expect(stopped.json()).toEqual({ ok: true, results: [{ name: 'web', ok: true, state: 'stopped.idle', pid: null, message: `stopped pid ${pid}` }] });
    const started = await http(port, '/api/v1/services/web/start', { token, body: { wait: true, timeout: 20 } });
    expect(started.json()).toMatchObject({ ok: true, results: [{ name: 'web', ok: true, state: 'running' }] });
    const events = (await http(port, '/api/v1/events', { token })).json().events as Array<Record<string, unknown>>;
    expect(events.filter((e) => e.profile === 'web').map((e) => [e.event, e.by ?? null])).toEqual([
      ['added', null],
      ['started', null],
      ['stopped', 'http full'],
      ['started', 'http full'],
    ]);
    for (const e of events) expect(e.id).toMatch(/^\d+-\d+$/);
    // `since` as `events --since` takes it: exactly ISO 8601 or a duration ago, never Date.parse's guesses.
    const recent = (await http(port, '/api/v1/events?since=1h', { token })).json();
    expect(recent.error).toBeUndefined();
    expect(recent.events.length).toBeGreaterThanOrEqual(events.length);
    for (const bad of ['10', 'March%207']) {
      const refused = await http(port, `/api/v1/events?since=${bad}`, { token });
      expect([bad, refused.status, refused.json().error]).toEqual([bad, 400, expect.stringMatching(/^"since" must be an ISO 8601 time/)]);
    }

    expect((await http(port, '/api/v1/services/nope/stop', { token, method: 'POST' })).status).toBe(404);
    const badGlob = await http(port, '/api/v1/services/web%5B', { token });
    expect([badGlob.status, badGlob.json().error]).toEqual([400, expect.stringMatching(/^bad pattern "web\[": its "\[" has no closing "\]"/)]);
    expect((await http(port, '/api/v1/services/web%5B/stop', { token, method: 'POST' })).status).toBe(400);
    expect((await http(port, '/api/v1/services?names=web%5B', { token })).status).toBe(400);
    const signal = await http(port, '/api/v1/services/web/signal', { token, body: { signal: 'BOGUS' } });
    expect(signal.status).toBe(400);
    expect(signal.json().error).toMatch(/unknown signal/);
    expect((await http(port, '/api/v1/services/web/signal', { token, body: {} })).status).toBe(400);
    expect((await http(port, '/api/v1/services/web/start', { token, body: { timeout: 'soon' } })).status).toBe(400);
    const ps = (await http(port, '/api/v1/ps', { token })).json().processes as Array<Record<string, unknown>>;
    expect(ps.map((p) => p.profile).sort()).toEqual(['pool@1', 'pool@2', 'web']);
  });

  it('a service’s log: the last lines as text, then new lines on an SSE stream (follow=1)', async () => {
    box.profile('talker', { run: sh('echo one; echo two; echo three; read line < ./fifo; echo "after: $line"; exec sleep 1000') });
    spawnSync('mkfifo', [join(box.profilesDir, 'talker', 'fifo')]);
    const { port, token } = await startWithHttp();
    await waitFor('three lines', () => box.serviceLog('talker').includes('three'));
    const text = await http(port, '/api/v1/services/talker/log?lines=2', { token });
    expect(text.status).toBe(200);
    expect(text.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(text.text).toBe('two\nthree\n');
    expect((await http(port, '/api/v1/services/talker/log?lines=-1', { token })).status).toBe(400);
    expect((await http(port, '/api/v1/services/nope/log', { token })).status).toBe(404);

    const stream = await sse(port, '/api/v1/services/talker/log?lines=1&follow=1', { token });
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    await stream.waitFor('the last line', (m) => m.data === 'three');
    spawnSync('sh', ['-c', `echo 'hi\rthere' > ${join(box.profilesDir, 'talker', 'fifo')}`]);
    await stream.waitFor('the new line', (m) => m.data === 'after: hi\\rthere');
    stream.close();
  });

  it('the event stream: kill -9 shows crashed and started; Last-Event-ID resumes after it, without repeats', async () => {
    box.profile('web', sleeper);
    const { port, token } = await startWithHttp();
    const first = await box.runningPid('web');
    const stream = await sse(port, '/api/v1/events/stream', { token });
    process.kill(first, 'SIGKILL');
    const crashed = await stream.waitFor('crashed', (m) => m.event === 'crashed');
    const started = await stream.waitFor('started', (m) => m.event === 'started');
    expect(JSON.parse(crashed.data)).toMatchObject({ id: crashed.id, event: 'crashed', profile: 'web', pid: first, signal: 'SIGKILL' });
    const second = JSON.parse(started.data).pid as number;
    expect(second).toBe(await box.runningPid('web', 2));
    stream.close();

    const resumed = await sse(port, '/api/v1/events/stream', { token, headers: { 'Last-Event-ID': crashed.id! } });
    await resumed.waitFor('the started after it', (m) => m.id === started.id);
    process.kill(second, 'SIGKILL');
    await resumed.waitFor('the next crash', (m) => m.event === 'crashed' && JSON.parse(m.data).pid === second);
    expect(resumed.messages.filter((m) => m.id === started.id)).toHaveLength(1);
    expect(resumed.messages.some((m) => m.id === crashed.id)).toBe(false);
    resumed.close();
    expect((await http(port, '/api/v1/events/stream', { token, headers: { 'Last-Event-ID': 'garbage' } })).status).toBe(400);
  });

  it('/metrics: the SPEC’s names, whole process groups, and `promtool check metrics` passes', async () => {
    box.profile('web', { run: sh('sleep 1000 & sleep 1000 & exec sleep 1000'), restart: '' });
    box.profile('bad', { run: sh('exit 3') }); // no restart: it stays stopped.idle, code 3
    box.profile('held', { ...sleeper, down: '' });
    const { port } = await startWithHttp();
    await box.runningPid('web');
    await waitFor('web has its 3 processes', () => (spawnSync('pgrep', ['-g', String(readPgid(box))]).stdout.toString().trim().split('\n').length === 3 ? true : null));
    await box.waitEvent({ profile: 'bad', event: 'crashed' });
    await waitFor('bad settled', async () => (await box.status('bad'))[0]!.substate === 'idle');
    const reply = await http(port, '/metrics'); // no token: a scraper's path
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const m = reply.text;
    expect(m).toMatch(/^proclaunch_service_up\{service="web"\} 1$/m);
    expect(m).toMatch(/^proclaunch_service_up\{service="held"\} 0$/m);
    expect(m).toMatch(/^proclaunch_service_ready\{service="web"\} 1$/m);
    expect(m).toMatch(/^proclaunch_service_state\{service="web",state="running"\} 1$/m);
    expect(m).toMatch(/^proclaunch_service_state\{service="bad",state="stopped\.idle"\} 1$/m);
    expect(m).toMatch(/^proclaunch_service_restarts_total\{service="web"\} 0$/m);
    expect(m).toMatch(/^proclaunch_service_start_time_seconds\{service="web"\} \d+(\.\d+)?$/m);
    expect(m).toMatch(/^proclaunch_service_last_exit_code\{service="bad"\} 3$/m);
    expect(m).toMatch(/^proclaunch_services\{state="running"\} 1$/m);
    expect(m).toMatch(/^proclaunch_events_total\{event="crashed"\} [1-9]\d*$/m);
    expect(m).toMatch(/^process_resident_memory_bytes \d+$/m);
    expect(m).toMatch(/^process_cpu_seconds_total [\d.e-]+$/m);
    expect(m).toMatch(/^process_open_fds \d+$/m);
    // Three sleeps of about the same size: the group's RSS is about three times one of them.
    const rss = Number(/^proclaunch_service_memory_rss_bytes\{service="web"\} (\d+)$/m.exec(m)![1]);
    const one = Number(readFileSync(`/proc/${await box.runningPid('web')}/statm`, 'utf8').split(' ')[1]) * 4096;
    expect(rss).toBeGreaterThan(2.5 * one);
    expect(m).toMatch(/^proclaunch_service_cpu_seconds_total\{service="web"\} [\d.]+$/m);

    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: m, encoding: 'utf8' });
    if (promtool.error) {
      console.warn(`promtool check metrics skipped: ${promtool.error.message} (scripts/ensure-test-tools.sh installs the prometheus package)`);
      return;
    }
    expect(`${promtool.stdout}${promtool.stderr}`).toBe('');
    expect(promtool.status).toBe(0);
  });

  it('/healthz answers ok; /readyz is 503 with the names until every service that should run is ready', async () => {
    box.profile('web', sleeper);
    box.profile('slow', { ...sleeper, 'notification-fd': '3', run: sh('read go < ./go; echo >&3; exec sleep 1000') });
    spawnSync('mkfifo', [join(box.profilesDir, 'slow', 'go')]);
    box.profile('held', { ...sleeper, down: '' });
    const { port } = await startWithHttp();
    await box.runningPid('web');
    await box.runningPid('slow');
    const health = await http(port, '/healthz');
    expect([health.status, health.text]).toEqual([200, 'ok\n']);
    const notReady = await http(port, '/readyz');
    expect(notReady.status).toBe(503);
    expect(notReady.json()).toEqual({ ok: false, error: 'not ready: slow', notReady: ['slow'] });
    spawnSync('sh', ['-c', `echo go > ${join(box.profilesDir, 'slow', 'go')}`]);
    await box.waitEvent({ profile: 'slow', event: 'ready' });
    const ready = await http(port, '/readyz');
    expect([ready.status, ready.text]).toEqual([200, 'ok\n']);
  });

  it('tokens: created at first start (64 hex, 0600), kept after; the page logs in with one and gets the session cookie', async () => {
    const { port, token } = await startWithHttp();
    for (const file of ['http.token', 'http.readonly-token']) {
      const path = join(box.stateDir, file);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(readFileSync(path, 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    }
    const readonly = tokenOf(box, 'readonly');
    expect(readonly).not.toBe(token);

    const origin = `http://127.0.0.1:${port}`;
    const wrong = await http(port, '/api/v1/session', { body: { token: 'f'.repeat(64) }, headers: { Origin: origin } });
    expect(wrong.status).toBe(401);
    const login = await http(port, '/api/v1/session', { body: { token: readonly }, headers: { Origin: origin } });
    expect(login.json()).toEqual({ ok: true, readonly: true });
    const cookie = login.headers['set-cookie']![0]!;
    expect(cookie).toMatch(/^proclaunch_session_[0-9a-f]{8}=[0-9a-f]{64}; HttpOnly; SameSite=Strict; Path=\/$/);
    const session = { Cookie: cookie.split(';')[0]! };
    expect((await http(port, '/api/v1/session', { headers: session })).json()).toEqual({ ok: true, readonly: true });
    expect((await http(port, '/api/v1/session')).status).toBe(401);

    await box.stopSupervisor();
    box.start(['--http', '127.0.0.1:0']);
    const again = await httpAddressOf(box, 2);
    expect(tokenOf(box)).toBe(token);
    // Derived from the token: the cookie outlives the supervisor.
    expect((await http(again.port, '/api/v1/services', { headers: session })).status).toBe(200);
  });
});

/** The process group of the web service (its pid: it leads its own session). */
function readPgid(sandbox: Sandbox): number {
  const started = sandbox.events().filter((e) => e.profile === 'web' && e.event === 'started').pop()!;
  return started.pid!;
}
