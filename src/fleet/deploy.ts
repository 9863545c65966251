// `fleet deploy PROFILE_DIR [--as NAME] [--rolling N]` and `fleet undeploy NAME`. A profile
// appears whole on each host: copied beside (hidden: `.NAME.fleet-new`), then renamed in —
// over an existing one exchanged in one step where the host can (renameat2), else by two
// renames; the supervisor applies it as any edit (a new `run` restarts the service once).
// Then `start NAME` waits until it runs and is ready. A run cut short (kill -9) leaves at
// most the hidden copy; running it again finishes the job.
import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ActionResult, ServiceStatus } from '../control/protocol.js';
import { UsageError, firstSentence } from '../cli/usage.js';
import { PROFILE_NAME } from '../profile/names.js';
import type { Outcome } from './classify.js';
import { callProclaunch, callScript, deadlineOf, eachHost, exitOf, failure, jsonOf, jsonRows, success, type FleetContext, type HostResult } from './context.js';
import { failedNames, resultOf, warn } from './control-commands.js';
import { copyDirectory } from './copy.js';
import type { Host } from './hosts-file.js';
import { inBatches } from './pool.js';
import { resultTable } from './tables.js';

/** `$bin`, with a leading `~/` made the remote home (it came quoted, as $1). */
const BIN = 'bin=$1; shift; case $bin in "~/"*) bin="$HOME/${bin#??}";; esac';

/** Whether rsync is there, then the supervisor's status (its PROFILES_DIR and our profile's services). */
const PROBE = `${BIN}; if command -v rsync >/dev/null 2>&1; then echo rsync=yes; fi; exec env PROCLAUNCH_JSON_ENVELOPE=1 "$bin" status --json "$@"`;

/** Swap two directories in one step (renameat2 RENAME_EXCHANGE, through python3's ctypes): the supervisor sees one change. */
const EXCHANGE = `python3 -c 'import ctypes, os, sys; f = ctypes.CDLL(None, use_errno=True).renameat2; sys.exit(0 if f(-100, sys.argv[1].encode(), -100, sys.argv[2].encode(), 2) == 0 else os.strerror(ctypes.get_errno()))'`;
/** Else two renames microseconds apart (perl); else two mv. A supervisor may then see the profile go and come back: one restart still. */
const TWO_RENAMES = `perl -e 'rename($ARGV[0], $ARGV[1]) or die "cannot move $ARGV[0] aside: $!\\n"; rename($ARGV[2], $ARGV[0]) or do { my $e = $!; rename($ARGV[1], $ARGV[0]); die "cannot rename $ARGV[2] in: $e\\n" }'`;

/** $1 PROFILES_DIR, $2 NAME, then BIN and --state: rename the copy in (over an existing one: exchanged), then rescan. */
const PLACE = [
  'd=$1; n=$2; shift 2',
  BIN,
  'new="$d/.$n.fleet-new"; old="$d/.$n.fleet-old"; cur="$d/$n"',
  'if [ ! -d "$new" ]; then echo "the copy $new is not there" >&2; exit 1; fi',
  'rm -rf "$old"',
  'if [ -e "$cur" ] || [ -L "$cur" ]; then ' +
    `if command -v python3 >/dev/null 2>&1 && ${EXCHANGE} "$new" "$cur" 2>/dev/null; then rm -rf "$new"; ` +
    `elif command -v perl >/dev/null 2>&1 && ${TWO_RENAMES} "$cur" "$old" "$new"; then rm -rf "$old"; ` +
    'elif mv "$cur" "$old"; then if mv "$new" "$cur"; then rm -rf "$old"; else mv "$old" "$cur"; exit 1; fi; ' +
    'else exit 1; fi; echo placed=replaced; ' +
    'else mv "$new" "$cur" || exit 1; echo placed=added; fi',
  'if [ "$bin" = - ]; then exit 0; fi',
  'exec env PROCLAUNCH_JSON_ENVELOPE=1 "$bin" rescan --json "$@"',
].join('; ');

