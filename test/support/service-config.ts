import { join } from 'node:path';
import type { ServiceConfig } from '../../src/profile/types.js';

/** A ServiceConfig for a profile directory `dir` (its `run` need not exist), logging to dir/out.log. */
export function serviceConfig(dir: string, tag: string, overrides: Partial<ServiceConfig> = {}): ServiceConfig {
  return {
    name: tag, tag, instance: null, dir, runPath: join(dir, 'run'), finishPath: null,
    pidFile: null, restart: 'never', down: false,
    stopSignal: 'SIGTERM', stopTimeoutMs: 10_000, startTimeoutMs: 10_000, startDelayMs: 0, restartDelayMs: 0,
    reloadSignal: null, user: null, env: {}, watch: [],
    stdout: join(dir, 'out.log'), stderr: join(dir, 'out.log'),
    fingerprint: { launch: 'l', watch: 'w', policy: 'p' },
    ...overrides,
  };
}
