// STATE_DIR's records as tests look at them: through the same reader the supervisor uses.
import { appendFileSync } from 'node:fs';
import { readRecords, recordsPath, type ServiceRecord } from '../../src/supervisor/records.js';

/** The record of `tag` (the journal's last line for it), or undefined. */
export const recordOf = (stateDir: string, tag: string): ServiceRecord | undefined => readRecords(stateDir).get(tag);

/** Put `record` in STATE_DIR as a supervisor would, a line appended to the journal: the next supervisor reads it. */
export const writeRecord = (stateDir: string, record: unknown): void => appendFileSync(recordsPath(stateDir), `${JSON.stringify(record)}\n`);
