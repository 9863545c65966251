/* proclaunch's native helpers (Node-API, Linux only):
 *
 *   watchExit(pid, callback[, keepAlive]) -> handle | null
 *       pidfd_open(pid) watched by the event loop (uv_poll_t): callback() runs
 *       once, when the process exits. No thread, no timer. null when the pid
 *       does not exist (ESRCH); throws an Error with .code (ENOSYS, EPERM,
 *       EMFILE...) when it cannot watch. The handle does not keep the event
 *       loop alive unless keepAlive is true, and the watch goes on if the
 *       handle is garbage-collected.
 *   cancel(handle) -> boolean   stop watching (the pidfd is closed at once)
 *   setRef(handle, keepAlive)   whether the watch keeps the event loop alive
 *   setChildSubreaper()         prctl(PR_SET_CHILD_SUBREAPER, 1)
 *   isChildSubreaper() -> boolean
 *   reap(pid[, strict]) -> { code, signal } | null
 *       waitpid(pid, WNOHANG) for that one pid (> 0): null while it runs or
 *       when it is not our child. Never waits for "any child": that would
 *       steal libuv's children and lose their `exit` events. With `strict`
 *       true, false (instead of null) when it is not our child (ECHILD).
 *   spawn(...)                 posix_spawn(3) of a service: native/spawn-child.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

#include "napi-util.h"
#include "notify.h"
#include "peercred.h"
#include "spawn-child.h"
#include "output.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434 /* the same number on every architecture */
#endif
#ifndef PR_SET_CHILD_SUBREAPER
#define PR_SET_CHILD_SUBREAPER 36
#endif
#ifndef PR_GET_CHILD_SUBREAPER
#define PR_GET_CHILD_SUBREAPER 37
#endif

typedef struct instance instance_t;

typedef struct watch {
  uv_poll_t poll;
  int fd;
  int active; /* polling: neither fired nor cancelled yet */
  int refs;   /* the uv handle (until its close callback) + the JS external (until finalized) */
  napi_env env;
  napi_ref callback;
  napi_async_context context;
  instance_t *inst;
  struct watch *prev, *next; /* in inst->head while active */
} watch_t;

/* One per Node environment (main thread, each worker). */
struct instance {
  watch_t *head;
  int closing; /* uv handles whose close callback has not run yet */
  int tearing_down;
  napi_async_cleanup_hook_handle hook;
};

static void throw_uv(napi_env env, int status, const char *what) {
  char message[160];
  snprintf(message, sizeof message, "%s: %s", what, uv_strerror(status));
  napi_throw_error(env, uv_err_name(status), message);
}

static void release_watch(watch_t *w) {
  if (--w->refs == 0) free(w);
}

static void finish_teardown(instance_t *inst) {
  if (inst->tearing_down && inst->closing == 0) {
    napi_remove_async_cleanup_hook(inst->hook);
    free(inst);
  }
}

static void on_close(uv_handle_t *handle) {
  watch_t *w = handle->data;
  instance_t *inst = w->inst;
  inst->closing--;
  release_watch(w);
  finish_teardown(inst);
}

/* Stop polling and close the pidfd now; the handle itself is freed by its close callback. */
static void stop_watch(watch_t *w) {
  instance_t *inst = w->inst;
  w->active = 0;
  uv_poll_stop(&w->poll); /* also removes the fd from epoll: closing it next is safe */
  close(w->fd);
  w->fd = -1;
  if (w->prev) w->prev->next = w->next;
  else inst->head = w->next;
  if (w->next) w->next->prev = w->prev;
  w->prev = w->next = NULL;
  inst->closing++;
  uv_close((uv_handle_t *)&w->poll, on_close);
}

static void drop_js(watch_t *w) {
  if (w->callback) napi_delete_reference(w->env, w->callback);
  if (w->context) napi_async_destroy(w->env, w->context);
  w->callback = NULL;
  w->context = NULL;
}

static void on_poll(uv_poll_t *handle, int status, int events) {
  watch_t *w = handle->data;
  napi_env env = w->env;
  napi_handle_scope scope;
  napi_value callback, recv, argv[1];
  size_t argc = 0;
  (void)events;
  if (!w->active) return;
  stop_watch(w);
  if (napi_open_handle_scope(env, &scope) != napi_ok) {
    drop_js(w);
    return;
  }
  if (napi_get_reference_value(env, w->callback, &callback) == napi_ok && callback &&
      napi_get_global(env, &recv) == napi_ok) { /* make_callback wants an object */
    if (status < 0) {
      /* A pidfd only ever reports readable; pass any error on rather than claim an exit. */
      napi_value code, message;
      napi_create_string_utf8(env, uv_err_name(status), NAPI_AUTO_LENGTH, &code);
      napi_create_string_utf8(env, uv_strerror(status), NAPI_AUTO_LENGTH, &message);
      napi_create_error(env, code, message, &argv[0]);
      argc = 1;
    }
    if (napi_make_callback(env, w->context, recv, callback, argc, argv, NULL) == napi_pending_exception) {
      napi_value error;
      napi_get_and_clear_last_exception(env, &error);
      napi_fatal_exception(env, error); /* -> process 'uncaughtException' */
    }
  }
  drop_js(w);
  napi_close_handle_scope(env, scope);
}

