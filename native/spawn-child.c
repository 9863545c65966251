/* Starting a service without forking Node (Node-API, Linux, glibc >= 2.29):
 *
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
#include <sys/types.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

#include "extra-fds.h"
#include "napi-util.h"
#include "spawn-child.h"

#if HAVE_SPAWN && !HAVE_ADDCLOSEFROM
#include <dirent.h>
#endif

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

napi_value proclaunch_spawn(napi_env env, napi_callback_info info) {
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
