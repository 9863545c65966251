// When to look at which profile. Filesystem events (fs-events.ts), coalesced
// and looked at again after chokidar's 50 ms window (looks.ts); a full look at start-up,
// on SIGHUP, `rescan` and when PROFILES_DIR itself comes, goes or is replaced;
// and the safety net, a stat()-only pass every --rescan-interval. What it hands
// over is only "look at profile NAME now", one look at a time per profile.
import { statSync } from 'node:fs';
import { readdir } from '../profile/files.js';
import { join } from 'node:path';
import { quote } from '../log/escape.js';
import { BAD_NAME_REASON, judgeName } from '../profile/names.js';
import { profileSignature } from '../profile/signature.js';
import type { Level } from '../vocabulary/levels.js';
import { directoryIdentity, openFsEvents, type FsEvents } from './fs-events.js';
import { Looks } from './looks.js';

/** What is known when a profile is looked at. */
export interface Look {
  /** Its files changed on disk since the last look (even if back to the same content). */
  touched: boolean;
  /** PROFILES_DIR is not there (or not readable): every profile counts as missing. */
  rootMissing: boolean;
}

export interface ProfileWatcherOptions {
  profilesDir: string;
  log(level: Level, message: string): void;
  /** Read profile NAME and act on it. Never called twice at once for one name. */
  look(name: string, look: Look): Promise<void>;
  /** Profile names something is held for: a full look covers them even once their directory is gone. */
  known(): Iterable<string>;
  /** The safety net's period (default 300 s). */
  rescanIntervalMs?: number;
  /** Its period once the inotify watch limit is hit and events are off (default 5 s). */
  fallbackRescanMs?: number;
  /** Coalesce a burst of filesystem events into one look at each profile (default 1 ms). */
  debounceMs?: number;
}

/** Profiles looked at per event-loop turn by the safety net (~20 µs each). */
const SAFETY_NET_SLICE = 100;
/** Profiles read at once in a full look: enough to keep libuv's 4 file-system threads busy. */
const LOOKS_AT_ONCE = 8;
/** While PROFILES_DIR is gone, look for its return this often. */
const MISSING_ROOT_POLL_MS = 1000;

export class ProfileWatcher {
  private events: FsEvents | null = null;
  /** FsEvents being set up (chokidar loading). */
  private opening: Promise<void> = Promise.resolve();
  private readonly looks: Looks;
  private rescanTimer: NodeJS.Timeout | null = null;
  private rootMissing = false;
  private rootIdentity: string | null = null;
  private watchFailed = false; // inotify refused us: the safety net is all we have
  private closed = false;
  /** Entries skipped with a WARN (a bad name), so that it is said once while they are there. */
  private readonly badNames = new Set<string>();
  /** Each profile's stat() summary when it was last looked at, and the extra paths (`watch`) it covers. */
  private readonly signatures = new Map<string, string>();
  private readonly watchLists = new Map<string, string[]>();

  constructor(private readonly options: ProfileWatcherOptions) {
    this.looks = new Looks((name) => this.lookOnce(name), options.debounceMs ?? 1);
  }

  /** PROFILES_DIR was not there at the last full look. */
  get missing(): boolean {
    return this.rootMissing;
  }

  /**
   * Start watching, and the safety net. Called after the first full look
   * (`rescan`), so that setting up a watch on every profile does not delay
   * the first services; what changed meanwhile is found by the stat-only
   * pass, run once the watch is set up and again when chokidar is ready.
   */
  start(): void {
    void this.startEvents();
    this.setRescanInterval(this.steadyRescanMs());
  }

