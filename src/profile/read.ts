import { createHash } from 'node:crypto';
import { quote } from '../log/escape.js';
import { readdir, readFile, stat } from './files.js';
import { isAbsolute, join, resolve } from 'node:path';
import { parseSignal } from './signals.js';
import type { ProfileReading, RestartPolicy, ServiceConfig } from './types.js';
import { resolveUser } from './users.js';
import { instanceTag } from '../vocabulary/tags.js';
import { MAX_OUTPUT_KEEP, MIN_OUTPUT_BYTES, OUTPUT_DEFAULTS, parseSize, type OutputBounds } from '../vocabulary/output.js';
import { defaultOutput, outputPipePath } from '../output/paths.js';
import { fail, Invalid, Problems, readText, seconds } from './fields.js';
import { mistypedFiles } from './unknown-files.js';
import { nearest } from '../vocabulary/nearest.js';
import { READINESS_FILES, readReadiness } from './readiness.js';

/** The files of a profile; any other file in the directory is the service's own business. */
export const PROFILE_FILES = [
  'run', 'pid_file', 'restart', 'down', 'stop_signal', 'stop_timeout', 'start_timeout',
  'reload', 'user', 'watch', 'env', 'stdout', 'stderr', 'instances', 'start_delay', 'restart_delay',
  'finish', 'log', 'log_max_size', 'log_keep', 'log_timestamps', ...READINESS_FILES,
] as const;

/** More copies than this is a typo, not a fleet (each is a process and an actor). */
export const MAX_INSTANCES = 10_000;

export interface ReadOptions {
  stateDir: string;
  /** Why `notify` cannot be served here (no native module), or null. */
  notifyUnsupported?: string | null;
}

/** ProcLaunch looks only at the file's presence: content we do not know still means restart, said once so a typo shows. */
function restartPolicy(text: string | null, warnings: string[]): RestartPolicy {
  if (text === null) return 'never';
  const value = text.trim();
  if (value === '' || value === 'always') return 'always';
  if (value === 'on-failure') return 'on-failure';
  const guess = nearest(value, ['always', 'on-failure']);
  warnings.push(`restart holds ${quote(value)}: restarting always (any restart file means restart, as in ProcLaunch; the refinements are "always" and "on-failure")${guess ? `; did you mean ${guess}?` : ''}`);
  return 'always';
}

function signal(file: string, text: string | null, fallback: NodeJS.Signals | null): NodeJS.Signals | null {
  if (text === null) return fallback;
  const value = text.trim();
  if (value === '' && fallback) return fallback;
  return parseSignal(value) ?? fail(`${file}: unknown signal ${quote(value)}`);
}

/** `env/`: each file NAME sets NAME to its first line; an empty file unsets it (daemontools envdir). */
async function readEnvDir(dir: string): Promise<Record<string, string | null>> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => !n.startsWith('.')).sort();
  } catch {
    return {};
  }
  const env: Record<string, string | null> = {};
  for (const name of names) {
    if (name.includes('=')) fail(`env/${name}: a variable name cannot contain "="`);
    const text = await readText(join(dir, name));
    if (text === null) continue;
    const first = text.split('\n', 1)[0] ?? '';
    // envdir trims trailing blanks and turns NUL into newline.
    env[name] = text === '' ? null : first.replace(/[ \t]+$/, '').replace(/\0/g, '\n');
  }
  return env;
}

async function contentAndMode(path: string): Promise<string> {
  try {
    const [text, info] = await Promise.all([readFile(path), stat(path)]);
    return `${(info.mode & 0o7777).toString(8)}:${createHash('sha1').update(text).digest('hex')}`;
  } catch {
    return 'absent';
  }
}

const hash = (value: unknown): string => createHash('sha1').update(JSON.stringify(value)).digest('hex');

function instanceCount(text: string): number {
  const value = text.trim();
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_INSTANCES) return fail(`instances must be a whole number from 1 to ${MAX_INSTANCES}, not ${quote(value)}`);
  return n;
}

