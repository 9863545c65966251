/** A process as we know it: the start time makes the pid unambiguous. */
export interface ProcRef {
  pid: number;
  /** Field 22 of /proc/PID/stat (clock ticks since boot); null if it could not be read. */
  startTime: number | null;
  pgid: number;
}