  private startEvents(): Promise<void> {
    const opening = openFsEvents({
      profilesDir: this.options.profilesDir,
      onProfile: (name) => {
        this.options.log('DEBUG', `filesystem event for ${quote(name)}`);
        this.queue(name);
      },
      onRoot: () => void this.rescan(),
      // Not a full rescan (a second reading of every profile just after start-up): the stat-only pass
      // finds what changed since each was read, as the signature each look took before reading says.
      onReady: () => void this.safetyNet(),
      onError: (error) => this.eventsFailed(error),
    }).then(
      (events) => {
        // Closed meanwhile, or refused at once (the inotify limit: its error came before this).
        if (this.closed || this.watchFailed) return void events.close();
        this.events = events;
        // What the looks so far asked to watch (`watch` files), asked before there was a watch.
        for (const [name, paths] of this.watchLists) events.setWatchList(name, paths);
        // What came, went or changed in PROFILES_DIR since the first look and before this watch (and again at `ready`, for inside the profiles).
        void this.safetyNet();
      },
      (error: Error) => this.options.log('ERROR', `cannot watch ${this.options.profilesDir}: ${error.message}; rescanning every ${this.steadyRescanMs() / 1000}s only`),
    );
    this.opening = opening;
    return opening;
  }

  private steadyRescanMs(): number {
    return this.watchFailed ? (this.options.fallbackRescanMs ?? 5000) : (this.options.rescanIntervalMs ?? 300_000);
  }

  private eventsFailed(error: NodeJS.ErrnoException): void {
    const { profilesDir } = this.options;
    if (error.code !== 'ENOSPC' && error.code !== 'EMFILE') return this.options.log('WARN', `watching ${profilesDir}: ${error.message}`);
    this.watchFailed = true;
    const every = this.steadyRescanMs();
    this.options.log('ERROR', `cannot watch ${profilesDir}: the inotify watch limit is reached (${error.code}); raise it with \`sysctl fs.inotify.max_user_watches=524288\`; until restarted, rescanning every ${every / 1000}s instead`);
    void this.events?.close();
    this.events = null;
    if (!this.rootMissing) this.setRescanInterval(every);
  }

  private setRescanInterval(ms: number): void {
    if (this.rescanTimer) clearInterval(this.rescanTimer);
    this.rescanTimer = setInterval(() => void this.safetyNet(), ms);
  }

  /** Look at every profile now (start-up, SIGHUP, `rescan`, PROFILES_DIR itself changed). */
  async rescan(): Promise<void> {
    if (this.closed) return;
    const { profilesDir } = this.options;
    let entries: string[];
    try {
      entries = await readdir(profilesDir);
    } catch (error) {
      if (!this.rootMissing) {
        this.options.log('ERROR', `profiles directory ${profilesDir} is not readable: ${(error as Error).message}; its services are stopped until it is back`);
        this.setRescanInterval(MISSING_ROOT_POLL_MS); // only while it is gone
      }
      this.rootMissing = true;
      await Promise.all([...new Set(this.options.known())].map((name) => this.look(name)));
      return;
    }
    const identity = directoryIdentity(profilesDir);
    if (!this.rootMissing && identity !== null && this.rootIdentity !== null && identity !== this.rootIdentity && this.events) {
      this.options.log('INFO', `profiles directory ${profilesDir} is now another directory; watching it`);
      await this.restartEvents();
    }
    this.rootIdentity = identity;
    if (this.rootMissing) {
      this.rootMissing = false;
      this.options.log('INFO', `profiles directory ${profilesDir} is back`);
      this.setRescanInterval(this.steadyRescanMs());
      await this.restartEvents(); // the old watch died with the directory
    }
    const present = new Set<string>();
    for (const name of entries) {
      const verdict = judgeName(name);
      if (verdict === 'profile') present.add(name);
      else if (verdict === 'invalid' && !this.badNames.has(name)) {
        this.badNames.add(name);
        this.options.log('WARN', `skipped ${quote(name)}: ${BAD_NAME_REASON}`);
      }
    }
    for (const name of this.badNames) if (!entries.includes(name)) this.badNames.delete(name); // gone: said again if it comes back
    for (const name of this.options.known()) present.add(name);
    await this.lookAtAll([...present]);
  }

