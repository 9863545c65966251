/* Descriptors a posix_spawn'ed child gets at given numbers >= 3 (Node's stdio[N]), e.g. s6's
 * notification-fd. Each source is first copied (FD_CLOEXEC) above every target, so that no dup2 onto a
 * target can clobber a source still to be dup'ed; proclaunch.c's close-the-rest step spares the targets. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "extra-fds.h"

int extra_fds_get(napi_env env, napi_value value, extra_fds_t *extra) {
  napi_valuetype type;
  bool is_array = false;
  uint32_t length = 0, i;
  extra->n = 0;
  if (napi_typeof(env, value, &type) != napi_ok) return 0;
  if (type == napi_undefined || type == napi_null) return 1;
  if (napi_is_array(env, value, &is_array) != napi_ok || !is_array || napi_get_array_length(env, value, &length) != napi_ok ||
      length % 2 != 0 || length / 2 > EXTRA_FDS_MAX)
    goto invalid;
  for (i = 0; i < length; i++) {
    napi_value element;
    int32_t number;
    if (napi_get_element(env, value, i, &element) != napi_ok || napi_typeof(env, element, &type) != napi_ok ||
        type != napi_number || napi_get_value_int32(env, element, &number) != napi_ok)
      goto invalid;
    if (i % 2 == 0) {
      if (number < 3 || number > EXTRA_FDS_TOP || extra_fds_is_target(extra, number)) goto invalid;
      extra->target[extra->n] = number;
    } else {
      if (number < 0) goto invalid;
      extra->source[extra->n] = number;
      extra->moved[extra->n++] = -1;
    }
  }
  return 1;
invalid:
  extra->n = 0;
  napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE",
                        "extraFds must be [target, source, ...]: at most 8 distinct targets 3..1023, sources fds >= 0");
  return 0;
}

int extra_fds_top(const extra_fds_t *extra) {
  int i, top = 2;
  for (i = 0; i < extra->n; i++)
    if (extra->target[i] > top) top = extra->target[i];
  return top;
}

int extra_fds_is_target(const extra_fds_t *extra, int fd) {
  int i;
  for (i = 0; i < extra->n; i++)
    if (extra->target[i] == fd) return 1;
  return 0;
}

int extra_fds_move(extra_fds_t *extra) {
  int i, top = extra_fds_top(extra);
  for (i = 0; i < extra->n; i++) {
    int flags;
    if ((extra->moved[i] = fcntl(extra->source[i], F_DUPFD_CLOEXEC, top + 1)) < 0) return errno; /* EBADF for a bad fd */
    /* Its own copy, but the same open file description: as libuv, the child gets it blocking. */
    flags = fcntl(extra->moved[i], F_GETFL);
    if (flags < 0) return errno;
    if ((flags & O_NONBLOCK) && fcntl(extra->moved[i], F_SETFL, flags & ~O_NONBLOCK) < 0) return errno;
  }
  return 0;
}

int extra_fds_add_dup2s(const extra_fds_t *extra, posix_spawn_file_actions_t *actions) {
  int i, r;
  for (i = 0; i < extra->n; i++)
    if ((r = posix_spawn_file_actions_adddup2(actions, extra->moved[i], extra->target[i])) != 0) return r;
  return 0;
}

void extra_fds_close(extra_fds_t *extra) {
  int i;
  for (i = 0; i < extra->n; i++)
    if (extra->moved[i] >= 0) close(extra->moved[i]);
  extra->n = 0;
}
