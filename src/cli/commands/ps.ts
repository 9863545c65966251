// `proclaunch ps`: every process of every service's process group (lancelot's view).
import { ask } from '../../control/client.js';
import type { PsRow } from '../../process/ps.js';
import { DEFAULT_PS_FORMAT, PS_COLUMNS, formatPs, parsePsFormat } from '../ps-format.js';
import { EXIT, UsageError } from '../usage.js';
import { failed, out, type Command } from './command.js';

export const ps: Command = {
  options: { format: { type: 'string', short: 'o' } },
  help: `Usage: proclaunch ps [-o FORMAT] [--json]
Every process of every service's process group, its children included.
  -o FORMAT    columns, comma-separated, of ${PS_COLUMNS.join(',')}
  --json       the processes as a JSON array
Example: proclaunch ps -o profile,pid,rss,args
`,
  async run({ stateDir, values, json }) {
    const columns = values.format === undefined ? DEFAULT_PS_FORMAT : parsePsFormat(values.format as string);
    if (typeof columns === 'string') throw new UsageError(`ps: ${columns}`);
    const reply = await ask(stateDir, { command: 'ps' });
    if (failed(reply)) return EXIT.failed;
    const rows = reply.processes as PsRow[];
    out(json ? `${JSON.stringify(rows)}\n` : formatPs(rows, columns));
    return EXIT.ok;
  },
};
