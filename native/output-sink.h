/* One bounded output: a FIFO drained into a file rotated by size (output-sink.c). */
#ifndef PROCLAUNCH_OUTPUT_SINK_H
#define PROCLAUNCH_OUTPUT_SINK_H
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

/* Below this a file could not hold one cut line with its mark and timestamp. */
#define SINK_MIN_SIZE 4096

enum { SINK_FAILING = 1, SINK_WRITING_AGAIN = 2 };

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
  uv_poll_t *poll;   /* PROCLAUNCH_OUTPUT_DRAIN=loop only */
  struct sink *next;
} sink_t;

sink_t *sink_new(uint32_t id, int fifo, char *path, int64_t max_size, int keep, int timestamps);
void sink_set(sink_t *s, int64_t max_size, int keep, int timestamps);
/* Move up to `chunks` chunks (64 KiB each) from the FIFO to the file; stops when it is empty. */
void sink_drain(sink_t *s, int chunks);
void sink_free(sink_t *s);
/* Implemented by output.c: tell JS (kind SINK_FAILING or SINK_WRITING_AGAIN). */
void sink_report(sink_t *s, int kind, int err, uint64_t dropped);

#endif
