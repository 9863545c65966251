// Who asked: which events of a command's story carry its caller (causes.ts).
import { describe, expect, it } from 'vitest';
import { Causes } from '../src/supervisor/causes.js';
import type { EventDetail } from '../src/supervisor/events.js';

const ev = (event: EventDetail['event']): EventDetail => ({ event });
const bys = (details: EventDetail[]) => details.map((d) => `${d.event}:${d.by ?? '-'}`);

describe('Causes', () => {
  it('a restart: stopped, started, ready carry the caller; then nothing more', () => {
    const causes = new Causes();
    causes.asked('web', 'RESTART', 'uid 0');
    expect(bys(causes.attribute('web', [ev('stopped')]))).toEqual(['stopped:uid 0']);
    expect(bys(causes.attribute('web', [ev('started')]))).toEqual(['started:uid 0']);
    expect(bys(causes.attribute('web', [ev('ready')]))).toEqual(['ready:uid 0']);
    expect(causes.size).toBe(0);
    expect(bys(causes.attribute('web', [ev('stopped')]))).toEqual(['stopped:-']);
  });

  it('a crash after a start ends the story: the policy restart that follows is no one’s command', () => {
    const causes = new Causes();
    causes.asked('web', 'START', 'http full');
    expect(bys(causes.attribute('web', [ev('started')]))).toEqual(['started:http full']);
    expect(bys(causes.attribute('web', [ev('crashed'), ev('started')]))).toEqual(['crashed:-', 'started:-']);
    expect(causes.size).toBe(0);
  });

  it('an edit’s stop after a start (no readiness, so no `ready` came) is not put down to the start', () => {
    const causes = new Causes();
    causes.asked('web', 'START', 'uid 1000');
    causes.attribute('web', [ev('started')]);
    expect(bys(causes.attribute('web', [ev('stopped'), ev('started')]))).toEqual(['stopped:-', 'started:-']);
  });

  it('a restart of a stopped service: its start is still the command’s; other tags are untouched', () => {
    const causes = new Causes();
    causes.asked('web', 'RESTART', 'uid 0');
    expect(bys(causes.attribute('db', [ev('started')]))).toEqual(['started:-']);
    expect(bys(causes.attribute('web', [ev('started')]))).toEqual(['started:uid 0']);
    causes.forget('web');
    expect(causes.size).toBe(0);
  });
});
