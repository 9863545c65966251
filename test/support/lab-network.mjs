// Where the test hosts of ssh-lab.mjs live on the network: each in a network namespace with
// a veth pair into a bridge of the run's own (10.X.Y.N, a /24 no interface here uses), or,
// where namespaces cannot be made (not root, no ip, a kernel that refuses), each on its own
// loopback address (127.0.0.N) and a free port. Namespaces and bridges carry the pid of the
// run that made them: a later run removes those of a run that was killed.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';

const ip = (...args) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

function freePort(address) {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, address, () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

function sweepStale() {
  let names = [];
  try {
    names = ip('netns', 'list').split('\n').map((line) => line.split(' ')[0]).filter(Boolean);
  } catch {
    return;
  }
  for (const name of names) {
    const match = /^plfleet-(\d+)-/.exec(name);
    if (match && !existsSync(`/proc/${match[1]}`)) spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  }
  const links = spawnSync('ip', ['-o', 'link', 'show', 'type', 'bridge'], { encoding: 'utf8' }).stdout ?? '';
  for (const match of links.matchAll(/^\d+: (plb(\d+)):/gm)) {
    if (!existsSync(`/proc/${match[2]}`)) spawnSync('ip', ['link', 'del', match[1]], { stdio: 'ignore' });
  }
}

function namespacesWork() {
  if (!has('ip')) return false;
  const probe = `plfleet-${process.pid}-probe`;
  const made = spawnSync('ip', ['netns', 'add', probe], { stdio: 'ignore' }).status === 0;
  if (made) spawnSync('ip', ['netns', 'del', probe], { stdio: 'ignore' });
  return made;
}

function freeSubnet() {
  const used = ip('-4', '-o', 'addr');
  for (let i = 0; i < 200; i++) {
    const n = (process.pid + i * 7919) % 62000;
    const subnet = `10.${100 + (Math.floor(n / 250) % 150)}.${n % 250}`;
    if (!used.includes(` ${subnet}.`)) return subnet;
  }
  throw new Error('no free 10.x.y.0/24 for the test hosts');
}

export class LabNetwork {
  /** `mode`: 'netns' or 'loopback'; by default namespaces where they can be made. */
  constructor(mode) {
    this.mode = mode ?? (namespacesWork() ? 'netns' : 'loopback');
    this.namespaces = [];
    if (this.mode !== 'netns') return;
    sweepStale();
    this.subnet = freeSubnet();
    this.bridge = `plb${process.pid}`.slice(0, 15);
    ip('link', 'add', this.bridge, 'type', 'bridge');
    ip('addr', 'add', `${this.subnet}.1/24`, 'dev', this.bridge);
    ip('link', 'set', this.bridge, 'up');
  }

  /** Host number `index` (1, 2, ...): its address, port, and how to run a program there. */
  async place(index) {
    if (this.mode !== 'netns') {
      const address = `127.0.0.${10 + index}`;
      return { address, port: await freePort(address), exec: (argv) => argv };
    }
    const netns = `plfleet-${process.pid}-${index}`;
    const address = `${this.subnet}.${10 + index}`;
    const outside = `plv${process.pid}h${index}`.slice(-15);
    const inside = `plv${process.pid}n${index}`.slice(-15);
    ip('netns', 'add', netns);
    this.namespaces.push(netns);
    ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside);
    ip('link', 'set', inside, 'netns', netns);
    ip('link', 'set', outside, 'master', this.bridge, 'up');
    ip('-n', netns, 'addr', 'add', `${address}/24`, 'dev', inside);
    ip('-n', netns, 'link', 'set', inside, 'up');
    ip('-n', netns, 'link', 'set', 'lo', 'up');
    // `ip netns exec` execs the program (no fork): its pid is the program's.
    return { address, port: 22, exec: (argv) => ['ip', 'netns', 'exec', netns, ...argv] };
  }

  /** After every process in them has been ended: the namespaces (their veth pairs go with them), the bridge. */
  close() {
    for (const netns of this.namespaces) spawnSync('ip', ['netns', 'del', netns], { stdio: 'ignore' });
    if (this.bridge) spawnSync('ip', ['link', 'del', this.bridge], { stdio: 'ignore' });
  }
}
