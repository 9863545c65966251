/**
 * Wait for a condition with a deadline: poll every few ms, fail with the
 * last observation. Never sleep-and-hope. `what` may be a function, so that
 * a failure shows the state at the deadline (a log), not at the start.
 */
export async function waitFor<T>(
  what: string | (() => string),
  probe: () => T | null | undefined | false | Promise<T | null | undefined | false>,
  { timeoutMs = 10_000, intervalMs = 10 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== null && value !== undefined && value !== false) return value as T;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs}ms waiting for ${typeof what === 'function' ? what() : what} (last: ${String(last)})`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