static void finalize_external(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  release_watch(data);
}

static int get_pid(napi_env env, napi_value value, pid_t *pid) {
  napi_valuetype type;
  double number;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_number ||
      napi_get_value_double(env, value, &number) != napi_ok || !(number >= 1 && number <= 2147483647.0) ||
      number != (double)(pid_t)number) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "pid must be an integer > 0");
    return 0;
  }
  *pid = (pid_t)number;
  return 1;
}

static napi_value watch_exit(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], result, resource_name;
  napi_valuetype type;
  instance_t *inst;
  uv_loop_t *loop;
  watch_t *w;
  pid_t pid;
  int fd, r;
  bool keep_alive = false;

  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&inst));
  if (argc < 2 || !get_pid(env, argv[0], &pid)) {
    if (argc < 2) napi_throw_type_error(env, "ERR_MISSING_ARGS", "watchExit(pid, callback)");
    return NULL;
  }
  CHECK(env, napi_typeof(env, argv[1], &type));
  if (type != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "callback must be a function");
    return NULL;
  }
  if (argc > 2) {
    CHECK(env, napi_typeof(env, argv[2], &type));
    if (type != napi_undefined) CHECK(env, napi_get_value_bool(env, argv[2], &keep_alive));
  }
  CHECK(env, napi_get_uv_event_loop(env, &loop));

  fd = (int)syscall(SYS_pidfd_open, pid, 0); /* always O_CLOEXEC */
  if (fd < 0) {
    if (errno == ESRCH) {
      CHECK(env, napi_get_null(env, &result));
      return result;
    }
    throw_errno(env, errno, "pidfd_open");
    return NULL;
  }
  w = calloc(1, sizeof *w);
  if (!w) {
    close(fd);
    throw_errno(env, ENOMEM, "watchExit");
    return NULL;
  }
  w->fd = fd;
  w->env = env;
  w->inst = inst;
  w->poll.data = w;
  r = uv_poll_init(loop, &w->poll, fd);
  if (r < 0) {
    close(fd);
    free(w);
    throw_uv(env, r, "uv_poll_init");
    return NULL;
  }
  r = uv_poll_start(&w->poll, UV_READABLE, on_poll);
  if (r < 0) {
    w->refs = 1;
    w->next = inst->head; /* stop_watch unlinks it */
    if (inst->head) inst->head->prev = w;
    inst->head = w;
    stop_watch(w);
    throw_uv(env, r, "uv_poll_start");
    return NULL;
  }
  if (!keep_alive) uv_unref((uv_handle_t *)&w->poll);
  w->active = 1;
  w->refs = 1;
  w->next = inst->head;
  if (inst->head) inst->head->prev = w;
  inst->head = w;

  if (napi_create_reference(env, argv[1], 1, &w->callback) != napi_ok ||
      napi_create_string_utf8(env, "proclaunch.watchExit", NAPI_AUTO_LENGTH, &resource_name) != napi_ok ||
      napi_async_init(env, NULL, resource_name, &w->context) != napi_ok ||
      napi_create_external(env, w, finalize_external, NULL, &result) != napi_ok) {
    stop_watch(w);
    drop_js(w);
    napi_throw_error(env, NULL, "watchExit: out of memory");
    return NULL;
  }
  w->refs++; /* the external's */
  return result;
}

/* The watch behind a handle from watchExit (argv[0]), or NULL with a TypeError thrown. */
static watch_t *get_watch(napi_env env, size_t argc, napi_value *argv, const char *usage) {
  napi_valuetype type;
  void *w = NULL;
  if (argc < 1 || napi_typeof(env, argv[0], &type) != napi_ok || type != napi_external ||
      napi_get_value_external(env, argv[0], &w) != napi_ok || !w) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", usage);
    return NULL;
  }
  return w;
}

static napi_value cancel(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  watch_t *w;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (!(w = get_watch(env, argc, argv, "cancel(handle): not a handle from watchExit"))) return NULL;
  int was_active = w->active;
  if (was_active) {
    stop_watch(w);
    drop_js(w);
  }
  CHECK(env, napi_get_boolean(env, was_active, &result));
  return result;
}

