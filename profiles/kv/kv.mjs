// A tiny redis-like store, to show readiness without installing redis: one
// command a line over TCP on 127.0.0.1 (PING, SET key value, GET key,
// INCR key), its port in $PROCLAUNCH_STATE/kv.port. It says it is ready on
// fd 3 (the `notification-fd` file) only once it listens: until then the
// profiles that `need` kv wait.
import { closeSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const data = new Map();
const answer = ([command = '', key, ...rest]) => {
  switch (command.toUpperCase()) {
    case 'PING': return 'PONG';
    case 'SET': data.set(key, rest.join(' ')); return 'OK';
    case 'GET': return data.has(key) ? data.get(key) : '(nil)';
    case 'INCR': data.set(key, String(Number(data.get(key) ?? 0) + 1)); return data.get(key);
    default: return `ERR unknown command ${JSON.stringify(command)}`;
  }
};

const server = createServer((socket) => {
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk) => {
    buffered += chunk;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      socket.write(`${answer(buffered.slice(0, nl).trim().split(/\s+/))}\n`);
      buffered = buffered.slice(nl + 1);
    }
  });
});

// An ephemeral port: two supervisors on one host never collide.
server.listen(0, '127.0.0.1', () => {
  const portFile = join(process.env.PROCLAUNCH_STATE ?? '.', 'kv.port');
  writeFileSync(`${portFile}.tmp`, `${server.address().port}\n`);
  renameSync(`${portFile}.tmp`, portFile); // whole, or not there: a client never reads half a port
  console.log(`kv listening on 127.0.0.1:${server.address().port}`);
  writeSync(3, '\n'); // ready
  closeSync(3);
});
process.on('SIGTERM', () => process.exit(0));
