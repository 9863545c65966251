/* Descriptors a spawned child gets beyond 0-2 (a notification-fd): native/extra-fds.c, used by proclaunch.c's spawn. */
#ifndef PROCLAUNCH_EXTRA_FDS_H
#define PROCLAUNCH_EXTRA_FDS_H
#include <spawn.h>
#include <node_api.h>

#define EXTRA_FDS_MAX 8      /* pairs */
#define EXTRA_FDS_TOP 1023   /* the highest target: below any RLIMIT_NOFILE, and few fds to close below it */

typedef struct extra_fds {
  int n;
  int target[EXTRA_FDS_MAX];
  int source[EXTRA_FDS_MAX];
  int moved[EXTRA_FDS_MAX]; /* our FD_CLOEXEC copies of the sources, above every target; -1 when none */
} extra_fds_t;

/* Read [target, source, ...] (undefined/null: none). 0 with a TypeError thrown when invalid. */
int extra_fds_get(napi_env env, napi_value value, extra_fds_t *extra);
/* Copy each source above the highest target, blocking (as libuv does for a child's fds). 0 or an errno. */
int extra_fds_move(extra_fds_t *extra);
/* In the child, after 0-2: dup2 each copy onto its target. 0 or an errno. */
int extra_fds_add_dup2s(const extra_fds_t *extra, posix_spawn_file_actions_t *actions);
/* The highest target, or 2 when there is none. */
int extra_fds_top(const extra_fds_t *extra);
int extra_fds_is_target(const extra_fds_t *extra, int fd);
void extra_fds_close(extra_fds_t *extra);

#endif
