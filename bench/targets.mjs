// The report's last section: proclaunch against issue 16's targets, each met
// or missed with the figure of this run (medians), rows only for the sections
// that ran.
import { bulkSamples } from './bulk.mjs';
import { fmtCpu, fmtMs, median } from './format.mjs';

const S6 = ['s6+readiness', 's6'];

/**
 * `run` = { sections (Set), scales (SCALES), plan (bulkPlan), bulk (bulkBench's),
 * results (name → { scales, footprint }), footprintN (the largest N of section 5) }.
 */
export function targetsReport({ sections, scales, plan, bulk, results, footprintN }) {
  const lines = ['| target | measured | |', '|---|---|---|'];
  const row = (target, measured, ok) => lines.push(`| ${target} | ${measured ?? '—'} | ${ok === null || ok === undefined ? 'not measured' : ok ? 'met' : '**missed**'} |`);
  const med = (xs) => (xs.length ? median(xs) : null);
  const scaleMed = (name, n, key) => {
    const v = results.get(name)?.scales.get(n)?.[key];
    return Array.isArray(v) && v.length ? median(v) : null;
  };
  const change = (lo, hi) => `${hi >= lo ? '+' : ''}${(((hi - lo) / lo) * 100).toFixed(0)}%`;
  const bulkMed = (name, n, key) => (bulk ? med(bulkSamples(bulk, name, n, key)) : null);
  const known = (pairs) => pairs.filter(([, v]) => v !== null);

  if (sections.has('bulk') && bulk) {
    const node = med(bulk.bareNodeMs);
    for (const n of plan.sizes) {
      const first = bulkMed('proclaunch', n, 'first');
      row(`first service running ≤ bare \`node -e 0\` + 30 ms (${fmtMs(node)} + 30 ms), N = ${n}`, first === null ? null : fmtMs(first), first === null ? null : first <= node + 30);
    }
    const ours = bulkMed('proclaunch', plan.bulk, 'all');
    const s6 = bulkMed('s6+readiness', plan.bulk, 'all');
    const floor = bulkMed('floor', plan.bulk, 'all');
    {
      const theirs = [s6 === null ? 's6+readiness not in this run' : `s6+readiness ${fmtMs(s6)}`, floor === null ? 'floor not measured' : `floor ${fmtMs(floor)} (×1.2 = ${fmtMs(1.2 * floor)})`];
      let ok = null;
      if (ours !== null && s6 !== null && ours < s6) ok = true;
      else if (ours !== null && floor !== null && (s6 === null || floor > s6)) ok = ours <= 1.2 * floor;
      else if (ours !== null && s6 !== null) ok = false; // behind s6, and the floor is faster than s6 (or not measured)
      row(`all ${plan.bulk} running: ahead of s6+readiness, or within 1.2× the posix_spawn floor where the floor is slower than s6`, ours === null ? null : `${fmtMs(ours)}; ${theirs.join(', ')}`, ok);
    }
    const big = bulkMed('proclaunch', 2 * plan.bulk, 'all');
    row(`all ${2 * plan.bulk} running ≤ 2 × all ${plan.bulk}`, big === null || ours === null ? null : `${fmtMs(big)} vs 2 × ${fmtMs(ours)}`, big === null || ours === null ? null : big <= 2 * ours);
    const stop = bulkMed('proclaunch', plan.bulk, 'stop');
    row(`stop of ${plan.bulk} ≤ 100 ms`, stop === null ? null : fmtMs(stop), stop === null ? null : stop <= 100);
    const pss = bulkMed('proclaunch', plan.bulk, 'pss');
    const naive = bulkMed('node-naive', plan.bulk, 'pss');
    row(`PSS at ${plan.bulk}, ${plan.settleMs / 1000} s after the last service is running, within 8 MiB of node-naive`, pss === null ? null : `${pss.toFixed(1)} MiB; node-naive ${naive === null ? 'not measured' : `${naive.toFixed(1)} MiB (${pss - naive >= 0 ? '+' : ''}${(pss - naive).toFixed(1)})`}`, pss === null || naive === null ? null : pss - naive <= 8);
    const peers = known(['runit', ...S6].map((name) => [name, bulkMed(name, plan.bulk, 'pss')]));
    row(`PSS at ${plan.bulk} below runit's and s6's`, pss === null ? null : `${pss.toFixed(1)} MiB; ${peers.length ? peers.map(([name, v]) => `${name} ${v.toFixed(1)}`).join(', ') : 'runit and s6 not in this run'}`, pss === null || !peers.length ? null : peers.every(([, v]) => pss < v));
    const tail = bulk ? bulkSamples(bulk, 'proclaunch', plan.bulk, 'tailCpu') : [];
    row(`CPU in the ${plan.tailMs / 1000} s after a bulk start of ${plan.bulk} ≤ 20 ms`, tail.length ? `${fmtCpu(median(tail))} (runs: ${tail.map(fmtCpu).join(', ')})` : null, tail.length ? median(tail) <= 20 : null);
    const heap = bulk.heap && !bulk.heap.error ? bulk.heap.perService : null;
    row('live heap per idle service halved: ≤ 10 KB (the README said ~20 KB)', heap === null ? null : `${(heap / 1000).toFixed(1)} KB (${(bulk.heap.perServiceNoCode / 1000).toFixed(1)} KB without compiled code)`, heap === null ? null : heap <= 10_000);
  }
  if (sections.has('footprint')) {
    const f = results.get('proclaunch')?.footprint.get(footprintN);
    const ok = f && !f.error;
    // "0": under 0.5 ms, what the kernel's accounting shows for a process that no timer or poll wakes.
    row(`steady-state idle with ${footprintN}: 0 ms per 30 s (under 0.5)`, ok ? `${f.cpuMsPer30s.toFixed(1)} ms` : null, ok ? f.cpuMsPer30s < 0.5 : null);
  }
  if (sections.has('latency')) {
    for (const n of scales) {
      const m = scaleMed('proclaunch', n, 'restart');
      const peers = known(['runit', ...S6].map((name) => [name, scaleMed(name, n, 'restart')]));
      const best = peers.length ? Math.min(...peers.map(([, v]) => v)) : null;
      row(`restart after kill -9 ≤ the best of runit and s6 (N = ${n})`, m === null ? null : `${fmtMs(m)}; ${peers.length ? peers.map(([name, v]) => `${name} ${fmtMs(v)}`).join(', ') : 'runit and s6 not in this run'}`, m === null || best === null ? null : m <= best);
    }
  }
  const [lo, hi] = [scales[0], scales.at(-1)];
  if (sections.has('latency') && hi !== lo) {
    for (const key of ['restart', 'pickup', 'daemon']) {
      const [a, b] = [scaleMed('proclaunch', lo, key), scaleMed('proclaunch', hi, key)];
      row(`${key} at N = ${hi} ≤ 1.2 × N = ${lo}`, a === null || b === null ? null : `${fmtMs(a)} → ${fmtMs(b)} (${change(a, b)})`, a === null || b === null ? null : b <= 1.2 * a);
    }
  }
  if (sections.has('bulk') && bulk) {
    const [a, b] = [bulkMed('proclaunch', plan.sizes[0], 'first'), bulkMed('proclaunch', plan.sizes.at(-1), 'first')];
    row(`first running at N = ${plan.sizes.at(-1)} ≤ 1.2 × N = ${plan.sizes[0]}`, a === null || b === null ? null : `${fmtMs(a)} → ${fmtMs(b)} (${change(a, b)})`, a === null || b === null ? null : b <= 1.2 * a);
  }
  return lines;
}
