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
 *   spawn(file, argv, envp, cwd, stdinFd, stdoutFd, stderrFd[, extraFds]) -> pid   (glibc >= 2.29 only)
 *       posix_spawn(3): glibc starts the child with clone(CLONE_VM |
 *       CLONE_VFORK), so nothing of this (big) process is copied, unlike
 *       libuv's fork(). The child gets its own session (setsid, as `detached`),
 *       an empty signal mask and every signal at its default disposition (Node
 *       ignores SIGPIPE), stdin, stdout and stderr dup'ed from the given fds
 *       (-1: /dev/null; O_NONBLOCK cleared, as libuv does), extraFds
       [target, source, ...] dup'ed at their targets (native/extra-fds.c), the working
 *       directory `cwd` (null: ours), and no other fd (closed from 3 up, but the targets). `file` is executed as given: no PATH search, no /bin/sh
 *       fallback for ENOEXEC (the caller does both). Returns once the child has
 *       exec'd; throws an Error with .code (ENOENT, EACCES, ENOEXEC, E2BIG...)
 *       and .errno (negative, as in Node's errors) when it could not, the
 *       failed child already reaped. The child is ours to reap: libuv does not
 *       know it (its SIGCHLD handler waits only for the pids of its own
 *       handles), so watch it (watchExit) and reap(pid) it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
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

#include "extra-fds.h"
#include "notify.h"
#include "peercred.h"
#include "output.h"

/* posix_spawn with POSIX_SPAWN_SETSID (2.26) and addchdir_np (2.29); addclosefrom_np is 2.34. */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 29))
#define HAVE_SPAWN 1
#else
#define HAVE_SPAWN 0
#endif
#ifndef HAVE_ADDCLOSEFROM /* -DHAVE_ADDCLOSEFROM=0 tests the other way */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
#define HAVE_ADDCLOSEFROM 1
#else
#define HAVE_ADDCLOSEFROM 0
#endif
#endif
#if !HAVE_ADDCLOSEFROM
#include <dirent.h>
#endif

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434 /* the same number on every architecture */
#endif
#ifndef PR_SET_CHILD_SUBREAPER
#define PR_SET_CHILD_SUBREAPER 36
#endif
#ifndef PR_GET_CHILD_SUBREAPER
#define PR_GET_CHILD_SUBREAPER 37
#endif

#define CHECK(env, call)                                                                  \
  do {                                                                                    \
    if ((call) != napi_ok) {                                                              \
      const napi_extended_error_info *info_ = NULL;                                       \
      bool pending_ = false;                                                              \
      napi_get_last_error_info((env), &info_);                                            \
      napi_is_exception_pending((env), &pending_);                                        \
      if (!pending_)                                                                      \
        napi_throw_error((env), NULL,                                                     \
                         info_ && info_->error_message ? info_->error_message : #call);   \
      return NULL;                                                                        \
    }                                                                                     \
  } while (0)

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

static void throw_errno(napi_env env, int err, const char *what) {
  char message[160];
  snprintf(message, sizeof message, "%s: %s", what, strerror(err));
  napi_throw_error(env, uv_err_name(-err), message);
}

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

#if HAVE_SPAWN
/* A JS string as a malloc'ed C string (free it), or NULL with a TypeError thrown. */
static char *get_string(napi_env env, napi_value value, const char *what) {
  napi_valuetype type;
  size_t len;
  char *text;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_string ||
      napi_get_value_string_utf8(env, value, NULL, 0, &len) != napi_ok) {
    char message[96];
    snprintf(message, sizeof message, "%s must be a string", what);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
    return NULL;
  }
  text = malloc(len + 1);
  if (!text) {
    throw_errno(env, ENOMEM, "spawn");
    return NULL;
  }
  napi_get_value_string_utf8(env, value, text, len + 1, &len);
  return text;
}

/*
 * A JS array of strings as a NULL-terminated char *[] in one malloc'ed block
 * (the pointers, then the bytes; free it), or NULL with an error thrown.
 */
