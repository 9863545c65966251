// One command to the kv store, its answer on stdout; exit 1 if kv does not
// answer within 2 s (so that `health` and `ready` probes fail, not hang).
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';

const fail = (why) => {
  console.error(`kv: ${why}`);
  process.exit(1);
};
let port;
try {
  port = Number(readFileSync(join(process.env.PROCLAUNCH_STATE ?? '.', 'kv.port'), 'utf8'));
} catch (error) {
  fail(`no port file: ${error.message}`);
}
setTimeout(() => fail('no answer within 2s'), 2000).unref();
const socket = connect(port, '127.0.0.1', () => socket.write(`${process.argv.slice(2).join(' ')}\n`));
socket.setEncoding('utf8');
socket.on('error', (error) => fail(error.message));
let reply = '';
socket.on('data', (chunk) => {
  reply += chunk;
  if (!reply.includes('\n')) return;
  process.stdout.write(reply);
  socket.end();
  process.exit(reply.startsWith('ERR') ? 1 : 0);
});
