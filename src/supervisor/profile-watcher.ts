import { watch, type FSWatcher } from 'chokidar';
import { basename, isAbsolute, join, relative, sep } from 'node:path';
import { PROFILE_FILES } from '../profile/read.js';

export interface ProfileWatcherOptions {
  profilesDir: string;
  /** A profile's files may have changed: reconcile that one profile. */
  onProfile(name: string): void;
  /** The directory itself appeared or vanished, or the watch just became ready: rescan everything. */
  onRoot(): void;
  onError(error: NodeJS.ErrnoException): void;
}

const RELEVANT = new Set<string>(PROFILE_FILES);

/**
 * Turns filesystem events under PROFILES_DIR into "look at profile NAME".
 * Files a service writes into its own directory are not profile files and
 * are ignored here, so a chatty service costs nothing.
 */
export class ProfileWatcher {
  private readonly watcher: FSWatcher;
  /** Extra files named in `watch` that lie outside what the tree watch covers. */
  private readonly extra = new Map<string, Set<string>>();

  constructor(private readonly options: ProfileWatcherOptions) {
    this.watcher = watch(options.profilesDir, {
      ignoreInitial: true,
      depth: 2, // NAME/env/VAR
      atomic: false, // we compare contents ourselves; atomic would delay events by 100 ms
      followSymlinks: true,
    });
    this.watcher.on('all', (event, path) => this.route(path, event));
    // chokidar drops a change of mode only (and changes within 50 ms of another): the raw inotify events say it all.
    this.watcher.on('raw', (event, evPath, details) => {
      const watched = (details as { watchedPath?: string }).watchedPath;
      if (!watched || typeof evPath !== 'string' || !evPath) return;
      this.route(basename(watched) === evPath ? watched : join(watched, evPath), event);
    });
    // Edits made while the watch was being set up produced no event: look once more.
    this.watcher.on('ready', () => options.onRoot());
    this.watcher.on('error', (error) => options.onError(error as NodeJS.ErrnoException));
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
    if (name && (file === undefined || RELEVANT.has(file))) this.options.onProfile(name);
  }

  /** Keep the files a profile names in `watch` under watch, wherever they are. */
  setWatchList(name: string, paths: string[]): void {
    for (const [path, names] of this.extra) {
      if (names.delete(name) && names.size === 0) {
        this.extra.delete(path);
        this.watcher.unwatch(path);
      }
    }
    for (const path of paths) {
      const names = this.extra.get(path) ?? new Set<string>();
      if (names.size === 0) this.watcher.add(path);
      names.add(name);
      this.extra.set(path, names);
    }
  }

  close(): Promise<void> {
    return this.watcher.close();
  }
}
