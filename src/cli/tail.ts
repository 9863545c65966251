// Moved to src/output/tail.ts (the HTTP log stream follows files too); kept
// here so that the CLI's imports stay as they were.
export * from '../output/tail.js';