/** $1 PROFILES_DIR, $2 NAME: out of sight first, then deleted (never seen half-gone). */
const REMOVE = 'd=$1; n=$2; if [ -e "$d/$n" ] || [ -L "$d/$n" ]; then rm -rf "$d/.$n.fleet-gone" && mv "$d/$n" "$d/.$n.fleet-gone" && rm -rf "$d/.$n.fleet-gone" && rm -rf "$d/.$n.fleet-new" && echo removed; else echo absent; fi';

interface DeployResult {
  placed: 'added' | 'replaced' | 'removed' | 'absent';
  copy?: 'rsync' | 'tar';
  profilesDir: string;
  services: ActionResult[];
  /** Why the service was not started (held, down file, no supervisor). */
  note?: string;
}

const stateArgs = (host: Host): string[] => (host.state === null ? [] : ['--state', host.state]);
const instancesOf = (services: ServiceStatus[], name: string) => services.filter((s) => s.name === name || s.name.startsWith(`${name}@`));
/** Seconds left for a remote wait, a little short of ours, so that it answers before we give up. */
const remoteTimeout = (deadline: number): string => String(Math.max(1, Math.floor((deadline - Date.now() - 1000) / 1000)));

interface Probed {
  outcome: Outcome;
  dir: string;
  rsync: boolean;
  services: ServiceStatus[] | null;
}

async function probe(context: FleetContext, host: Host, deadline: number): Promise<Probed | HostResult> {
  const outcome = await callScript(context, host, PROBE, [host.bin ?? 'proclaunch', ...stateArgs(host)], deadline);
  const noSupervisor = outcome.kind === 'no supervisor';
  if (outcome.kind !== 'answered' && !(noSupervisor && host.profiles !== null)) return failure(host, outcome);
  const services = noSupervisor ? null : jsonOf(outcome.envelope?.stdout ?? '');
  if (!noSupervisor && !Array.isArray(services)) return failure(host, outcome, 'unreadable status reply from the supervisor there');
  const dir = host.profiles ?? outcome.envelope?.supervisor?.profilesDir;
  if (!dir) return failure(host, outcome, 'the supervisor there does not say its PROFILES_DIR (an older proclaunch): give profiles=DIR in the hosts file');
  return { outcome, dir, rsync: outcome.text.includes('rsync=yes\n'), services: services as ServiceStatus[] | null };
}

async function deployTo(context: FleetContext, host: Host, source: string, name: string): Promise<HostResult> {
  const deadline = deadlineOf(context);
  const probed = await probe(context, host, deadline);
  if (!('dir' in probed)) return probed;
  const { dir, services } = probed;
  const copied = await copyDirectory(context, host, source, join(dir, `.${name}.fleet-new`), probed.rsync, deadline);
  if (!copied.ok) return failure(host, probed.outcome, copied.reason); // (answered: made a failure, exit 1)
  const placing = await callScript(context, host, PLACE, [dir, name, services ? (host.bin ?? 'proclaunch') : '-', ...stateArgs(host)], deadline);
  const placed = /placed=(added|replaced)/.exec(placing.text)?.[1] as 'added' | 'replaced' | undefined;
  if (!placed) return failure(host, placing, placing.reason ?? 'the rename did not happen');
  const result: DeployResult = { placed, copy: copied.how, profilesDir: dir, services: [] };
  const before = services === null ? [] : instancesOf(services, name);
  if (services === null) result.note = `no supervisor is running there; ${name} is in ${dir} for when one starts`;
  else if (existsSync(join(source, 'down'))) result.note = 'not started (it has a down file)';
  else if (before.length > 0 && before.every((s) => s.held)) result.note = 'left stopped (stopped by command before)';
  if (result.note !== undefined) return success(host, placing, result, services !== null, services === null ? result.note : undefined);
  // Wait until it runs and is ready (or has outlived its first second): a failing profile is reported here.
  const started = await callProclaunch(context, host, 'start', [name, '--json', '--timeout', remoteTimeout(deadline)], deadline);
  const start = resultOf('start', host, started);
  result.services = Array.isArray(start.result) ? (start.result as ActionResult[]) : [];
  return { ...start, result, ...(start.ok || start.error ? {} : { error: 'failed to start' }) };
}

