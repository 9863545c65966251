// Profiles stopped by command (`proclaunch stop`) stay down through rescans
// and supervisor restarts until `start`: the names live in STATE_DIR/held.
import { readFileSync } from 'node:fs';
import { writeAtomic } from './state-dir.js';

export class HeldProfiles {
  private readonly names: Set<string>;

  constructor(private readonly path: string) {
    this.names = new Set(readNames(path));
  }

  all(): string[] {
    return [...this.names];
  }

  has(name: string): boolean {
    return this.names.has(name);
  }

  add(name: string): void {
    if (this.names.has(name)) return;
    this.names.add(name);
    this.save();
  }

  delete(name: string): void {
    if (this.names.delete(name)) this.save();
  }

  private save(): void {
    try {
      writeAtomic(this.path, [...this.names].sort().map((name) => `${name}\n`).join(''), 0o600);
    } catch {
      // Not fatal: the hold still applies until the supervisor restarts.
    }
  }
}

/** One profile name per line; a profile name never holds a newline (names.ts). */
function readNames(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}
