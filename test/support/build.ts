import { execFileSync } from 'node:child_process';

/**
 * Integration tests run the real CLI from dist/: build it once per run, as
 * `npm run build` does — tsc and the supervisor's bundle (the CLI prefers
 * the bundle, so one left from an earlier build would run old code).
 */
export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
}
