// `proclaunch ps`: every process of every service's process group (lancelot's view).
import { ask } from '../../control/client.js';
import type { PsRow } from '../../process/ps.js';
import { DEFAULT_PS_FORMAT, PS_COLUMNS, formatPs, parsePsFormat } from '../ps-format.js';
import { EXIT, UsageError } from '../usage.js';
import { checkPatterns, out, refused, type Command } from './command.js';

export const ps: Command = {
  options: { format: { type: 'string', short: 'o' } },
  help: `Usage: proclaunch ps [NAME|GLOB ...] [-o FORMAT] [--json]
Every process of every service's process group (or of the named ones), its children included.
  -o FORMAT    columns, comma-separated, of ${PS_COLUMNS.join(',')}
  --json       the processes as a JSON array
Example: proclaunch ps 'worker@*' -o profile,pid,rss,args
`,
  async run({ stateDir, names, values, json }) {
    const columns = values.format === undefined ? DEFAULT_PS_FORMAT : parsePsFormat(values.format as string);
    if (typeof columns === 'string') throw new UsageError(`ps: ${columns}`);
    const reply = await ask(stateDir, { command: 'ps', names: checkPatterns('ps', names) });
    const refusal = refused(reply);
    if (refusal !== null) return refusal;
    const rows = reply.processes as PsRow[];
    out(json ? `${JSON.stringify(rows)}\n` : formatPs(rows, columns));
    return EXIT.ok;
  },
};