static char **get_strings(napi_env env, napi_value array, const char *what) {
  bool is_array = false;
  uint32_t n = 0, i;
  size_t total = 0, len;
  napi_value *values;
  size_t *lens;
  napi_valuetype type;
  char **out, *p;
  char message[96];
  if (napi_is_array(env, array, &is_array) != napi_ok || !is_array || napi_get_array_length(env, array, &n) != napi_ok) {
    snprintf(message, sizeof message, "%s must be an array of strings", what);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
    return NULL;
  }
  values = malloc((size_t)n * (sizeof *values + sizeof *lens) + 1);
  if (!values) {
    throw_errno(env, ENOMEM, "spawn");
    return NULL;
  }
  lens = (size_t *)(values + n);
  for (i = 0; i < n; i++) {
    if (napi_get_element(env, array, i, &values[i]) != napi_ok || napi_typeof(env, values[i], &type) != napi_ok ||
        type != napi_string || napi_get_value_string_utf8(env, values[i], NULL, 0, &lens[i]) != napi_ok) {
      free(values);
      snprintf(message, sizeof message, "%s must be an array of strings", what);
      napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
      return NULL;
    }
    total += lens[i] + 1;
  }
  out = malloc(((size_t)n + 1) * sizeof *out + total);
  if (!out) {
    free(values);
    throw_errno(env, ENOMEM, "spawn");
    return NULL;
  }
  p = (char *)(out + n + 1);
  for (i = 0; i < n; i++) {
    out[i] = p;
    napi_get_value_string_utf8(env, values[i], p, lens[i] + 1, &len);
    p += len + 1;
  }
  out[n] = NULL;
  free(values);
  return out;
}

static int get_fd(napi_env env, napi_value value, int *fd) {
  napi_valuetype type;
  int32_t number;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_number ||
      napi_get_value_int32(env, value, &number) != napi_ok || number < -1) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "stdin, stdout and stderr must be fds (integers >= 0) or -1");
    return 0;
  }
  *fd = number;
  return 1;
}

/* libuv clears O_NONBLOCK on the fds it gives a child as its stdio (on the shared file description): so do we. */
static int make_blocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return errno;
  if ((flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) return errno;
  return 0;
}

/* In the child, after the dup2s: close every fd above 2 but the extra fds' targets. */
static int add_close_others(posix_spawn_file_actions_t *actions, const extra_fds_t *extra) {
#if HAVE_ADDCLOSEFROM
  int fd, r, top = extra_fds_top(extra);
  for (fd = 3; fd <= top; fd++) /* glibc's child ignores EBADF here: most are not open */
    if (!extra_fds_is_target(extra, fd) && (r = posix_spawn_file_actions_addclose(actions, fd)) != 0) return r;
  return posix_spawn_file_actions_addclosefrom_np(actions, top + 1); /* close_range(2) in the child */
#else
  /* Every fd of ours above 2 without FD_CLOEXEC, as listed now (those with it close at exec anyway). */
  DIR *dir = opendir("/proc/self/fd");
  struct dirent *entry;
  int r = 0;
  if (!dir) return 0; /* no /proc: rely on FD_CLOEXEC, as libuv does */
  while (r == 0 && (entry = readdir(dir)) != NULL) {
    char *end;
    long fd = strtol(entry->d_name, &end, 10);
    int flags;
    if (*end || end == entry->d_name || fd < 3 || fd == dirfd(dir) || extra_fds_is_target(extra, (int)fd)) continue;
    flags = fcntl((int)fd, F_GETFD);
    if (flags >= 0 && !(flags & FD_CLOEXEC)) r = posix_spawn_file_actions_addclose(actions, (int)fd);
  }
  closedir(dir);
  return r;
#endif
}

/*
 * Our child must stay a zombie until reap() reads its status. Not so when
 * SIGCHLD is ignored or SA_NOCLDWAIT is set: the kernel then reaps children at
 * once. Node resets an inherited SIG_IGN at start-up, and libuv installs its
 * SIGCHLD handler at its first spawn, which we may never call: so, in case
 * native code in this process (or an embedder) set either, undo it here. A
 * handler someone installed is left alone.
 */
static void keep_zombies(void) {
  struct sigaction sa;
  if (sigaction(SIGCHLD, NULL, &sa) != 0) return;
  if ((sa.sa_flags & SA_SIGINFO) || (sa.sa_handler != SIG_IGN && sa.sa_handler != SIG_DFL)) return;
  if (sa.sa_handler == SIG_DFL && !(sa.sa_flags & SA_NOCLDWAIT)) return;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  sigaction(SIGCHLD, &sa, NULL);
}

/* An Error as Node's child_process makes them: .code 'ENOENT', .errno -2, .syscall. */
static void throw_spawn_error(napi_env env, int err, const char *file) {
  napi_value error, code, message, number, syscall;
  char text[512];
  snprintf(text, sizeof text, "posix_spawn %s: %s", file, strerror(err));
  if (napi_create_string_utf8(env, uv_err_name(-err), NAPI_AUTO_LENGTH, &code) != napi_ok ||
      napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &message) != napi_ok ||
      napi_create_error(env, code, message, &error) != napi_ok || napi_create_int32(env, -err, &number) != napi_ok ||
      napi_set_named_property(env, error, "errno", number) != napi_ok ||
      napi_create_string_utf8(env, "posix_spawn", NAPI_AUTO_LENGTH, &syscall) != napi_ok ||
      napi_set_named_property(env, error, "syscall", syscall) != napi_ok) {
    throw_errno(env, err, "posix_spawn");
    return;
  }
  napi_throw(env, error);
}

