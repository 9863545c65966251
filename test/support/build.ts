import { execFileSync } from 'node:child_process';

/** Integration tests run the real CLI from dist/: build it once per run. */
export default function setup(): void {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
}
