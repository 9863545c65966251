// The proclaunch version, as package.json says: printed by `--version`, carried by every
// control reply and every `--json` envelope, so that a fleet can tell which hosts run what.
import { readFileSync } from 'node:fs';

function readVersion(): string {
  try {
    // src/vocabulary/ and dist/vocabulary/ are both two levels below the package root.
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

export const VERSION = readVersion();
