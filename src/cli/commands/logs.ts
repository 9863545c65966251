// `proclaunch logs`: the supervisor says where a service's output is; we read the file ourselves.
import { ask } from '../../control/client.js';
import { follow, tail } from '../tail.js';
import { EXIT, UsageError } from '../usage.js';
import { failed, out, type Command } from './command.js';

export const logs: Command = {
  options: { follow: { type: 'boolean', short: 'f' }, lines: { type: 'string', short: 'n' } },
  help: `Usage: proclaunch logs NAME [-f] [-n LINES]
The service's captured output (STATE_DIR/logs/TAG.log and its rotations).
  -n LINES     the last LINES lines (default 10)
  -f           then follow new lines as they arrive, across rotations
Example: proclaunch logs web -n 50 -f
`,
  async run({ stateDir, names, values }) {
    if (names.length !== 1) throw new UsageError('logs: give exactly one profile name');
    const lines = values.lines === undefined ? 10 : Number(values.lines);
    if (!Number.isInteger(lines) || lines < 0) throw new UsageError(`logs: -n takes a number of lines, not ${JSON.stringify(values.lines)}`);
    const reply = await ask(stateDir, { command: 'logs', name: names[0] });
    if (failed(reply)) return EXIT.failed;
    const path = reply.stdout as string;
    const { text, end } = await tail(path, lines);
    out(text);
    if (values.follow !== true) return EXIT.ok;
    const following = follow(path, end, (chunk) => process.stdout.write(chunk));
    await new Promise<void>((done) => {
      const stop = () => {
        following.stop();
        done();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      process.stdout.once('error', stop); // `| head` closed the pipe
    });
    return EXIT.ok;
  },
};
