// `proclaunch logs`: the supervisor says where each service's output is (or,
// without one, STATE_DIR's files do); we read the files ourselves.
import { ask, NoSupervisorError } from '../../control/client.js';
import type { LogSource } from '../../output/log-source.js';
import { EXIT } from '../usage.js';
import { checkPatterns, count, refused, type Command } from './command.js';

export const logs: Command = {
  options: { follow: { type: 'boolean', short: 'f' }, lines: { type: 'string', short: 'n' } },
  help: `Usage: proclaunch logs [NAME|GLOB ...] [-f] [-n LINES] [--json]
The services' captured output (STATE_DIR/logs/TAG.log and its rotations); no name: all of
them. A profile name stands for its instances. Several services: each line is prefixed
with \`NAME | \`, the last LINES of each, one service after another (in time order when
their lines carry log_timestamps). Without a supervisor, read from STATE_DIR's files.
  -n LINES     the last LINES lines of each (default 10)
  -f           then follow new lines as they arrive, across rotations
  --json       one JSON object per line: {"name": TAG, "line": TEXT}
Example: proclaunch logs 'worker*' -n 50 -f
`,
  async run({ stateDir, names, values, json }) {
    const lines = count(values.lines as string | undefined, 'logs: -n', 10)!;
    checkPatterns('logs', names);
    let sources: LogSource[];
    try {
      const reply = await ask(stateDir, { command: 'logs', names });
      const refusal = refused(reply);
      if (refusal !== null) return refusal;
      sources = reply.services as LogSource[];
    } catch (error) {
      if (!(error instanceof NoSupervisorError)) throw error;
      const found = (await import('../offline.js')).logSourcesFromFiles(stateDir, names, error);
      if (typeof found === 'number') return found;
      sources = found;
    }
    const { showLogs, streamsOf } = await import('../log-view.js');
    const streams = streamsOf(sources);
    // Nothing of what was asked can be shown (`logs with-logger` whose logger keeps it elsewhere): said on stderr, failed.
    if (streams.length === 0 && sources.length > 0) return EXIT.failed;
    await showLogs(streams, { lines, follow: values.follow === true, json });
    return EXIT.ok;
  },
};
