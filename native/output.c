/* Bounded service output (issue 14): one drain thread for every service.
 *
 * Each service writes into a FIFO; the thread moves what it holds into the
 * service's log file, rotating it by size (PATH.1 ... PATH.keep) at line
 * boundaries. The bytes are peeked with tee(2) and then moved with splice(2),
 * which consumes from the pipe exactly what reached the file: a kill -9 of the
 * supervisor at any moment leaves every other byte in the FIFO for the next
 * one (no user-space buffer of unwritten output to lose). Nothing goes through
 * JavaScript and the event loop never waits on the disk.
 *
 *   outputAdd(fifoFd, path, maxSize, keep, timestamps) -> id   (takes the fd)
 *   outputSet(id, maxSize, keep, timestamps)
 *   outputRelease(id)          drain what is left, close
 *   outputFlush(timeoutMs) -> boolean   wait until every FIFO has been drained
 *   outputEvents(callback)     callback(id, kind, errno, dropped): 1 cannot write, 2 writing again
 *   mkfifo(path, mode) -> Promise   in libuv's thread pool: creating an inode can take
 *                                   a millisecond (ext4), not on the event loop
 *   dup2(from, to)
 *   pipe() -> [readFd, writeFd]   both close-on-exec, the read end non-blocking (a probe's output)
 *
 * This file is the N-API side; the thread is drain.c, one sink output-sink.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

#include "drain.h"
#include "output.h"
#include "output-sink.h"

/* Where the drain thread's events go (outputEvents). */
static napi_threadsafe_function events;

/* Called from the drain thread: hand an event to JS (never blocks). */
void sink_report(sink_t *s, int kind, int err, uint64_t dropped) {
  uint64_t *data;
  if (!events || !(data = malloc(4 * sizeof *data))) return;
  data[0] = s->id, data[1] = (uint64_t)kind, data[2] = (uint64_t)err, data[3] = dropped;
  if (napi_call_threadsafe_function(events, data, napi_tsfn_nonblocking) != napi_ok) free(data);
}

static void call_js(napi_env env, napi_value callback, void *context, void *data) {
  uint64_t *e = data;
  napi_value argv[4], global;
  (void)context;
  if (env && callback && napi_get_global(env, &global) == napi_ok) {
    for (int i = 0; i < 4; i++) napi_create_double(env, (double)e[i], &argv[i]);
    if (napi_call_function(env, global, callback, 4, argv, NULL) == napi_pending_exception) {
      napi_value error;
      napi_get_and_clear_last_exception(env, &error);
      napi_fatal_exception(env, error); /* -> process 'uncaughtException', as for a watchExit callback */
    }
  }
  free(e);
}

static command_t *command(napi_env env, int kind) {
  command_t *c = calloc(1, sizeof *c);
  if (!c) napi_throw_error(env, "ENOMEM", "output: out of memory");
  else c->kind = kind;
  return c;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "output: missing arguments");
    return 0;
  }
  return 1;
}

/* maxSize, keep, timestamps at argv[0..2]. */
static int get_bounds(napi_env env, napi_value *argv, command_t *c) {
  bool ts = false;
  double max = 0;
  int32_t keep = 0;
  if (napi_get_value_double(env, argv[0], &max) != napi_ok || napi_get_value_int32(env, argv[1], &keep) != napi_ok ||
      napi_get_value_bool(env, argv[2], &ts) != napi_ok || !(max >= SINK_MIN_SIZE) || keep < 1) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "output: maxSize >= 4096, keep >= 1, timestamps boolean");
    return 0;
  }
  c->max_size = (int64_t)max, c->keep = keep, c->timestamps = ts;
  return 1;
}

static napi_value output_add(napi_env env, napi_callback_info info) {
  napi_value argv[5], result;
  command_t *c;
  size_t len;
  int32_t fd;
  if (!get_args(env, info, 5, argv)) return NULL;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 ||
      napi_get_value_string_utf8(env, argv[1], NULL, 0, &len) != napi_ok || len == 0 || len > PATH_MAX) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "outputAdd(fd, path, maxSize, keep, timestamps)");
    return NULL;
  }
  if (!(c = command(env, CMD_ADD))) return NULL;
  if (!get_bounds(env, argv + 2, c) || !(c->path = malloc(len + 1))) {
    free(c);
    return NULL;
  }
  napi_get_value_string_utf8(env, argv[1], c->path, len + 1, &len);
  int r = drain_start();
  if (r != 0) {
    free(c->path);
    free(c);
    napi_throw_error(env, uv_err_name(-r), "output: cannot start the drain thread");
    return NULL;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  uint32_t id = c->id = drain_new_id();
  c->fd = fd;
  drain_post(c);
  napi_create_uint32(env, id, &result);
  return result;
}

static napi_value output_set(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  command_t *c;
  if (!get_args(env, info, 4, argv) || !(c = command(env, CMD_SET))) return NULL;
  if (napi_get_value_uint32(env, argv[0], &c->id) != napi_ok || !get_bounds(env, argv + 1, c)) {
    free(c);
    return NULL;
  }
  drain_post(c);
  return NULL;
}

static napi_value output_release(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  command_t *c;
  if (!get_args(env, info, 1, argv) || !(c = command(env, CMD_RELEASE))) return NULL;
  napi_get_value_uint32(env, argv[0], &c->id);
  drain_post(c);
  return NULL;
}

