// `fleet install [--prefix DIR] [--start STATE_DIR PROFILES_DIR] [--enable]`: put this
// proclaunch on every host (lancelot and minos deploy themselves). The packed package,
// dependencies bundled (pack.ts), goes over ssh and is installed by the host's own npm,
// offline. `--start` starts a supervisor there (detached, as the cron line would) and the
// row says ok once it answers; `--enable` installs the systemd unit where systemd runs,
// else the cron line. Each step first looks whether it is already right, and then leaves it.
import { createReadStream } from 'node:fs';
import { isAbsolute } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError, firstSentence } from '../cli/usage.js';
import { callScript, deadlineOf, eachHost, exitOf, failure, jsonOf, jsonRows, success, type FleetContext, type HostResult } from './context.js';
import type { Host } from './hosts-file.js';
import { packWithDependencies, type Pack } from './pack.js';
import { resultTable } from './tables.js';

/** $1 PREFIX (- for npm's own), $2 the pack's sha256: is Node there, and is this very pack installed already? */
const PROBE = [
  'prefix=$1; sha=$2',
  'if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then echo nonode; exit 0; fi',
  'if [ "$prefix" = - ]; then prefix=$(npm prefix -g) || exit 1; fi',
  'echo "prefix=$prefix"',
  'if [ "$(cat "$prefix/lib/node_modules/proclaunch/.fleet-pack-sha256" 2>/dev/null)" = "$sha" ]; then echo same; fi',
].join('; ');

/** stdin: the tarball. $1 PREFIX, $2 sha256. npm's output only when it fails (its last lines). */
const INSTALL = [
  'prefix=$1; sha=$2; t=$(mktemp -d) || exit 1; trap \'rm -rf "$t"\' EXIT',
  'cat > "$t/proclaunch.tgz" || exit 1',
  'if ! npm install --global --offline --no-audit --no-fund --loglevel=error --prefix "$prefix" "$t/proclaunch.tgz" > "$t/log" 2>&1; then tail -n 3 "$t/log" >&2; exit 1; fi',
  'printf "%s\\n" "$sha" > "$prefix/lib/node_modules/proclaunch/.fleet-pack-sha256" && echo installed',
].join('; ');

/** $1 BIN, $2 STATE_DIR, $3 PROFILES_DIR: start one (idempotent: `already running` otherwise), then ask it. */
const START = 'bin=$1; mkdir -p "$3" || exit 1; "$bin" supervise "$2" "$3" >&2 || exit 1; exec env PROCLAUNCH_JSON_ENVELOPE=1 "$bin" status --json --state "$2"';

/** $1 BIN, $2 STATE_DIR, $3 PROFILES_DIR: the systemd unit where systemd runs, else the cron line; unchanged if already so. */
const ENABLE = [
  'bin=$1; state=$2; profiles=$3; mark="# proclaunch fleet install: $state"',
  'if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1 && command -v systemd-escape >/dev/null 2>&1; then ' +
    'unit="proclaunch-$(systemd-escape --path "$state").service"; ' +
    'if [ "$(id -u)" = 0 ]; then dir=/etc/systemd/system; ctl=systemctl; want=multi-user.target; else dir="$HOME/.config/systemd/user"; ctl="systemctl --user"; want=default.target; fi; ' +
    'mkdir -p "$dir" || exit 1; t="$dir/.$unit.new"; ' +
    'printf "%s\\n" "[Unit]" "Description=proclaunch for $profiles ($mark)" "After=network.target" "" "[Service]" "Type=simple" "ExecStart=$bin supervise --foreground $state $profiles" "ExecReload=/bin/kill -HUP \\$MAINPID" "KillMode=process" "TimeoutStopSec=120" "Restart=always" "RestartSec=1" "" "[Install]" "WantedBy=$want" > "$t" || exit 1; ' +
    'if cmp -s "$t" "$dir/$unit"; then rm -f "$t"; echo "enabled=unchanged systemd unit $unit"; else mv "$t" "$dir/$unit" && $ctl daemon-reload && $ctl enable "$unit" >/dev/null 2>&1 && echo "enabled=systemd unit $dir/$unit"; fi; ' +
    'exit; fi',
  'command -v crontab >/dev/null 2>&1 || { echo "neither systemd nor crontab there" >&2; exit 1; }',
  'line="* * * * * $bin $state $profiles >/dev/null $mark"; cur=$(crontab -l 2>/dev/null)',
  'if printf "%s\\n" "$cur" | grep -qxF "$line"; then echo "enabled=unchanged cron line"; exit 0; fi',
  '{ if [ -n "$cur" ]; then printf "%s\\n" "$cur" | grep -vF "$mark"; fi; printf "%s\\n" "$line"; } | crontab - && echo "enabled=cron line"',
].join('; ');

