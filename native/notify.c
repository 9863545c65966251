/* The receiving end of systemd's sd_notify protocol (Node has no Unix datagram sockets):
 *
 *   notifyOpen(name, callback) -> handle
 *       An AF_UNIX SOCK_DGRAM socket bound to the abstract name "\0" + name
 *       (1..107 bytes, no NUL; sd_notify reads NOTIFY_SOCKET=@name), with
 *       SO_PASSCRED, polled by the event loop (uv_poll_t). For each datagram:
 *       callback(data, pid, uid, gid, size, truncated), `data` a Buffer, or
 *       null when the datagram was larger than the 4 KiB buffer (`truncated`
 *       true, `size` its real length): such a datagram is never half-read.
 *       pid, uid, gid are the sender's kernel-checked credentials
 *       (SCM_CREDENTIALS), 0/-1/-1 if none came. File descriptors sent along
 *       (sd_notify_barrier's BARRIER=1, FDSTORE=1) are closed once the
 *       callback returns: that answers a barrier, and we store no fds.
 *       Throws an Error with .code (EADDRINUSE...) when it cannot. The handle
 *       does not keep the event loop alive.
 *   notifyClose(handle) -> boolean   close the socket at once (false if already closed)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

#include "notify.h"

/* Marks our externals: notifyClose must not take a watchExit handle for one of ours. */
static const napi_type_tag notify_tag = {0x70726f636c61756eULL, 0x6e6f74696679736bULL};

/* systemd's NOTIFY_BUFFER_MAX (PIPE_BUF): a notification is a few short lines. */
#define NOTIFY_BUFFER 4096
/* Datagrams read per wakeup: a flooding sender cannot starve the loop (uv_poll is level-triggered). */
#define NOTIFY_BATCH 64
/* SCM_MAX_FD: the most fds one message can carry. */
#define NOTIFY_MAX_FDS 253

typedef struct notify {
  uv_poll_t poll;
  int fd;
  int open;
  int refs; /* the uv handle (until its close callback) + the JS external (until finalized) */
  napi_env env;
  napi_ref callback;
  napi_async_context context;
  napi_async_cleanup_hook_handle hook;
} notify_t;

static void notify_throw(napi_env env, int err, const char *what) {
  char message[160];
  snprintf(message, sizeof message, "%s: %s", what, strerror(err));
  napi_throw_error(env, uv_err_name(-err), message);
}

static void notify_release(notify_t *s) {
  if (--s->refs == 0) free(s);
}

static void notify_drop_js(notify_t *s) {
  if (s->callback) napi_delete_reference(s->env, s->callback);
  if (s->context) napi_async_destroy(s->env, s->context);
  s->callback = NULL;
  s->context = NULL;
}

static void notify_on_close(uv_handle_t *handle) {
  notify_t *s = handle->data;
  /* Also what tells an environment teardown that we are done. */
  if (s->hook) napi_remove_async_cleanup_hook(s->hook);
  notify_release(s);
}

static void notify_stop(notify_t *s) {
  s->open = 0;
  uv_poll_stop(&s->poll); /* out of epoll before the fd is closed */
  close(s->fd);
  s->fd = -1;
  notify_drop_js(s);
  uv_close((uv_handle_t *)&s->poll, notify_on_close);
}

static void notify_on_teardown(napi_async_cleanup_hook_handle hook, void *data) {
  notify_t *s = data;
  (void)hook;
  if (s->open) notify_stop(s); /* else its close callback is pending and removes the hook */
}

/* The sender's credentials, and every fd that came with a message (closed by notify_close_fds). */
static void notify_control(struct msghdr *msg, struct ucred *cred, int *fds, size_t *nfds) {
  struct cmsghdr *c;
  for (c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
    if (c->cmsg_level != SOL_SOCKET) continue;
    if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len == CMSG_LEN(sizeof *cred)) {
      memcpy(cred, CMSG_DATA(c), sizeof *cred);
    } else if (c->cmsg_type == SCM_RIGHTS) {
      size_t i, n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (i = 0; i < n && *nfds < NOTIFY_MAX_FDS; i++) memcpy(&fds[(*nfds)++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
    }
  }
}

static void notify_close_fds(const int *fds, size_t nfds) {
  size_t i;
  for (i = 0; i < nfds; i++) close(fds[i]);
}

/* One datagram to JS. Returns 0 when nothing more should be read now. */
static int notify_deliver(notify_t *s, const char *buf, ssize_t n, int truncated, struct ucred *cred) {
  napi_env env = s->env;
  napi_handle_scope scope;
  napi_value callback, recv, argv[6];
  int ok = 1;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return 0;
  if (napi_get_reference_value(env, s->callback, &callback) != napi_ok || !callback ||
      napi_get_global(env, &recv) != napi_ok) {
    napi_close_handle_scope(env, scope);
    return 0;
  }
  if (truncated) napi_get_null(env, &argv[0]);
  else if (napi_create_buffer_copy(env, (size_t)n, buf, NULL, &argv[0]) != napi_ok) ok = 0;
  if (ok && (napi_create_int32(env, cred->pid, &argv[1]) != napi_ok || napi_create_int32(env, (int32_t)cred->uid, &argv[2]) != napi_ok ||
             napi_create_int32(env, (int32_t)cred->gid, &argv[3]) != napi_ok || napi_create_double(env, (double)n, &argv[4]) != napi_ok ||
             napi_get_boolean(env, truncated, &argv[5]) != napi_ok))
    ok = 0;
  if (ok && napi_make_callback(env, s->context, recv, callback, 6, argv, NULL) == napi_pending_exception) {
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_fatal_exception(env, error); /* -> process 'uncaughtException' */
  }
  napi_close_handle_scope(env, scope);
  return ok;
}

static void notify_on_poll(uv_poll_t *handle, int status, int events) {
  notify_t *s = handle->data;
  char buf[NOTIFY_BUFFER];
  union {
    struct cmsghdr align;
    char space[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * NOTIFY_MAX_FDS)];
  } control;
  int i, r;
  (void)status;
  (void)events;
  for (i = 0; i < NOTIFY_BATCH && s->open; i++) {
    struct iovec iov = {buf, sizeof buf};
    struct msghdr msg;
    struct ucred cred = {0, (uid_t)-1, (gid_t)-1};
    int fds[NOTIFY_MAX_FDS];
    size_t nfds = 0;
    ssize_t n;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = &control;
    msg.msg_controllen = sizeof control;
    /* MSG_TRUNC: the return value is the datagram's real length, so an oversized one is known as such. */
    do n = recvmsg(s->fd, &msg, MSG_DONTWAIT | MSG_TRUNC | MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0) return; /* EAGAIN: drained; anything else: poll again later */
    notify_control(&msg, &cred, fds, &nfds);
    /* The fds are closed once the datagram is handled (as systemd does): a barrier's sender
     * (systemd-notify) is still alive, and traceable to the service, while JS looks at it. */
    r = notify_deliver(s, buf, n, (msg.msg_flags & MSG_TRUNC) || n > (ssize_t)sizeof buf, &cred);
    notify_close_fds(fds, nfds);
    if (!r) return;
  }
}

