// When a profile is looked at: one look at a time per profile (asked again
// meanwhile, it looks once more after), and bursts of filesystem events
// coalesced into one look each, plus one trailing look after chokidar's window.

/** chokidar emits at most one `change` per file per 50 ms and drops the rest. */
const CHOKIDAR_CHANGE_THROTTLE_MS = 50;

export class Looks {
  private readonly queued = new Set<string>();
  private flushTimer: NodeJS.Timeout | null = null;
  /** The trailing look of each flushed batch: one timer a batch, so a busy profile never postpones another's. */
  private readonly trailing = new Map<NodeJS.Timeout, string[]>();
  /** Looks under way, by name: asking again waits for the look after it. */
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private closed = false;

  /** lookOnce reads profile NAME and acts on it; never called twice at once for one name. */
  constructor(
    private readonly lookOnce: (name: string) => Promise<void>,
    private readonly debounceMs: number,
  ) {}

  /**
   * Look at profile NAME now; asked again while a look is under way, it looks
   * once more after, and the promise resolves once that look is done too (so
   * `rescan` answers after every profile has been read as it is now).
   */
  now(name: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    const current = this.inFlight.get(name);
    if (current) {
      this.again.add(name);
      return current;
    }
    // Registered before it starts, so that its own end always finds it there.
    const looking = Promise.resolve().then(() => this.lookAndAgain(name));
    this.inFlight.set(name, looking);
    return looking;
  }

  /**
   * A filesystem event touched profile NAME: look at it soon, once per burst,
   * and once more after chokidar's 50 ms window in which it drops further
   * `change` events for the same file (a write then a chmod would be lost).
   */
  soon(name: string): void {
    this.queued.add(name);
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = null;
      const names = [...this.queued];
      this.queued.clear();
      for (const n of names) void this.now(n);
      const timer = setTimeout(() => {
        this.trailing.delete(timer);
        for (const n of names) void this.now(n);
      }, CHOKIDAR_CHANGE_THROTTLE_MS + 10);
      this.trailing.set(timer, names);
    }, this.debounceMs);
  }

  /**
   * Names waiting or under way (for tests: nothing of a forgotten name may stay).
   * There is no forget(NAME): a look asked for is never dropped, since the event
   * that asked may be a new profile of the same name (`mv e c` just as the old c
   * is released). Each ends by itself within ~60 ms; a name that is gone reads as missing.
   */
  count(): number {
    return this.queued.size + [...this.trailing.values()].reduce((n, names) => n + names.length, 0) + this.inFlight.size + this.again.size;
  }

  close(): void {
    this.closed = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    for (const timer of this.trailing.keys()) clearTimeout(timer);
    this.trailing.clear();
  }

  private async lookAndAgain(name: string): Promise<void> {
    try {
      await this.lookOnce(name);
    } finally {
      this.inFlight.delete(name);
      if (this.again.delete(name)) await this.now(name);
    }
  }
}
