// What each API path does: it builds the control protocol's request, runs
// it through the control handler (bridge.ts) and writes the reply as HTTP —
// the status that fits, JSON, text or a stream.
import type { ActionCommand, Request, ServiceStatus } from '../control/protocol.js';
import { isDown } from '../control/wanted.js';
import { tail } from '../output/tail.js';
import { ask, type ControlReply } from './bridge.js';
import { parseEventId, withIds } from './event-ids.js';
import { EXPOSITION_TYPE } from './exposition.js';
import { streamLog } from './log-stream.js';
import { renderMetrics } from './metrics.js';
import { sendBody, sendError, sendJson, TEXT_TYPE } from './respond.js';
import type { Call, HttpContext } from './routes.js';
import { parseSince, SINCE_FORMS } from '../vocabulary/since.js';

const DEFAULT_LINES = 100;
const MAX_LINES = 10_000;
const MAX_TIMEOUT_S = 24 * 3600;

/** `web,db*` → ['web', 'db*']. */
const patterns = (text: string | null): string[] => (text ?? '').split(',').filter((p) => p !== '');

/** The caller as the events will say it: `http full`. */
const caller = (call: Call): string => `http ${call.credentials?.kind ?? 'anonymous'}`;

const status = (ctx: HttpContext, names: string[], by = 'http'): Promise<ControlReply> => ask(ctx.handle, { command: 'status', names }, by);

export async function listServices(ctx: HttpContext, call: Call): Promise<void> {
  const reply = await status(ctx, patterns(call.query.get('names')), caller(call));
  sendJson(call.res, reply.ok ? 200 : 400, reply); // refused: a bad glob (`web[`)
}

export async function showService(ctx: HttpContext, call: Call): Promise<void> {
  const names = patterns(call.params.name!);
  const reply = await status(ctx, names, caller(call));
  if (!reply.ok) return sendJson(call.res, 400, reply);
  if ((reply.services as ServiceStatus[]).length === 0) return sendError(call.res, 404, noMatch(names));
  sendJson(call.res, 200, reply);
}

/** POST .../NAME/{start,stop,restart,reload}: body `{"wait","timeout","rolling"}`, each optional. */
export async function act(ctx: HttpContext, call: Call, command: ActionCommand): Promise<void> {
  const body = call.body ?? {};
  const wait = body.wait ?? true;
  const timeout = body.timeout ?? 60;
  const rolling = body.rolling ?? false;
  if (typeof wait !== 'boolean') return sendError(call.res, 400, '"wait" must be true or false');
  if (typeof timeout !== 'number' || !(timeout >= 0 && timeout <= MAX_TIMEOUT_S)) return sendError(call.res, 400, `"timeout" must be seconds, 0 to ${MAX_TIMEOUT_S}`);
  if (typeof rolling !== 'boolean') return sendError(call.res, 400, '"rolling" must be true or false');
  if (rolling && (command !== 'restart' || !wait)) return sendError(call.res, 400, '"rolling" is for restart only, and waits');
  if (ctx.supervisor.shuttingDown && command !== 'stop') return sendError(call.res, 503, `the supervisor is shutting down: ${command} refused`);
  const request: Request = { command, names: patterns(call.params.name!), all: false, wait, timeoutMs: Math.round(timeout * 1000), rolling };
  answer(call, await ask(ctx.handle, request, caller(call)));
}

/** POST .../NAME/signal with `{"signal":"HUP"}`. */
export async function signal(ctx: HttpContext, call: Call): Promise<void> {
  const name = call.body?.signal;
  if (typeof name !== 'string' || name === '') return sendError(call.res, 400, 'the body must name the signal: {"signal":"HUP"}');
  answer(call, await ask(ctx.handle, { command: 'signal', signal: name, names: patterns(call.params.name!), all: false }, caller(call)));
}

/** A command's reply: 404 when a name matched nothing, 400 for a refused request, else 200 with a row per service. */
function answer(call: Call, reply: ControlReply): void {
  if (reply.ok || Array.isArray(reply.results)) return sendJson(call.res, 200, reply);
  sendJson(call.res, Array.isArray(reply.unmatched) ? 404 : 400, reply);
}

