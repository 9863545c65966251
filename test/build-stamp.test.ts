// `npm start` builds only when the sources changed (scripts/build.mjs --if-changed).
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script, no types
import { needsBuild } from '../scripts/build.mjs';

const root = mkdtempSync(join(tmpdir(), 'proclaunch-build-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const at = (path: string, ms: number) => utimesSync(path, ms / 1000, ms / 1000);

it('builds when there is no stamp, a source or tsconfig.json is newer than the last build, or a file came or went', () => {
  const t0 = Date.now() - 60_000;
  mkdirSync(join(root, 'src', 'cli'), { recursive: true });
  mkdirSync(join(root, 'dist', 'cli'), { recursive: true });
  for (const file of ['tsconfig.json', 'src/cli/main.ts', 'src/log.ts']) writeFileSync(join(root, file), '');
  writeFileSync(join(root, 'dist', 'cli', 'main.js'), '');
  for (const path of ['tsconfig.json', 'src/cli/main.ts', 'src/log.ts', 'src/cli', 'src']) at(join(root, path), t0);
  expect(needsBuild(root)).toBe(true); // never built

  writeFileSync(join(root, 'dist', '.build-stamp'), String(t0 + 1000));
  expect(needsBuild(root)).toBe(false);

  at(join(root, 'src', 'cli', 'main.ts'), t0 + 2000); // edited
  expect(needsBuild(root)).toBe(true);
  at(join(root, 'src', 'cli', 'main.ts'), t0);
  unlinkSync(join(root, 'src', 'log.ts')); // removed: its directory changed
  at(join(root, 'src'), t0 + 2000);
  expect(needsBuild(root)).toBe(true);
  at(join(root, 'src'), t0);
  at(join(root, 'tsconfig.json'), t0 + 2000);
  expect(needsBuild(root)).toBe(true);
  at(join(root, 'tsconfig.json'), t0);
  expect(needsBuild(root)).toBe(false);
  unlinkSync(join(root, 'dist', 'cli', 'main.js'));
  expect(needsBuild(root)).toBe(true);
});
