// notify.ts keeps a run (its trust, and what it sent while nobody listened)
// across listeners: the machine listens from one state after another, and a
// run is expected from its spawn, before the machine's first listener.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { interpretDatagram, type NotifyResult } from '../src/process/notify-message.js';
import { expectNotifyRun, holdNotifySocket, notifySupport, openNotifySocket, releaseNotifySocket, watchNotify } from '../src/process/notify.js';
import { waitFor } from './support/wait.js';

const support = notifySupport();
const dir = mkdtempSync(join(tmpdir(), 'proclaunch-notify-runs-'));
const SEND = join(dir, 'send.py');
// argv: address, then datagrams, each sent after the file named GO-N appears (N from 1), then sleep.
// READ-N appears once the receiver has read datagram N: a datagram is charged to its sender's socket until
// it is read (SIOCOUTQ, = TIOCOUTQ, back to 0), and notify.ts reads and handles it in one callback.
writeFileSync(
  SEND,
  `import fcntl, os, socket, struct, sys, termios, time
a = sys.argv[1]
a = '\\0' + a[1:] if a.startswith('@') else a
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
unread = lambda: struct.unpack('i', fcntl.ioctl(s.fileno(), termios.TIOCOUTQ, b'\\0' * 4))[0]
for i, text in enumerate(sys.argv[2:], 1):
    while not os.path.exists('GO-%d' % i): time.sleep(0.005)
    s.sendto(text.encode(), a)
    while unread() > 0: time.sleep(0.005)
    open('READ-%d' % i, 'w').close()
time.sleep(30)
`,
);

const children: ChildProcess[] = [];
const stateDir = mkdtempSync(join(dir, 'state-'));
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});
afterAll(() => {
  releaseNotifySocket(stateDir, 'runs');
  rmSync(dir, { recursive: true, force: true });
});

function sender(cwd: string, address: string, ...texts: string[]): ChildProcess {
  const child = spawn('python3', [SEND, address, ...texts], { cwd, stdio: 'ignore' });
  children.push(child);
  return child;
}
const go = (cwd: string, n: number) => writeFileSync(join(cwd, `GO-${n}`), '');
/** Datagram n was sent and read by notify.ts (which, with no listener, keeps what it says for the next one). */
const read = (cwd: string, n: number) => waitFor(`datagram ${n} sent and read`, () => {
  try {
    return rmSync(join(cwd, `READ-${n}`)) === undefined;
  } catch {
    return false;
  }
});

