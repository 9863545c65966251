// What every fleet command works with: the hosts, ssh, the bounds (-p, -t), and how one
// host's answer becomes one result (the `--json` row: {host, ok, exit, ms, version, result | error}).
import { classify, fleetExit, type Kind, type Outcome } from './classify.js';
import type { Host } from './hosts-file.js';
import { pool } from './pool.js';
import { proclaunchLine, scriptLine } from './remote.js';
import type { Ssh } from './ssh.js';
import type { Readable } from 'node:stream';

export interface FleetContext {
  hosts: Host[];
  ssh: Ssh;
  parallel: number;
  timeoutMs: number;
  json: boolean;
  colour: boolean;
}

export interface HostResult {
  host: Host;
  ok: boolean;
  kind: Kind;
  exit: number;
  ms: number;
  /** The supervisor's version there (else its CLI's), once it answered. */
  version: string | null;
  /** What the command gave back (parsed JSON, or text). */
  result?: unknown;
  /** Why it failed: one line. */
  error?: string;
}

/** A deadline for one host's whole job (all its steps): now + -t. */
export const deadlineOf = (context: FleetContext): number => Date.now() + context.timeoutMs;

export async function callProclaunch(context: FleetContext, host: Host, command: string, args: string[], deadline: number): Promise<Outcome> {
  const ran = await context.ssh.run(host, proclaunchLine(host, command, args), { deadline });
  return classify(host, ran, context.timeoutMs);
}

export async function callScript(context: FleetContext, host: Host, script: string, args: string[], deadline: number, stdin?: Readable): Promise<Outcome> {
  const ran = await context.ssh.run(host, scriptLine(script, args), { deadline, stdin });
  return classify(host, ran, context.timeoutMs);
}

export const versionOf = (outcome: Outcome): string | null => outcome.envelope?.supervisor?.version ?? outcome.envelope?.version ?? null;

/** A host that did not answer (or did not do it): one result with the reason. */
export function failure(host: Host, outcome: Outcome, reason = outcome.reason ?? 'failed'): HostResult {
  return { host, ok: false, kind: outcome.kind === 'answered' ? 'failed' : outcome.kind, exit: outcome.kind === 'answered' && outcome.exit === 0 ? 1 : outcome.exit, ms: outcome.ms, version: versionOf(outcome), error: reason };
}

export function success(host: Host, outcome: Outcome, result: unknown, ok = true, error?: string): HostResult {
  return { host, ok, kind: ok ? 'answered' : 'failed', exit: outcome.exit, ms: outcome.ms, version: versionOf(outcome), result, ...(error === undefined ? {} : { error }) };
}

/** Every selected host (or `hosts`), at most -p at once; `ms` is each host's whole job. */
export function eachHost(context: FleetContext, job: (host: Host) => Promise<HostResult>, hosts: readonly Host[] = context.hosts): Promise<HostResult[]> {
  return pool(hosts, context.parallel, async (host) => {
    const started = Date.now();
    return { ...(await job(host)), ms: Date.now() - started };
  });
}

export const exitOf = (results: HostResult[]): number => fleetExit(results);

/** The `--json` rows. */
export function jsonRows(results: HostResult[]): string {
  const rows = results.map((r) => ({
    host: r.host.label,
    ok: r.ok,
    exit: r.exit,
    ms: r.ms,
    version: r.version,
    ...(r.ok || r.error === undefined ? {} : { kind: r.kind }),
    ...(r.error !== undefined ? { error: r.error } : {}),
    ...(r.result !== undefined ? { result: r.result } : {}),
  }));
  return `${JSON.stringify(rows)}\n`;
}

/** The envelope's stdout as JSON: one value, or (`lines`) an array of one value per line; null if it is not. */
export function jsonOf(text: string, lines = false): unknown {
  const trimmed = text.trim();
  try {
    if (lines) return trimmed === '' ? [] : trimmed.split('\n').map((line) => JSON.parse(line) as unknown);
    return trimmed === '' ? null : JSON.parse(trimmed);
  } catch {
    return null;
  }
}