static napi_value output_flush(napi_env env, napi_callback_info info) {
  napi_value argv[1], result;
  double ms = 0;
  command_t *c;
  int done = 1;
  if (!get_args(env, info, 1, argv)) return NULL;
  napi_get_value_double(env, argv[0], &ms);
  if (drain_started() && (c = command(env, CMD_FLUSH))) done = drain_flush(c, ms);
  napi_get_boolean(env, done, &result);
  return result;
}

static napi_value output_events(napi_env env, napi_callback_info info) {
  napi_value argv[1], name;
  if (!get_args(env, info, 1, argv)) return NULL;
  if (events) return NULL; /* one listener per process */
  napi_create_string_utf8(env, "proclaunch.output", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[0], NULL, name, 0, 1, NULL, NULL, NULL, call_js, &events) != napi_ok) return NULL;
  napi_unref_threadsafe_function(env, events); /* never keeps the process alive */
  return NULL;
}

/* One mkfifo(3) for the thread pool, settled on the loop. */
typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  char path[PATH_MAX + 1];
  mode_t mode;
  int err;
} fifo_job;

static void fifo_execute(napi_env env, void *data) {
  fifo_job *job = data;
  (void)env;
  job->err = mkfifo(job->path, job->mode) == 0 ? 0 : errno;
}

static void fifo_complete(napi_env env, napi_status status, void *data) {
  fifo_job *job = data;
  napi_value result, code, text;
  if (status != napi_ok && job->err == 0) job->err = ECANCELED;
  if (job->err == 0) {
    napi_get_undefined(env, &result);
    napi_resolve_deferred(env, job->deferred, result);
  } else {
    char message[PATH_MAX + 64];
    snprintf(message, sizeof message, "mkfifo %s: %s", job->path, strerror(job->err));
    napi_create_string_utf8(env, uv_err_name(-job->err), NAPI_AUTO_LENGTH, &code);
    napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &text);
    napi_create_error(env, code, text, &result);
    napi_reject_deferred(env, job->deferred, result);
  }
  napi_delete_async_work(env, job->work);
  free(job);
}

static napi_value make_fifo(napi_env env, napi_callback_info info) {
  napi_value argv[2], promise, name;
  size_t len;
  int32_t mode;
  fifo_job *job;
  if (!get_args(env, info, 2, argv)) return NULL;
  job = calloc(1, sizeof *job);
  if (!job) {
    napi_throw_error(env, "ENOMEM", "mkfifo: out of memory");
    return NULL;
  }
  if (napi_get_value_string_utf8(env, argv[0], job->path, sizeof job->path, &len) != napi_ok || len == 0 || len >= PATH_MAX ||
      napi_get_value_int32(env, argv[1], &mode) != napi_ok) {
    free(job);
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "mkfifo(path, mode)");
    return NULL;
  }
  job->mode = (mode_t)mode;
  napi_create_string_utf8(env, "proclaunch.mkfifo", NAPI_AUTO_LENGTH, &name);
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok) {
    free(job);
    return NULL;
  }
  if (napi_create_async_work(env, NULL, name, fifo_execute, fifo_complete, job, &job->work) != napi_ok ||
      napi_queue_async_work(env, job->work) != napi_ok) {
    napi_value error, code, text;
    napi_create_string_utf8(env, "EAGAIN", NAPI_AUTO_LENGTH, &code);
    napi_create_string_utf8(env, "mkfifo: cannot queue the work", NAPI_AUTO_LENGTH, &text);
    napi_create_error(env, code, text, &error);
    napi_reject_deferred(env, job->deferred, error);
    free(job);
  }
  return promise;
}

static napi_value dup_to(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t from, to;
  if (!get_args(env, info, 2, argv)) return NULL;
  napi_get_value_int32(env, argv[0], &from);
  napi_get_value_int32(env, argv[1], &to);
  if (dup2(from, to) < 0) napi_throw_error(env, uv_err_name(-errno), strerror(errno));
  return NULL;
}

/* A pipe for a child started by posix_spawn (which takes fds): Node makes pipes only inside its own spawn, which forks. */
static napi_value make_pipe(napi_env env, napi_callback_info info) {
  int fds[2];
  napi_value result, fd;
  (void)info;
  if (pipe2(fds, O_CLOEXEC) != 0 || fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0) {
    int err = errno;
    napi_throw_error(env, uv_err_name(-err), strerror(err));
    return NULL;
  }
  if (napi_create_array_with_length(env, 2, &result) != napi_ok) goto failed;
  for (uint32_t i = 0; i < 2; i++)
    if (napi_create_int32(env, fds[i], &fd) != napi_ok || napi_set_element(env, result, i, fd) != napi_ok) goto failed;
  return result;
failed:
  close(fds[0]);
  close(fds[1]);
  napi_throw_error(env, NULL, "pipe: out of memory");
  return NULL;
}

napi_status output_init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"outputAdd", NULL, output_add, NULL, NULL, NULL, napi_enumerable, NULL},
      {"outputSet", NULL, output_set, NULL, NULL, NULL, napi_enumerable, NULL},
      {"outputRelease", NULL, output_release, NULL, NULL, NULL, napi_enumerable, NULL},
      {"outputFlush", NULL, output_flush, NULL, NULL, NULL, napi_enumerable, NULL},
      {"outputEvents", NULL, output_events, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mkfifo", NULL, make_fifo, NULL, NULL, NULL, napi_enumerable, NULL},
      {"dup2", NULL, dup_to, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pipe", NULL, make_pipe, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
}