static void notify_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  notify_release(data);
}

napi_value proclaunch_notify_open(napi_env env, napi_callback_info info) {
  size_t argc = 2, len = 0;
  napi_value argv[2], result, resource;
  napi_valuetype type;
  struct sockaddr_un addr;
  uv_loop_t *loop;
  notify_t *s;
  int fd, one = 1, r;

  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 2 || napi_typeof(env, argv[0], &type) != napi_ok || type != napi_string ||
      napi_get_value_string_utf8(env, argv[0], NULL, 0, &len) != napi_ok || len < 1 || len > sizeof addr.sun_path - 1) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "notifyOpen(name, callback): name must be a string of 1 to 107 bytes");
    return NULL;
  }
  if (napi_typeof(env, argv[1], &type) != napi_ok || type != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "notifyOpen(name, callback): callback must be a function");
    return NULL;
  }
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  napi_get_value_string_utf8(env, argv[0], addr.sun_path + 1, sizeof addr.sun_path - 1, &len);
  if (strlen(addr.sun_path + 1) != len) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "notifyOpen: name must not contain NUL");
    return NULL;
  }
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return NULL;

  fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    notify_throw(env, errno, "socket(AF_UNIX, SOCK_DGRAM)");
    return NULL;
  }
  /* An abstract name's length is part of it: exactly what sd_notify computes (no trailing NUL). */
  if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0 ||
      bind(fd, (struct sockaddr *)&addr, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len)) < 0) {
    int err = errno;
    close(fd);
    notify_throw(env, err, "bind of the notify socket");
    return NULL;
  }
  s = calloc(1, sizeof *s);
  if (!s) {
    close(fd);
    notify_throw(env, ENOMEM, "notifyOpen");
    return NULL;
  }
  s->fd = fd;
  s->env = env;
  s->poll.data = s;
  if ((r = uv_poll_init(loop, &s->poll, fd)) < 0) {
    close(fd);
    free(s);
    napi_throw_error(env, uv_err_name(r), uv_strerror(r));
    return NULL;
  }
  s->open = 1;
  s->refs = 1; /* the uv handle's */
  if (napi_add_async_cleanup_hook(env, notify_on_teardown, s, &s->hook) != napi_ok) {
    s->hook = NULL;
    notify_stop(s);
    napi_throw_error(env, NULL, "notifyOpen: napi_add_async_cleanup_hook failed");
    return NULL;
  }
  if ((r = uv_poll_start(&s->poll, UV_READABLE, notify_on_poll)) < 0) {
    notify_stop(s);
    napi_throw_error(env, uv_err_name(r), uv_strerror(r));
    return NULL;
  }
  uv_unref((uv_handle_t *)&s->poll);
  if (napi_create_reference(env, argv[1], 1, &s->callback) != napi_ok ||
      napi_create_string_utf8(env, "proclaunch.notify", NAPI_AUTO_LENGTH, &resource) != napi_ok ||
      napi_async_init(env, NULL, resource, &s->context) != napi_ok ||
      napi_create_external(env, s, notify_finalize, NULL, &result) != napi_ok ||
      napi_type_tag_object(env, result, &notify_tag) != napi_ok) {
    notify_stop(s);
    napi_throw_error(env, NULL, "notifyOpen: out of memory");
    return NULL;
  }
  s->refs++; /* the external's */
  return result;
}

napi_value proclaunch_notify_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  napi_valuetype type;
  void *data = NULL;
  notify_t *s;
  bool ours = false;
  int was_open;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 1 || napi_typeof(env, argv[0], &type) != napi_ok || type != napi_external ||
      napi_check_object_type_tag(env, argv[0], &notify_tag, &ours) != napi_ok || !ours ||
      napi_get_value_external(env, argv[0], &data) != napi_ok || !data) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "notifyClose(handle): not a handle from notifyOpen");
    return NULL;
  }
  s = data;
  was_open = s->open;
  if (was_open) notify_stop(s);
  napi_get_boolean(env, was_open, &result);
  return result;
}
