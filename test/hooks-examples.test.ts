// The shipped example hooks (examples/hooks/), run by the hook runner or
// directly, with values full of characters that break naive shell scripts.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hookRunEnv } from '../src/hooks/env.js';
import { HookRunner } from '../src/hooks/runner.js';
import type { Logger } from '../src/log/logger.js';
import type { EventRecord } from '../src/supervisor/events.js';
import { sh } from './support/sandbox.js';
import { waitFor } from './support/wait.js';

const WEBHOOK = resolve('examples/hooks/webhook');
const CRASH_MAIL = resolve('examples/hooks/crash-mail');
const ODD = 'bad "quote" \\back\\slash\n\ttab\r\u0001\u001f $HOME `id` %s ✓ é\n';

let root = '';
let lines: string[] = [];
let server: Server | null = null;
const logger: Logger = { log: (level, _tag, message) => lines.push(`${level} ${message}`), reopen() {}, close() {} };

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'proclaunch-examples-'));
  lines = [];
});
afterEach(async () => {
  await new Promise((done) => (server ? server.close(done) : done(undefined)));
  server = null;
  rmSync(root, { recursive: true, force: true });
});

const failed: EventRecord = { time: '2026-11-22T07:41:09.550+00:00', event: 'failed', profile: 'web@2', reason: ODD };
const crashed: EventRecord = { time: '2026-11-22T07:41:09.550+00:00', event: 'crashed', profile: 'web', pid: 4242, code: null, signal: 'SIGSEGV' };

/** Run one example as a hook would be run, with the environment of an event. */
function runExample(path: string, record: EventRecord, env: Record<string, string>) {
  return spawnSync(path, [], { encoding: 'utf8', env: hookRunEnv(record, env) });
}

interface Received {
  type: string | undefined;
  body: string;
}

/** A local webhook receiver: 200 for /ok, 500 for anything else. */
async function receiver(): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      received.push({ type: request.headers['content-type'], body });
      response.statusCode = request.url === '/ok' ? 200 : 500;
      response.end('response body, not for the log\n');
    });
  });
  await new Promise<void>((done) => server!.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, received };
}

/** A runner with only the webhook in its DIR, posting to `url`. */
function webhookRunner(url: string): HookRunner {
  const dir = join(root, 'hooks');
  mkdirSync(dir);
  symlinkSync(WEBHOOK, join(dir, 'webhook'));
  return new HookRunner({ dir, outputPath: join(root, 'hooks.log'), logger, env: { PROCLAUNCH_WEBHOOK_URL: url } });
}

describe('examples/hooks/webhook', () => {
  it('POSTs one JSON object per event, every value intact, numbers as numbers and empty values as null', async () => {
    const { url, received } = await receiver();
    const runner = webhookRunner(`${url}/ok`);
    runner.handle(failed);
    runner.handle(crashed);
    await waitFor('2 requests', () => received.length === 2);
    await runner.close();
    expect(received.map((r) => r.type)).toEqual(['application/json', 'application/json']);
    const [first, second] = received.map((r) => JSON.parse(r.body) as Record<string, unknown>);
    expect(first).toEqual({
      event: 'failed',
      profile: 'web',
      tag: 'web@2',
      pid: null,
      exit_code: null,
      signal: null,
      time: '2026-11-22T07:41:09.550Z',
      reason: ODD,
      host: expect.any(String),
    });
    expect(second).toMatchObject({ event: 'crashed', profile: 'web', tag: 'web', pid: 4242, exit_code: null, signal: 'SEGV', reason: null });
    expect(lines.filter((l) => !l.startsWith('INFO') && !l.startsWith('DEBUG'))).toEqual([]);
    expect(existsSync(join(root, 'hooks.log')) ? readFileSync(join(root, 'hooks.log'), 'utf8') : '').toBe('');
  });

  it('fails (one WARN from the runner) when the receiver answers an error; does nothing without PROCLAUNCH_WEBHOOK_URL', async () => {
    const { url, received } = await receiver();
    const runner = webhookRunner(`${url}/broken`);
    runner.handle(crashed);
    await waitFor('the WARN line', () => lines.find((l) => l.startsWith('WARN ')));
    expect(lines.filter((l) => l.startsWith('WARN '))).toEqual([expect.stringMatching(/^WARN hook "webhook" pid \d+ exited code 22 on crashed of web after \d+m?s$/)]);
    expect(readFileSync(join(root, 'hooks.log'), 'utf8')).toMatch(/500/);
    await runner.close();

    const unset = runExample(WEBHOOK, crashed, {});
    expect(unset.status).toBe(0);
    expect(unset.stdout + unset.stderr).toBe('');
    expect(received).toHaveLength(1);
  });
});

describe('examples/hooks/crash-mail', () => {
  it('mails a failure with an odd reason intact in the body (sendmail -oi: a lone "." does not end it); ignores other events', () => {
    const bin = join(root, 'bin');
    const mail = join(root, 'mail');
    mkdirSync(bin);
    writeFileSync(join(bin, 'sendmail'), sh(`{ echo "args: $*"; cat; } > ${mail}`), { mode: 0o755 });
    const env = { PATH: `${bin}:${process.env.PATH}`, PROCLAUNCH_STATE: root };
    const reason = `${ODD}.\nafter the dot`;
    const result = runExample(CRASH_MAIL, { ...failed, reason }, env);
    expect(result.status).toBe(0);
    const text = readFileSync(mail, 'utf8');
    expect(text).toMatch(/^args: -oi -t\nTo: root\nSubject: \[proclaunch\] web@2 failed on \S+\n\n/);
    expect(text).toContain(`reason:    ${reason}\n`);
    rmSync(mail);
    expect(runExample(CRASH_MAIL, { ...crashed, event: 'started' }, env).status).toBe(0);
    expect(existsSync(mail)).toBe(false);
  });

  // Only where no real MTA would be found (the script also looks in /usr/sbin and /usr/lib).
  it.skipIf(existsSync('/usr/sbin/sendmail') || existsSync('/usr/lib/sendmail'))('without sendmail: one line on stderr, exit 0', () => {
    const result = runExample(CRASH_MAIL, crashed, { PATH: join(root, 'empty') });
    expect(result.status).toBe(0);
    expect(result.stderr).toBe('crash-mail: no sendmail on PATH; not mailing that web crashed\n');
    expect(readdirSync(root)).toEqual([]);
  });
});