  /**
   * A few looks at a time, not all at once: 500 reads issued together finish
   * together, so the first service would start only once every profile is
   * read. This way services start while the others are still being read.
   */
  private async lookAtAll(names: string[]): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < names.length) await this.look(names[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(LOOKS_AT_ONCE, names.length) }, worker));
  }

  private async restartEvents(): Promise<void> {
    await this.opening;
    if (!this.events) return;
    await this.events.close();
    this.events = null;
    if (!this.closed) await this.startEvents();
  }

  /**
   * The safety-net pass: what filesystem events may have missed (an inotify
   * queue overflow). Only stat() of each profile's files, compared with what
   * they were when it was last looked at; a profile is read again only if
   * they differ. In slices, so that no slice blocks the event loop for long.
   */
  private async safetyNet(): Promise<void> {
    const { profilesDir } = this.options;
    const identity = directoryIdentity(profilesDir);
    if (this.rootMissing || identity === null || identity !== this.rootIdentity) return this.rescan();
    let names: string[];
    try {
      names = await readdir(profilesDir);
    } catch {
      return this.rescan();
    }
    const all = [...new Set([...names.filter((n) => judgeName(n) !== 'ignore'), ...this.signatures.keys()])];
    for (let i = 0; i < all.length && !this.closed; i += SAFETY_NET_SLICE) {
      for (const name of all.slice(i, i + SAFETY_NET_SLICE)) {
        const verdict = judgeName(name);
        if (verdict === 'invalid' && !this.badNames.has(name)) void this.rescan();
        if (verdict !== 'profile') continue;
        if (profileSignature(join(profilesDir, name), this.watchLists.get(name)) !== this.signatures.get(name)) void this.look(name);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** A filesystem event touched profile NAME. */
  private queue(name: string): void {
    const verdict = judgeName(name);
    if (verdict === 'invalid') void this.rescan();
    if (verdict === 'profile') this.looks.soon(name);
  }

  /** Look at profile NAME now (or once more after the look under way); resolves when that look is done. */
  look(name: string): Promise<void> {
    return this.looks.now(name);
  }

  private async lookOnce(name: string): Promise<void> {
    // Taken before reading: a change made during the read shows at the next safety-net pass.
    const signature = profileSignature(join(this.options.profilesDir, name), this.watchLists.get(name));
    const touched = signature !== this.signatures.get(name);
    this.signatures.set(name, signature);
    await this.options.look(name, { touched, rootMissing: this.rootMissing });
  }

  /** Directories of PROFILES_DIR skipped for their name, as of the last full look (shown in `status` as invalid). */
  skippedDirectories(): string[] {
    return [...this.badNames].filter((name) => statSync(join(this.options.profilesDir, name), { throwIfNoEntry: false })?.isDirectory()).sort();
  }

  /** The files a profile names in `watch` (and its logger's env/): watched, and part of its signature. */
  setWatchList(name: string, paths: string[]): void {
    this.events?.setWatchList(name, paths);
    if (paths.join('\0') === (this.watchLists.get(name) ?? []).join('\0')) return;
    if (paths.length > 0) this.watchLists.set(name, paths);
    else this.watchLists.delete(name);
    this.signatures.delete(name); // taken without these paths: look again at the next pass
  }

  /** Profile NAME is gone and nothing of it is supervised any more: keep nothing of it (looks asked for still run). */
  forget(name: string): void {
    this.setWatchList(name, []);
    this.signatures.delete(name);
  }

  /** How many names each map holds (for tests: nothing of a forgotten name may stay). */
  counts(): Record<string, number> {
    return {
      signatures: this.signatures.size,
      watchLists: this.watchLists.size,
      lookQueue: this.looks.count(),
      badNames: this.badNames.size,
      ...this.events?.counts(),
    };
  }

  /** Stop watching and the timers. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.rescanTimer) clearInterval(this.rescanTimer);
    this.looks.close();
    await this.opening;
    await this.events?.close();
    this.events = null;
  }
}