static napi_value set_ref(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  bool keep_alive;
  watch_t *w;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (!(w = get_watch(env, argc, argv, "setRef(handle, keepAlive): not a handle from watchExit"))) return NULL;
  if (argc < 2) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "setRef(handle, keepAlive)");
    return NULL;
  }
  CHECK(env, napi_get_value_bool(env, argv[1], &keep_alive));
  if (w->active) {
    if (keep_alive) uv_ref((uv_handle_t *)&w->poll);
    else uv_unref((uv_handle_t *)&w->poll);
  }
  return NULL;
}

static napi_value set_child_subreaper(napi_env env, napi_callback_info info) {
  (void)info;
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) throw_errno(env, errno, "prctl(PR_SET_CHILD_SUBREAPER)");
  return NULL;
}

static napi_value is_child_subreaper(napi_env env, napi_callback_info info) {
  napi_value result;
  int value = 0;
  (void)info;
  if (prctl(PR_GET_CHILD_SUBREAPER, &value, 0, 0, 0) != 0) {
    throw_errno(env, errno, "prctl(PR_GET_CHILD_SUBREAPER)");
    return NULL;
  }
  CHECK(env, napi_get_boolean(env, value != 0, &result));
  return result;
}

static napi_value reap(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result, code, sig;
  napi_valuetype type;
  pid_t pid, r;
  int status = 0;
  bool strict = false;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "reap(pid)");
    return NULL;
  }
  if (!get_pid(env, argv[0], &pid)) return NULL; /* never 0 or negative: those wait for groups */
  if (argc > 1) {
    CHECK(env, napi_typeof(env, argv[1], &type));
    if (type != napi_undefined) CHECK(env, napi_get_value_bool(env, argv[1], &strict));
  }
  do r = waitpid(pid, &status, WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r < 0 && errno == ECHILD && strict) {
    CHECK(env, napi_get_boolean(env, false, &result));
    return result;
  }
  if (r == 0 || (r < 0 && errno == ECHILD)) {
    CHECK(env, napi_get_null(env, &result));
    return result;
  }
  if (r < 0) {
    throw_errno(env, errno, "waitpid");
    return NULL;
  }
  CHECK(env, napi_create_object(env, &result));
  if (WIFEXITED(status)) {
    CHECK(env, napi_create_int32(env, WEXITSTATUS(status), &code));
    CHECK(env, napi_get_null(env, &sig));
  } else {
    CHECK(env, napi_get_null(env, &code));
    CHECK(env, napi_create_int32(env, WIFSIGNALED(status) ? WTERMSIG(status) : 0, &sig));
  }
  CHECK(env, napi_set_named_property(env, result, "code", code));
  CHECK(env, napi_set_named_property(env, result, "signal", sig));
  return result;
}


/* Environment teardown (process exit, a worker ending): close what is still watched. */
static void on_teardown(napi_async_cleanup_hook_handle hook, void *data) {
  instance_t *inst = data;
  (void)hook;
  inst->tearing_down = 1;
  while (inst->head) {
    watch_t *w = inst->head;
    stop_watch(w);
    drop_js(w);
  }
  finish_teardown(inst);
}

NAPI_MODULE_INIT() {
  instance_t *inst = calloc(1, sizeof *inst);
  if (!inst) {
    napi_throw_error(env, NULL, "proclaunch_native: out of memory");
    return NULL;
  }
  if (napi_add_async_cleanup_hook(env, on_teardown, inst, &inst->hook) != napi_ok) {
    free(inst);
    napi_throw_error(env, NULL, "proclaunch_native: napi_add_async_cleanup_hook failed");
    return NULL;
  }
  napi_property_descriptor properties[] = {
      {"watchExit", NULL, watch_exit, NULL, NULL, NULL, napi_enumerable, inst},
      {"cancel", NULL, cancel, NULL, NULL, NULL, napi_enumerable, inst},
      {"setRef", NULL, set_ref, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setChildSubreaper", NULL, set_child_subreaper, NULL, NULL, NULL, napi_enumerable, NULL},
      {"isChildSubreaper", NULL, is_child_subreaper, NULL, NULL, NULL, napi_enumerable, NULL},
      {"reap", NULL, reap, NULL, NULL, NULL, napi_enumerable, NULL},
      NOTIFY_PROPERTIES
      PEERCRED_PROPERTIES
      SPAWN_PROPERTIES
  };
  CHECK(env, napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties));
  CHECK(env, output_init(env, exports)); /* bounded service output: native/output.c */
  return exports;
}
