import type { FSWatcher, watch as chokidarWatch } from 'chokidar';
import { lstatSync, readdirSync, statSync, watch as watchDirectory, type FSWatcher as DirectoryWatcher, type Stats } from 'node:fs';
import { basename, isAbsolute, join, relative, sep } from 'node:path';
import { PROFILE_FILES } from '../profile/read.js';
import { looksMistyped } from '../profile/unknown-files.js';

export interface FsEventsOptions {
  profilesDir: string;
  /** A profile's files may have changed: reconcile that one profile. */
  onProfile(name: string): void;
  /** The directory itself appeared or vanished: rescan everything. */
  onRoot(): void;
  /** The watch is set up: what changed while it was being set up produced no event. */
  onReady(): void;
  onError(error: NodeJS.ErrnoException): void;
}

const RELEVANT = new Set<string>(PROFILE_FILES);
/** After chokidar's own handling of a removal (its 100 ms throttle, a readdir) has settled. */
const STALE_SWEEP_MS = 500;

/**
 * Below PROFILES_DIR, what a profile reading depends on: NAME, its files,
 * env/VAR, log/FILE and log/env/VAR. Deeper entries of other directories
 * belong to the service.
 */
function isProfilePath(parts: string[]): boolean {
  if (parts.length <= 2) return true;
  const [, first, second] = parts;
  if (first === 'env') return parts.length === 3;
  if (first !== 'log') return false;
  if (parts.length === 3) return RELEVANT.has(second!);
  return parts.length === 4 && second === 'env';
}

/**
 * A plain file needs no watch of its own: the watch on its directory reports
 * its writes, renames and mode changes by name (the `raw` events). A watch
 * per file cost an inotify watch, a handle and a kept Stats apiece. A symlink
 * keeps one, so that an edit of what it points to is still seen.
 */
function coveredByItsDirectory(path: string, stats: Stats | undefined): boolean {
  if (stats === undefined || stats.isDirectory()) return false;
  if (stats.isSymbolicLink()) return false;
  return lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink() !== true;
}

/** `dev:ino` of the directory `path` names now (following symlinks), or null if it names none. */
export function directoryIdentity(path: string): string | null {
  try {
    const s = statSync(path);
    return s.isDirectory() ? `${s.dev}:${s.ino}` : null;
  } catch {
    return null;
  }
}

/** FsEvents, with chokidar loaded only now: after the first services are started (see ProfileWatcher.start). */
export async function openFsEvents(options: FsEventsOptions): Promise<FsEvents> {
  const { watch } = await import('chokidar');
  return new FsEvents(options, watch);
}

/**
 * Turns filesystem events under PROFILES_DIR into "look at profile NAME".
 * Files a service writes into its own directory are not profile files and
 * are ignored here, so a chatty service costs nothing.
 *
 * PROFILES_DIR itself is watched with a plain fs.watch, whose events name the
 * entry that came or went; chokidar watches each profile directory. Given
 * PROFILES_DIR, chokidar would re-read it (an lstat of every profile) on each
 * of its events: 40 ms of work, queued ahead of the new profile's reading,
 * for every profile added among 1,000.
 */
export class FsEvents {
  private readonly watcher: FSWatcher;
  private readonly root: DirectoryWatcher | null = null;
  private rootIdentity: string | null;
  /** Profile directories under chokidar's watch, with the `dev:ino` they had then. */
  private readonly profiles = new Map<string, string | null>();
  /** Extra files named in `watch` that lie outside what the tree watch covers. */
  private readonly extra = new Map<string, Set<string>>();
  private staleSweep: NodeJS.Timeout | null = null;

  constructor(
    private readonly options: FsEventsOptions,
    watch: typeof chokidarWatch,
  ) {
    this.rootIdentity = directoryIdentity(options.profilesDir);
    try {
      for (const name of readdirSync(options.profilesDir)) {
        const path = join(options.profilesDir, name);
        const id = name.startsWith('.') ? null : directoryIdentity(path);
        if (id !== null) this.profiles.set(path, id);
      }
    } catch {
      // no PROFILES_DIR: the supervisor's rescan says so
    }
    const initial = [...this.profiles.keys()];
    // Given from the start, so that `ready` (then a full rescan) comes once they are all watched.
    this.watcher = watch(initial, {
      ignoreInitial: true,
      depth: 2, // NAME/env/VAR, NAME/log/env/VAR
      atomic: false, // we compare contents ourselves; atomic would delay events by 100 ms
      followSymlinks: true,
      // What a service or its logger writes below its profile (log/main/current, data/…) is not watched.
      ignored: (path: string, stats?: Stats) =>
        !this.extra.has(path) && (!isProfilePath(relative(options.profilesDir, path).split(sep)) || coveredByItsDirectory(path, stats)),
    });
    try {
      this.root = watchDirectory(options.profilesDir, (_event, filename) => this.rootEvent(filename));
      this.root.on('error', (error) => options.onError(error as NodeJS.ErrnoException));
    } catch (error) {
      // ENOSPC (the inotify watch limit), or no PROFILES_DIR: said after the constructor returns.
      queueMicrotask(() => options.onError(error as NodeJS.ErrnoException));
    }
    this.watcher.on('all', (event, path) => this.route(path, event));
    // chokidar drops a change of mode only (and changes within 50 ms of another): the raw inotify events say it all.
    this.watcher.on('raw', (event, evPath, details) => {
      const watched = (details as { watchedPath?: string }).watchedPath;
      if (!watched || typeof evPath !== 'string' || !evPath) return;
      this.route(basename(watched) === evPath ? watched : join(watched, evPath), event);
    });
    // Edits made while the watch was being set up produced no event: look once more.
    this.watcher.on('ready', () => options.onReady());
    this.watcher.on('error', (error) => options.onError(error as NodeJS.ErrnoException));
  }

