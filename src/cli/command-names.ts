// The names of the control commands, alone: what `main` needs to tell a
// command from the ProcLaunch shorthand without loading any command.
export const CONTROL_COMMANDS = ['status', 'start', 'stop', 'restart', 'reload', 'signal', 'logs', 'events', 'ps', 'rescan', 'quit', 'check', 'completion'] as const;
export type ControlCommand = (typeof CONTROL_COMMANDS)[number];

export const isControlCommand = (word: string): word is ControlCommand => (CONTROL_COMMANDS as readonly string[]).includes(word);