/** GET .../NAME/log?lines=N[&follow=1][&stream=stderr]: NAME is one service's tag. */
export async function serviceLog(ctx: HttpContext, call: Call): Promise<void> {
  const { query, res } = call;
  const linesText = query.get('lines');
  const lines = linesText === null ? DEFAULT_LINES : Number(linesText);
  if (!Number.isInteger(lines) || lines < 0 || lines > MAX_LINES) return sendError(res, 400, `"lines" must be a whole number from 0 to ${MAX_LINES}`);
  const which = query.get('stream') ?? 'stdout';
  if (which !== 'stdout' && which !== 'stderr') return sendError(res, 400, '"stream" is stdout or stderr');
  const reply = await ask(ctx.handle, { command: 'logs', name: call.params.name! }, caller(call));
  if (!reply.ok) return sendJson(res, 404, reply);
  const path = reply[which] as string;
  if (!isOn(query.get('follow'))) return sendBody(res, 200, TEXT_TYPE, (await tail(path, lines)).text);
  const stream = ctx.streams.start(res, `the log of ${call.params.name!}`);
  if (!stream) return sendError(res, 503, 'too many streams open; try again later');
  await streamLog(stream, path, lines);
}

const isOn = (value: string | null): boolean => value === '1' || value === 'true';

/** `since`: as `events --since` takes it (exactly ISO 8601, or 30s/10m/2h/1d ago), or absent. */
function since(call: Call): Date | null | Error {
  const text = call.query.get('since');
  if (text === null) return null;
  const at = parseSince(text);
  return at === null ? new Error(`"since" must be ${SINCE_FORMS}`) : new Date(at);
}

export async function events(ctx: HttpContext, call: Call): Promise<void> {
  const from = since(call);
  if (from instanceof Error) return sendError(call.res, 400, from.message);
  const reply = await ask(ctx.handle, { command: 'events', since: from?.toISOString() ?? null, follow: false }, caller(call));
  sendJson(call.res, 200, { ...reply, events: withIds(reply.events as Parameters<typeof withIds>[0]) });
}

export async function eventStream(ctx: HttpContext, call: Call): Promise<void> {
  const from = since(call);
  if (from instanceof Error) return sendError(call.res, 400, from.message);
  const resumeText = call.req.headers['last-event-id'] ?? call.query.get('lastEventId');
  const after = typeof resumeText === 'string' ? parseEventId(resumeText) : null;
  if (typeof resumeText === 'string' && after === null) return sendError(call.res, 400, 'Last-Event-ID must be an id this server sent (MS-K)');
  const stream = ctx.streams.start(call.res, 'the event stream');
  if (!stream) return sendError(call.res, 503, 'too many streams open; try again later');
  await ctx.hub.stream(stream, { after, since: from });
}

export async function ps(ctx: HttpContext, call: Call): Promise<void> {
  sendJson(call.res, 200, await ask(ctx.handle, { command: 'ps' }, caller(call)));
}

export async function metrics(ctx: HttpContext, call: Call): Promise<void> {
  const reply = await status(ctx, []);
  sendBody(call.res, 200, EXPOSITION_TYPE, renderMetrics(reply.services as ServiceStatus[], ctx.hub.counts));
}

/** 200 while the event loop turns (this answer is the proof); 503 once shutting down. */
export function healthz(ctx: HttpContext, call: Call): void {
  if (ctx.supervisor.shuttingDown) return sendError(call.res, 503, 'shutting down');
  sendBody(call.res, 200, TEXT_TYPE, 'ok\n');
}

/** 200 when every service that should run (not held back: `check`'s rule) is running and ready. */
export async function readyz(ctx: HttpContext, call: Call): Promise<void> {
  if (ctx.supervisor.shuttingDown) return sendError(call.res, 503, 'shutting down');
  if (!ctx.started()) return sendError(call.res, 503, 'starting up: the profiles are being read');
  const services = (await status(ctx, [])).services as ServiceStatus[];
  const notReady = services.filter((s) => isDown(s) || (s.state === 'running' && !s.ready)).map((s) => s.name);
  if (notReady.length === 0) return sendBody(call.res, 200, TEXT_TYPE, 'ok\n');
  const shown = notReady.slice(0, 20).join(', ') + (notReady.length > 20 ? `, and ${notReady.length - 20} more` : '');
  sendJson(call.res, 503, { ok: false, error: `not ready: ${shown}`, notReady });
}

const noMatch = (names: string[]): string => `no profile matches ${names.map((n) => JSON.stringify(n)).join(', ')}`;