  /** An entry of PROFILES_DIR came, went or changed — or PROFILES_DIR itself did. */
  private rootEvent(filename: string | Buffer | null): void {
    if (directoryIdentity(this.options.profilesDir) !== this.rootIdentity) return this.options.onRoot();
    if (typeof filename !== 'string' || !filename) return this.options.onRoot();
    this.follow(filename);
    this.route(join(this.options.profilesDir, filename), 'rename');
  }

  /** Keep chokidar on profile directory NAME while it is one. */
  private follow(name: string): void {
    if (name.startsWith('.')) return;
    const path = join(this.options.profilesDir, name);
    const now = directoryIdentity(path);
    const was = this.profiles.get(path);
    if (was === now && this.profiles.has(path)) return;
    // Gone, or another directory now (a re-pointed symlink, `mv new web`): chokidar still watches the old one.
    if (this.profiles.delete(path)) this.unwatch(path);
    if (now !== null) {
      this.profiles.set(path, now);
      this.watcher.add(path);
    }
  }

  private route(path: string, event: string): void {
    for (const name of this.extra.get(path) ?? []) this.options.onProfile(name);
    const rel = relative(this.options.profilesDir, path);
    if (rel === '') return this.options.onRoot();
    if (rel.startsWith('..') || isAbsolute(rel)) return;
    const [name, file, inLog] = rel.split(sep);
    // log/ is a profile of its own, one level down; what its logger writes there (log/main/current) is not looked at.
    if (file === 'log' && inLog !== undefined && (!RELEVANT.has(inLog) || inLog === 'log')) return;
    // A plain file `log` being written (the service's own output) is not a logger; log/ itself appearing or going is.
    if (file === 'log' && inLog === undefined && event === 'change') return;
    // A new file that may be a mistyped profile file (`stop_sigal`) is looked at once, to say so; the service writing its own is not.
    const mistyped = file !== undefined && inLog === undefined && event !== 'change' && looksMistyped(file, PROFILE_FILES);
    if (name && (file === undefined || RELEVANT.has(file) || mistyped)) this.options.onProfile(name);
  }

  /**
   * chokidar's unwatch() also puts PATH on its ignore list, for good unless
   * PATH is add()ed again: one entry per name ever seen (two for a
   * directory), and every later event is matched against the whole list.
   * The watch itself is closed; the entries are dropped here (chokidar 5.0.0,
   * pinned; scripts/soak.mjs would show them coming back).
   */
  private unwatch(path: string): void {
    this.watcher.unwatch(path);
    const ignored = this.chokidarIgnored();
    for (const entry of ignored ?? []) {
      if (entry === path || (typeof entry === 'object' && (entry as { path?: unknown } | null)?.path === path)) ignored!.delete(entry);
    }
    this.dropStaleEntries();
    this.staleSweep ??= setTimeout(() => {
      this.staleSweep = null;
      this.dropStaleEntries();
    }, STALE_SWEEP_MS).unref();
  }

  /**
   * chokidar's entries for directories in PROFILES_DIR that we no longer
   * watch (a removed profile's own, its log/ and env/): chokidar keeps them
   * after unwatch(), and its handling of the removal, still under way, makes
   * them again — one per name ever seen. Dropped now and once more after that
   * handling has settled.
   */
  private dropStaleEntries(): void {
    const watched = this.chokidarWatched();
    const under = `${this.options.profilesDir}${sep}`;
    for (const [dir, entry] of watched ?? []) {
      if (!dir.startsWith(under) || this.profiles.has(join(under, dir.slice(under.length).split(sep)[0]!))) continue;
      if ([...this.extra.keys()].some((path) => path.startsWith(`${dir}${sep}`))) continue; // a `watch` file in it
      entry.dispose();
      watched!.delete(dir);
    }
  }

  private chokidarIgnored(): Set<unknown> | undefined {
    return (this.watcher as unknown as { _ignoredPaths?: Set<unknown> })._ignoredPaths;
  }

  private chokidarWatched(): Map<string, { dispose(): void }> | undefined {
    return (this.watcher as unknown as { _watched?: Map<string, { dispose(): void }> })._watched;
  }

  /** Keep the files a profile names in `watch` under watch, wherever they are. */
  setWatchList(name: string, paths: string[]): void {
    for (const [path, names] of this.extra) {
      if (names.delete(name) && names.size === 0) {
        this.extra.delete(path);
        this.unwatch(path);
      }
    }
    for (const path of paths) {
      const names = this.extra.get(path) ?? new Set<string>();
      if (names.size === 0) this.watcher.add(path);
      names.add(name);
      this.extra.set(path, names);
    }
  }

  /** How many paths are under watch (profile directories, extra files). */
  counts(): { watchedDirs: number; extraPaths: number; chokidarIgnored: number; chokidarDirs: number } {
    const under = `${this.options.profilesDir}${sep}`;
    const chokidarDirs = [...(this.chokidarWatched()?.keys() ?? [])].filter((dir) => dir.startsWith(under)).length;
    return { watchedDirs: this.profiles.size, extraPaths: this.extra.size, chokidarIgnored: this.chokidarIgnored()?.size ?? 0, chokidarDirs };
  }

  close(): Promise<void> {
    if (this.staleSweep) clearTimeout(this.staleSweep);
    this.root?.close();
    return this.watcher.close();
  }
}