/** log_max_size, log_keep, log_timestamps (presence); null when none of them is there. */
function outputBounds(maxText: string | null, keepText: string | null, stampsText: string | null): OutputBounds | null {
  if (maxText === null && keepText === null && stampsText === null) return null;
  const bounds = { ...OUTPUT_DEFAULTS, timestamps: stampsText !== null };
  if (maxText !== null) {
    const value = maxText.trim();
    const bytes = parseSize(value);
    if (bytes === null || bytes < MIN_OUTPUT_BYTES) return fail(`log_max_size must be a size in bytes, with k, M or G for KiB, MiB, GiB, of at least 4k; not ${quote(value)}`);
    bounds.maxBytes = bytes;
  }
  if (keepText !== null) {
    const value = keepText.trim();
    const keep = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!(keep >= 1 && keep <= MAX_OUTPUT_KEEP)) return fail(`log_keep must be a whole number of rotated files from 1 to ${MAX_OUTPUT_KEEP}, not ${quote(value)}`);
    bounds.keep = keep;
  }
  return bounds;
}

/** Expand `{}` (the instance number) and make a profile-relative path absolute. */
export function profilePath(dir: string, template: string, instance: number | null): string {
  const path = instance === null ? template : template.replaceAll('{}', String(instance));
  return isAbsolute(path) ? path : resolve(dir, path);
}

/**
 * Read one profile directory. Never throws: a profile that cannot be used
 * comes back `invalid` with a reason an operator can act on.
 */
