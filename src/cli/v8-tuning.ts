// V8 flags for a long-lived process that is idle nearly always, set as the
// supervisor starts (no launcher: a re-exec would cost a second Node boot
// before the first service). Only flags V8 reads when it uses them take
// effect this late: these two do (bench/RESULTS.md § 4 has the figures).
import { setFlagsFromString } from 'node:v8';

export function tuneV8ForIdle(): void {
  // V8 sizes its heap for throughput: at 500 services this halves the supervisor's memory.
  setFlagsFromString('--optimize-for-size');
  // The memory reducer's first GC after the start returns its garbage; the next ones (3 in all on Node 20,
  // 2 on 22 and 24, 0.5–8 s apart) found nothing more here and were most of the CPU in the 30 s after a
  // bulk start (~40 ms each at 500 services). The flag's name changed with V8 12 (Node 22).
  const v8Major = Number(process.versions.v8.split('.')[0]);
  setFlagsFromString(v8Major >= 12 ? '--memory-reducer-gc-count=1' : '--memory-reducer-single-gc');
}
