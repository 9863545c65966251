// The safety net's cheap look at a profile: stat() only, and it must notice
// every change a reading would.
import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { profileSignature } from '../src/profile/signature.js';

let dir: string;
let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'proclaunch-signature-'));
  dir = join(root, 'web');
  mkdirSync(join(dir, 'env'), { recursive: true });
  writeFileSync(join(dir, 'run'), '#!/bin/sh\nexec sleep 1000\n');
  chmodSync(join(dir, 'run'), 0o755);
  writeFileSync(join(dir, 'env', 'PORT'), '80');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('profileSignature', () => {
  const changes: Array<[string, () => void]> = [
    // A different size: the kernel's coarse clock may not tick between two writes this close.
    ['run written', () => writeFileSync(join(dir, 'run'), '#!/bin/sh\nexec sleep 20000\n')],
    ['run written with its old mtime put back', () => {
      writeFileSync(join(dir, 'run'), '#!/bin/sh\nexec sleep 3000\n');
      utimesSync(join(dir, 'run'), 1, 1);
    }],
    ['run chmod-ed', () => chmodSync(join(dir, 'run'), 0o700)],
    ['a profile file added', () => writeFileSync(join(dir, 'restart'), '')],
    ['an env/ file written', () => writeFileSync(join(dir, 'env', 'PORT'), '81')],
    ['an env/ file added', () => writeFileSync(join(dir, 'env', 'HOST'), 'x')],
    ['log/run added', () => {
      mkdirSync(join(dir, 'log'));
      writeFileSync(join(dir, 'log', 'run'), '#!/bin/sh\n');
    }],
    ['the directory replaced by another', () => {
      const other = join(root, 'other');
      mkdirSync(other);
      writeFileSync(join(other, 'run'), '#!/bin/sh\nexec sleep 1000\n');
      rmSync(dir, { recursive: true });
      renameSync(other, dir);
    }],
    ['the directory removed', () => rmSync(dir, { recursive: true })],
  ];
  for (const [what, change] of changes) {
    it(`changes when ${what}`, () => {
      const before = profileSignature(dir);
      change();
      expect(profileSignature(dir)).not.toBe(before);
    });
  }

  it('changes when a watched path changes', () => {
    const conf = join(root, 'web.conf');
    writeFileSync(conf, 'a');
    const before = profileSignature(dir, [conf]);
    writeFileSync(conf, 'bb');
    expect(profileSignature(dir, [conf])).not.toBe(before);
  });

  it('does not look at files the service writes into its directory', () => {
    const before = profileSignature(dir);
    writeFileSync(join(dir, 'web.pid'), '4242');
    writeFileSync(join(dir, 'output.log'), 'hello');
    expect(profileSignature(dir)).toBe(before);
  });
});