export async function readProfile(dir: string, name: string, options: ReadOptions): Promise<ProfileReading> {
  const warnings: string[] = [];
  try {
    const info = await stat(dir).catch(() => null);
    if (!info?.isDirectory()) return { kind: 'missing' };
    const present = new Set(await readdir(dir).catch(() => [] as string[]));
    const problems = new Problems();
    const file = (f: (typeof PROFILE_FILES)[number]) => (present.has(f) ? problems.wait(() => readText(join(dir, f)), null) : Promise.resolve(null));
    const runPath = join(dir, 'run');
    const runInfo = await stat(runPath).catch(() => null);
    problems.take(() => {
      const meant = [...present].find((n) => n !== 'run' && nearest(n, ['run']) === 'run');
      if (!runInfo) fail(`no run file${meant ? ` (is ${quote(meant)} meant to be run?)` : ''}`);
      if (!runInfo!.isFile()) fail('run is not a file');
      if ((runInfo!.mode & 0o111) === 0) fail('run is not executable (chmod +x run)');
    }, undefined);
    const finishPath = present.has('finish') ? join(dir, 'finish') : null;
    if (finishPath) {
      const finishInfo = await stat(finishPath).catch(() => null);
      problems.take(() => {
        if (!finishInfo?.isFile()) fail('finish is not a file');
        if ((finishInfo!.mode & 0o111) === 0) fail('finish is not executable (chmod +x finish)');
      }, undefined);
    }

    const [pidFileText, restartText, downText, stopSignalText, stopTimeoutText, startTimeoutText, reloadText, userText, watchText, stdoutText, stderrText, instancesText] =
      await Promise.all([
        file('pid_file'), file('restart'), file('down'), file('stop_signal'), file('stop_timeout'),
        file('start_timeout'), file('reload'), file('user'), file('watch'), file('stdout'), file('stderr'), file('instances'),
      ]);
    const [startDelayText, restartDelayText, logMaxText, logKeepText, logStampsText] = await Promise.all([
      file('start_delay'), file('restart_delay'), file('log_max_size'), file('log_keep'), file('log_timestamps'),
    ]);
    // Any log_* file also bounds explicit stdout/stderr paths; the default file is always bounded.
    const bounds = problems.take(() => outputBounds(logMaxText, logKeepText, logStampsText), null);
    const instances = instancesText === null ? null : problems.take(() => instanceCount(instancesText), 1);
    const env = present.has('env') ? await problems.wait(() => readEnvDir(join(dir, 'env')), {}) : {};
    const ready = await readReadiness(dir, name, present, file, options.notifyUnsupported ?? null, problems);

    const pidFileTemplate = pidFileText?.trim() || null;
    const userSpec = userText?.trim() || null;
    const user = userSpec ? resolveUser(userSpec) : null;
    if (typeof user === 'string') problems.add(user);
    const watch = (watchText ?? '')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => profilePath(dir, line, null));

    const launch = {
      run: await contentAndMode(runPath),
      pidFile: pidFileTemplate,
      env,
      user: userSpec,
      stdout: stdoutText?.trim() || null,
      stderr: stderrText?.trim() || null,
      // How readiness is told is part of how it is started (NOTIFY_SOCKET, fd N).
      readiness: ready.readiness.kind === 'fd' ? `fd ${ready.readiness.fd}` : ready.readiness.kind === 'notify' ? 'notify' : null,
    };
    const restart = restartPolicy(restartText, warnings);
    const stopSignal = problems.take(() => signal('stop_signal', stopSignalText, 'SIGTERM')!, 'SIGTERM');
    const stopTimeoutMs = problems.take(() => seconds('stop_timeout', stopTimeoutText, 10, true), 0);
    const startTimeoutMs = problems.take(() => seconds('start_timeout', startTimeoutText, 10, false), 0);
    const reloadSignal = problems.take(() => signal('reload', reloadText, reloadText === null ? null : 'SIGHUP'), null);
    const startDelayMs = problems.take(() => seconds('start_delay', startDelayText, 0, true), 0);
    const restartDelayMs = problems.take(() => seconds('restart_delay', restartDelayText, 0, true), 0);
    if (instances !== null && pidFileTemplate && instances > 1 && !pidFileTemplate.includes('{}')) {
      problems.add(`pid_file ${quote(pidFileTemplate)} has no {} for the instance number: ${instances} instances would share one pid file`);
    }
    const ownPaths = new Set([...watch, ...[pidFileTemplate, launch.stdout, launch.stderr].flatMap((p) => (p ? [profilePath(dir, p, null)] : []))]);
    warnings.push(...mistypedFiles(dir, present, PROFILE_FILES, ownPaths));
    problems.check();
    const watchHash = hash(await Promise.all(watch.map(contentAndMode)));
    // A new `finish` applies at the next exit: a policy change, not a restart.
    const finish = finishPath ? await contentAndMode(finishPath) : null;
    // The bounds apply without a restart (the drain takes them); only with log_* files, so that older records compare equal.
    const policy = hash([restart, downText !== null, stopSignal, stopTimeoutMs, startTimeoutMs, reloadSignal, watch, startDelayMs, restartDelayMs, finish, ready, ...(bounds ? [bounds] : [])]);
    // Bounding an explicit path changes where the process writes: a restart.
    const launchOf = (instance: number | null) => hash({ ...launch, instance, ...(bounds && (launch.stdout || launch.stderr) ? { bounded: true } : {}) });

    /** One copy; its fingerprint depends on its own number, never on how many there are. */
    const configFor = (instance: number | null): ServiceConfig => {
      const tag = instanceTag(name, instance);
      const defaultLog = defaultOutput(options.stateDir, tag);
      const stdout = launch.stdout ? profilePath(dir, launch.stdout, instance) : defaultLog;
      const stderr = launch.stderr ? profilePath(dir, launch.stderr, instance) : defaultLog;
      const pipeOf = (explicit: string | null, path: string) => (explicit === null || bounds ? outputPipePath(options.stateDir, path, tag) : null);
      const [stdoutPipe, stderrPipe] = [pipeOf(launch.stdout, stdout), pipeOf(launch.stderr, stderr)];
      return {
        name,
        tag,
        instance,
        dir,
        runPath,
        finishPath,
        pidFile: pidFileTemplate ? profilePath(dir, pidFileTemplate, instance) : null,
        restart,
        down: downText !== null,
        stopSignal,
        stopTimeoutMs,
        startTimeoutMs,
        startDelayMs,
        restartDelayMs,
        reloadSignal,
        user: user as ServiceConfig['user'],
        env,
        watch,
        stdout,
        stderr,
        output: stdoutPipe || stderrPipe ? { ...(bounds ?? OUTPUT_DEFAULTS), stdoutPipe, stderrPipe } : null,
        ...ready,
        fingerprint: { launch: launchOf(instance), watch: watchHash, policy },
      };
    };
    const configs = instances === null ? [configFor(null)] : Array.from({ length: instances }, (_, i) => configFor(i + 1));
    return { kind: 'valid', configs, warnings };
  } catch (error) {
    if (error instanceof Invalid) return { kind: 'invalid', reason: error.message, warnings };
    return { kind: 'invalid', reason: `cannot read profile: ${(error as Error).message}`, warnings };
  }
}