interface InstallOptions {
  prefix: string | null;
  start: { state: string; profiles: string } | null;
  enable: boolean;
}

function parse(args: string[]): InstallOptions {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { prefix: { type: 'string' }, start: { type: 'boolean' }, enable: { type: 'boolean' }, json: { type: 'boolean' } } });
  } catch (error) {
    throw new UsageError(`install: ${firstSentence((error as Error).message)}`);
  }
  const { values, positionals } = parsed;
  if (values.start && positionals.length !== 2) throw new UsageError('install: --start takes STATE_DIR PROFILES_DIR');
  if (!values.start && positionals.length > 0) throw new UsageError(`install: unexpected ${JSON.stringify(positionals[0])}`);
  if (values.enable && !values.start) throw new UsageError('install: --enable needs --start STATE_DIR PROFILES_DIR (what to start at boot)');
  const paths = [values.prefix, ...positionals].filter((p): p is string => p !== undefined);
  // They end up in a cron line or a unit file: absolute, and nothing a shell would split.
  for (const path of paths) if (!isAbsolute(path) || /[\s'"\\$`]/.test(path)) throw new UsageError(`install: ${JSON.stringify(path)}: give an absolute path without spaces or quotes`);
  return { prefix: values.prefix ?? null, start: values.start ? { state: positionals[0]!, profiles: positionals[1]! } : null, enable: values.enable === true };
}

async function installOn(context: FleetContext, host: Host, pack: Pack, options: InstallOptions): Promise<HostResult> {
  const deadline = deadlineOf(context);
  const probed = await callScript(context, host, PROBE, [options.prefix ?? '-', pack.sha256], deadline);
  if (probed.kind !== 'answered') return failure(host, probed);
  if (probed.text.includes('nonode')) return failure(host, probed, 'Node.js is not installed there (install needs node and npm on the host; the registry is not needed)');
  const prefix = /^prefix=(.*)$/m.exec(probed.text)?.[1];
  if (!prefix) return failure(host, probed, 'npm did not say its global prefix');
  const done: string[] = [];
  if (probed.text.includes('same\n')) done.push(`${pack.version} already installed in ${prefix}`);
  else {
    const installed = await callScript(context, host, INSTALL, [prefix, pack.sha256], deadline, createReadStream(pack.path));
    if (!installed.text.includes('installed')) return failure(host, installed, `npm install: ${installed.reason ?? 'failed'}`);
    done.push(`installed ${pack.version} in ${prefix}`);
  }
  const bin = `${prefix}/bin/proclaunch`;
  let last = probed;
  let version: string | null = null;
  if (options.start) {
    const started = await callScript(context, host, START, [bin, options.start.state, options.start.profiles], deadline);
    last = started;
    const services = jsonOf(started.envelope?.stdout ?? '');
    if (started.kind !== 'answered' || !Array.isArray(services)) return { ...failure(host, started, `start: ${started.reason ?? 'no answer from the supervisor'}`), result: done };
    version = started.envelope?.supervisor?.version ?? null;
    done.push(`supervisor ${version ?? ''} answers on ${options.start.state} (${services.length} services)`.replace('  ', ' '));
  }
  if (options.enable && options.start) {
    const enabled = await callScript(context, host, ENABLE, [bin, options.start.state, options.start.profiles], deadline);
    last = enabled;
    const what = /^enabled=(.*)$/m.exec(enabled.text)?.[1];
    if (!what) return { ...failure(host, enabled, `enable: ${enabled.reason ?? 'failed'}`), result: done };
    done.push(what.startsWith('unchanged') ? `${what.replace('unchanged ', '')} already there` : `enabled: ${what}`);
  }
  return { ...success(host, last, done), version: version ?? pack.version };
}

export async function install(context: FleetContext, args: string[]): Promise<number> {
  const options = parse(args);
  if (args.includes('--json')) context.json = true;
  const pack = await packWithDependencies();
  try {
    const results = await eachHost(context, (host) => installOn(context, host, pack, options));
    const rows = (r: HostResult) => [{ name: '-', ok: r.ok, message: [...((r.result as string[] | undefined) ?? []), ...(r.ok || r.error === undefined ? [] : [r.error])].join('; ') }];
    process.stdout.write(context.json ? jsonRows(results) : resultTable(results, context.colour, rows));
    return exitOf(results);
  } finally {
    pack.dispose();
  }
}