describe.skipIf(support !== null)(`notify runs across listeners${support ? ` (SKIPPED: ${support})` : ''}`, () => {
  it('what a run sends before the first listener and between two listeners is given to the next, in order; a MAINPID= stays trusted', async () => {
    const { address } = holdNotifySocket(stateDir, 'runs');
    const cwd = mkdtempSync(join(dir, 'run-'));
    const child = sender(cwd, address, 'STATUS=early', 'MAINPID=X', 'READY=1\nSTATUS=up', 'STATUS=late');
    expectNotifyRun(address, { pid: child.pid!, uid: null });
    go(cwd, 1);
    await read(cwd, 1); // before the first listener: kept, not told
    const first: NotifyResult[] = [];
    const stopFirst = watchNotify(address, { pid: child.pid!, uid: null }, (r) => first.push(r));
    await waitFor('the early status, kept', () => first.length === 1);
    expect(first).toEqual([{ kind: 'status', text: 'early' }]);
    go(cwd, 2); // MAINPID=X: not a pid, ignored with a reason
    await waitFor('the bad MAINPID', () => first.length === 2);
    stopFirst();
    go(cwd, 3);
    await read(cwd, 3); // between two listeners: kept for the second
    const second: NotifyResult[] = [];
    watchNotify(address, { pid: child.pid!, uid: null }, (r) => second.push(r));
    await waitFor('READY=1 and STATUS=up, kept for the second listener', () => second.length === 2);
    expect(second).toEqual([{ kind: 'ready' }, { kind: 'status', text: 'up' }]);
    expect(first).toHaveLength(2);
  });

  it('a listener for the MAINPID= a run gave goes on with that run; another pid is a new run, and what the old one left is dropped', async () => {
    const { address } = holdNotifySocket(stateDir, 'runs');
    const cwd = mkdtempSync(join(dir, 'run-'));
    // sh is the run; its `sleep` is the main pid it names, and the sender is its child (trusted as the run's descendant).
    const run = spawn('sh', ['-c', `sleep 30 & echo $! > main; python3 ${SEND} ${address} "MAINPID=$(cat main)" STATUS=from-main-listener STATUS=stale STATUS=next; wait`], { cwd, stdio: 'ignore', detached: true });
    children.push(run);
    expectNotifyRun(address, { pid: run.pid!, uid: null });
    const results: NotifyResult[] = [];
    const stop = watchNotify(address, { pid: run.pid!, uid: null }, (r) => results.push(r));
    go(cwd, 1);
    const main = await waitFor('MAINPID= accepted', () => results.find((r) => r.kind === 'mainpid'));
    stop();
    const mainPid = (main as Extract<NotifyResult, { kind: 'mainpid' }>).proc.pid;
    const fromMain: NotifyResult[] = [];
    const stopMain = watchNotify(address, { pid: mainPid, uid: null }, (r) => fromMain.push(r));
    go(cwd, 2);
    await waitFor('the status, to the main pid\'s listener', () => fromMain.length === 1);
    expect(fromMain).toEqual([{ kind: 'status', text: 'from-main-listener' }]);
    stopMain();
    go(cwd, 3);
    await read(cwd, 3); // STATUS=stale, kept for the main pid's run
    const other: NotifyResult[] = [];
    watchNotify(address, { pid: process.pid, uid: null }, (r) => other.push(r));
    // What was kept would come first, in the next tick; what the sender (a descendant of this process) sends now
    // comes after it: the first thing this listener is told is that, so STATUS=stale was dropped.
    go(cwd, 4);
    await waitFor('the next status, to the new run\'s listener', () => other.length > 0);
    expect(other).toEqual([{ kind: 'status', text: 'next' }]);
    try {
      process.kill(-run.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  });
});

describe('sd_notify_barrier (systemd-notify waits for it)', () => {
  it('a datagram of quietly ignored keys only (BARRIER=1) is not traced: its sender may be gone already', () => {
    const gone = { data: Buffer.from('BARRIER=1'), size: 9, truncated: false, pid: 999_999_999, uid: 0 };
    expect(interpretDatagram(gone, { pid: process.pid, uid: null, mainPids: [] })).toEqual([]);
  });

  it.skipIf(support !== null)('the fd sent with BARRIER=1 is closed only after the datagram was handled: its sender is still there to be traced', async () => {
    const seen: { text: string; alive: boolean }[] = [];
    const alive = (pid: number): boolean => {
      try {
        return !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'latin1'));
      } catch {
        return false;
      }
    };
    const pause = new Int32Array(new SharedArrayBuffer(4));
    const socket = openNotifySocket((d) => {
      // Within the callback, give an answered sender half a second to end (it would at once): it must not have been answered yet.
      for (let waited = 0; waited < 500 && alive(d.pid); waited += 10) Atomics.wait(pause, 0, 0, 10);
      seen.push({ text: d.data?.toString() ?? '', alive: alive(d.pid) });
    });
    // sd_notify_barrier: BARRIER=1 with the write end of a pipe, then wait until the receiver closes it (POLLHUP).
    const barrier = `import array, os, select, socket
a = '\\0' + os.environ['A'][1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
r, w = os.pipe()
s.sendmsg([b'BARRIER=1'], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array('i', [w]))], 0, a)
os.close(w)
p = select.poll(); p.register(r, select.POLLHUP)
print('answered' if p.poll(5000) else 'timeout')
`;
    const child = spawn('python3', ['-c', barrier], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, A: socket.address } });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    await waitFor('the barrier answered', () => out.includes('answered') || out.includes('timeout'));
    socket.close();
    expect(out.trim()).toBe('answered');
    expect(seen).toEqual([{ text: 'BARRIER=1', alive: true }]);
  });
});
