/* One bounded output: a FIFO drained into a file rotated by size (output-sink.c). */
#ifndef PROCLAUNCH_OUTPUT_SINK_H
#define PROCLAUNCH_OUTPUT_SINK_H
#include <stdint.h>
#include <sys/types.h>

/* Below this a file could not hold one cut line with its mark and timestamp. */
#define SINK_MIN_SIZE 4096

enum { SINK_FAILING = 1, SINK_WRITING_AGAIN = 2 };
/* What sink_drain did: the FIFO is empty; it may hold more; a partial line waits for its end. */
enum { SINK_EMPTY, SINK_MORE, SINK_DEFERRED };
/* How long a partial line near the end of a file may wait for the rest before it starts a new file. */
#define SINK_DEFER_MS 50
/* What one output may move per window: beyond it, it waits for the next window (its writer blocks on the
   full FIFO), so that a flood takes a bounded share of a core and the drain thread stays quick to wake. */
#ifndef SINK_RATE
#define SINK_RATE (32 * 1024 * 1024) /* bytes per second */
#endif
#define SINK_WINDOW_MS 100

typedef struct sink {
  uint32_t id;
  int fifo;          /* our O_RDWR|O_NONBLOCK open of the FIFO */
  int file;          /* the log file (no O_APPEND: splice refuses it), -1 until opened */
  char *path;
  dev_t dev;
  ino_t ino;
  int64_t size, max_size;
  int keep, timestamps;
  int64_t line_len;  /* bytes of the current line already in the file: 0 at a line start */
  int failing, error, need_newline;
  uint64_t dropped;  /* bytes dropped since writing failed */
  int64_t deferred_since; /* ms (CLOCK_MONOTONIC) since a partial line waits, or 0 */
  int force;         /* write a waiting partial line now */
  int64_t window_start, window_bytes, throttled_until; /* ms, bytes, ms: the rate budget */
  int ready;         /* in the drain thread's ready list */
  struct sink *next, *next_ready;
} sink_t;

sink_t *sink_new(uint32_t id, int fifo, char *path, int64_t max_size, int keep, int timestamps);
void sink_set(sink_t *s, int64_t max_size, int keep, int timestamps);
/* Move up to `chunks` chunks (64 KiB each) from the FIFO to the file; stops when it is empty or a line waits. */
int sink_drain(sink_t *s, int chunks);
int64_t sink_now_ms(void);
void sink_free(sink_t *s);
/* Set when a write failed for want of space (ENOSPC, EDQUOT): the drain then lets go of removed files. */
extern int sink_out_of_space;
/* Close the file if it was removed (rm, no other link): its space goes back to the disk now, not at the
   output's next byte, which a stopped or quiet service may never write. Reopened by that byte. */
void sink_let_go_if_removed(sink_t *s);
/* Implemented by output.c: tell JS (kind SINK_FAILING or SINK_WRITING_AGAIN). */
void sink_report(sink_t *s, int kind, int err, uint64_t dropped);

#endif