async function undeployFrom(context: FleetContext, host: Host, name: string): Promise<HostResult> {
  const deadline = deadlineOf(context);
  const probed = await probe(context, host, deadline);
  if (!('dir' in probed)) return probed;
  const result: DeployResult = { placed: 'absent', profilesDir: probed.dir, services: [] };
  if (probed.services && instancesOf(probed.services, name).length > 0) {
    const stopped = resultOf('stop', host, await callProclaunch(context, host, 'stop', [name, '--json', '--timeout', remoteTimeout(deadline)], deadline));
    if (!stopped.ok) return stopped;
    result.services = stopped.result as ActionResult[];
  }
  const removed = await callScript(context, host, REMOVE, [probed.dir, name], deadline);
  if (!/^(removed|absent)$/m.test(removed.text)) return failure(host, removed, removed.reason ?? 'not removed');
  result.placed = removed.text.includes('removed') ? 'removed' : 'absent';
  return success(host, removed, result);
}

/** A row per service (or one for the host): `replaced: running pid 42`. */
function deployRows(r: HostResult): { name: string; ok: boolean; message: string }[] {
  const d = r.result as DeployResult;
  const how = d.placed === 'absent' ? 'not there' : d.placed;
  if (d.services.length === 0) return [{ name: '-', ok: r.ok, message: `${how}${d.note ? `; ${d.note}` : ''}` }];
  return d.services.map((s) => ({ name: s.name, ok: s.ok, message: `${how}; ${s.message}` }));
}

function parseDeployArgs(args: string[], command: string, options: Record<string, { type: 'string' | 'boolean' }>) {
  try {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...options, json: { type: 'boolean' } } });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (error) {
    throw new UsageError(`${command}: ${firstSentence((error as Error).message)}`);
  }
}

function checkName(name: string, command: string): void {
  if (!PROFILE_NAME.test(name)) throw new UsageError(`${command}: ${JSON.stringify(name)} is not a profile name (letters, digits, . _ -; not starting with . _ -)`);
}

function print(context: FleetContext, results: HostResult[]): number {
  process.stdout.write(context.json ? jsonRows(results) : resultTable(results, context.colour, deployRows));
  return exitOf(results);
}

export async function deploy(context: FleetContext, args: string[]): Promise<number> {
  const { values, positionals } = parseDeployArgs(args, 'deploy', { as: { type: 'string' }, rolling: { type: 'string' } });
  if (values.json) context.json = true;
  if (positionals.length !== 1) throw new UsageError('deploy: give one PROFILE_DIR');
  const source = resolve(positionals[0]!);
  if (!existsSync(source) || !statSync(source).isDirectory()) throw new UsageError(`deploy: ${source} is not a directory`);
  if (!existsSync(join(source, 'run'))) throw new UsageError(`deploy: ${source} is not a profile (it has no run file)`);
  const name = (values.as as string | undefined) ?? basename(source);
  checkName(name, 'deploy');
  const rolling = values.rolling === undefined ? null : Number(values.rolling);
  if (rolling !== null && !(Number.isInteger(rolling) && rolling >= 1)) throw new UsageError(`deploy: --rolling takes a number of hosts at a time, not ${JSON.stringify(values.rolling)}`);
  const job = (host: Host) => deployTo(context, host, source, name);
  if (rolling === null) return print(context, await eachHost(context, job));
  const done = await inBatches(context.hosts, rolling, async (batch) => {
    const results = await eachHost(context, job, batch);
    return { results, goOn: results.every((r) => r.ok) };
  });
  if (done.left.length > 0) warn(`the rolling deploy stopped at ${failedNames(done.results)}; not deployed to: ${done.left.map((h) => h.label).join(', ')}`);
  return print(context, done.results);
}

export async function undeploy(context: FleetContext, args: string[]): Promise<number> {
  const { values, positionals } = parseDeployArgs(args, 'undeploy', {});
  if (values.json) context.json = true;
  if (positionals.length !== 1) throw new UsageError('undeploy: give one profile NAME');
  checkName(positionals[0]!, 'undeploy');
  return print(context, await eachHost(context, (host) => undeployFrom(context, host, positionals[0]!)));
}