static napi_value spawn_process(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value args[8], result = NULL;
  napi_valuetype type;
  char *file = NULL, *cwd = NULL, **argv = NULL, **envp = NULL;
  int given[3], use[3], moved[3] = {-1, -1, -1};
  extra_fds_t extra = {0};
  int i, j, r = 0;
  int have_attr = 0, have_actions = 0;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  sigset_t none, all;
  pid_t pid = 0;

  CHECK(env, napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  if (argc < 7) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "spawn(file, argv, envp, cwd, stdinFd, stdoutFd, stderrFd)");
    return NULL;
  }
  if (!(file = get_string(env, args[0], "file")) || !(argv = get_strings(env, args[1], "argv")) ||
      !(envp = get_strings(env, args[2], "envp")))
    goto done;
  if (!argv[0]) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "argv must not be empty");
    goto done;
  }
  if (napi_typeof(env, args[3], &type) != napi_ok) goto done;
  if (type != napi_null && type != napi_undefined && !(cwd = get_string(env, args[3], "cwd"))) goto done;
  for (i = 0; i < 3; i++)
    if (!get_fd(env, args[4 + i], &given[i])) goto done;
  if (argc > 7 && !extra_fds_get(env, args[7], &extra)) goto done;

  /*
   * The child's 0, 1 and 2 are replaced in turn: a source among them could be
   * replaced before it is dup'ed (stdout given fd 2...). Sources below 3 are
   * first copied above 2 here (as libuv does in its child); the same fd
   * given twice is copied once.
   */
  for (i = 0; i < 3; i++) {
    use[i] = given[i];
    if (given[i] < 0 || given[i] >= 3) continue;
    for (j = 0; j < i; j++)
      if (given[j] == given[i]) use[i] = use[j];
    if (use[i] != given[i]) continue;
    if ((moved[i] = fcntl(given[i], F_DUPFD_CLOEXEC, 3)) < 0) {
      r = errno;
      goto failed;
    }
    use[i] = moved[i];
  }
  for (i = 0; i < 3; i++)
    if (use[i] >= 0 && (r = make_blocking(use[i])) != 0) goto failed; /* EBADF for a bad fd, too */
  if ((r = extra_fds_move(&extra)) != 0) goto failed;

  sigemptyset(&none);
  /* Every signal to SIG_DFL. Not sigfillset: it leaves out glibc's internal signals (32 and 33), and
     glibc's posix_spawn then sets those to SIG_IGN in the child, which exec keeps. A signal set is a
     bit mask; the child skips what sigaction refuses (SIGKILL, SIGSTOP). */
  memset(&all, 0xff, sizeof all);
  if ((r = posix_spawnattr_init(&attr)) != 0) goto failed;
  have_attr = 1;
  if ((r = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) != 0 ||
      (r = posix_spawnattr_setsigmask(&attr, &none)) != 0 || (r = posix_spawnattr_setsigdefault(&attr, &all)) != 0)
    goto failed;
  if ((r = posix_spawn_file_actions_init(&actions)) != 0) goto failed;
  have_actions = 1;
  /* In this order, in the child (after setsid and the signals): */
  for (i = 0; i < 3; i++) {
    if (use[i] < 0) r = posix_spawn_file_actions_addopen(&actions, i, "/dev/null", i == 0 ? O_RDONLY : O_RDWR, 0);
    else r = posix_spawn_file_actions_adddup2(&actions, use[i], i);
    if (r != 0) goto failed;
  }
  if ((r = extra_fds_add_dup2s(&extra, &actions)) != 0) goto failed; /* after 0-2: a target may be a source of those */
  if ((cwd && (r = posix_spawn_file_actions_addchdir_np(&actions, cwd)) != 0) || (r = add_close_others(&actions, &extra)) != 0)
    goto failed;
  keep_zombies();
  /* Returns once the child has exec'd, or with the errno of what failed in it (that child reaped). */
  r = posix_spawn(&pid, file, &actions, &attr, argv, envp);

failed:
  if (r != 0) throw_spawn_error(env, r, file);
  else napi_create_int32(env, pid, &result);
done:
  if (have_actions) posix_spawn_file_actions_destroy(&actions);
  if (have_attr) posix_spawnattr_destroy(&attr);
  for (i = 0; i < 3; i++)
    if (moved[i] >= 0) close(moved[i]);
  extra_fds_close(&extra);
  free(file);
  free(cwd);
  free(argv);
  free(envp);
  return result;
}
#endif /* HAVE_SPAWN */

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
#if HAVE_SPAWN
      {"spawn", NULL, spawn_process, NULL, NULL, NULL, napi_enumerable, NULL},
#endif
  };
  CHECK(env, napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties));
  CHECK(env, output_init(env, exports)); /* bounded service output: native/output.c */
  return exports;
}
