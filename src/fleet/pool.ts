// At most `parallel` hosts at once (-p); results in the order of the hosts, whatever order
// they finish in. Each job bounds itself (its -t deadline), so one slow host holds up only
// its own slot.
export async function pool<T, R>(items: readonly T[], parallel: number, job: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await job(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, worker));
  return results;
}

/** Batches of `size` in order; `batch` says whether to go on (rolling: stop at the first failure). */
export async function inBatches<T, R>(items: readonly T[], size: number, batch: (items: T[]) => Promise<{ results: R[]; goOn: boolean }>): Promise<{ results: R[]; left: T[] }> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += size) {
    const done = await batch(items.slice(start, start + size));
    results.push(...done.results);
    if (!done.goOn) return { results, left: items.slice(start + size) };
  }
  return { results, left: [] };
}
