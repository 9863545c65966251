/* The drain thread of bounded output (drain.c), fed with commands by output.c. */
#ifndef PROCLAUNCH_DRAIN_H
#define PROCLAUNCH_DRAIN_H
#include <stdint.h>

enum { CMD_ADD, CMD_SET, CMD_RELEASE, CMD_FLUSH };

typedef struct command {
  int kind;
  uint32_t id;
  int fd;
  char *path;
  int64_t max_size;
  int keep, timestamps;
  uint64_t seq;
  struct command *next;
} command_t;

/* Start the thread (once): 0, or an errno. */
int drain_start(void);
int drain_started(void);
/* A new sink id. */
uint32_t drain_new_id(void);
/* Queue a command (the thread frees it). */
void drain_post(command_t *c);
/* Queue a flush and wait for it, `ms` at most: 1 if done. */
int drain_flush(command_t *c, double ms);

#endif
